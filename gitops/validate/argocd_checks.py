"""Argo CD checks (ARG rules) over argocd/: source paths, project destinations, single ownership,
and acknowledged removals from prod (compared with a git base ref)."""
from __future__ import annotations

import os
import re
import subprocess
from collections import defaultdict
from functools import lru_cache
from pathlib import Path
from typing import Iterator

from ..errors import InputError, Problem
from ..inputs.model import Platform
from ..ops.urls import redact
from .documents import NOT_MANIFESTS, Doc, manifest_files, parse_documents
from .findings import Hit
from .k8s import dig

ARGO_GROUP = "argoproj.io"
CLUSTER_SCOPED = frozenset({
    "Namespace", "Node", "PersistentVolume", "StorageClass", "PriorityClass", "IngressClass", "RuntimeClass",
    "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition", "APIService", "CSIDriver",
    "ValidatingWebhookConfiguration", "MutatingWebhookConfiguration", "ClusterSecretStore", "ClusterIssuer",
    "ClusterExternalSecret",
})


def argo_glob(pattern: str, text: str) -> bool:
    """Argo CD's glob (gobwas/glob without separators): * any run, ? one char, [..] class, {a,b} alternatives."""
    return _glob_regex(pattern).fullmatch(text or "") is not None


@lru_cache(maxsize=4096)
def _glob_regex(pattern: str) -> "re.Pattern":
    out, i = "", 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "*":
            out += ".*"
        elif ch == "?":
            out += "."
        elif ch == "[":
            end = pattern.find("]", i + 1)
            if end == -1:
                out += re.escape(ch)
            else:
                body = pattern[i + 1:end]
                out += "[" + ("^" + body[1:] if body.startswith("!") else body) + "]"
                i = end
        elif ch == "{":
            end = pattern.find("}", i + 1)
            if end == -1:
                out += re.escape(ch)
            else:
                out += "(?:" + "|".join(re.escape(a) for a in pattern[i + 1:end].split(",")) + ")"
                i = end
        else:
            out += re.escape(ch)
        i += 1
    return re.compile(out)


def destination_permitted(destinations: list, server: str, name: str, namespace: str) -> bool:
    """Argo CD's AppProject destination rule: allow entries match (server or name) and namespace; '!' entries deny."""
    allowed = False
    for d in destinations or []:
        if not isinstance(d, dict):
            continue
        d_ns, d_server, d_name = d.get("namespace", ""), d.get("server", ""), d.get("name", "")
        deny = d_ns.startswith("!") or d_server.startswith("!") or d_name.startswith("!")
        ns_ok = argo_glob(d_ns.lstrip("!"), namespace)
        server_ok = bool(d_server) and argo_glob(d_server.lstrip("!"), server)
        name_ok = bool(d_name) and argo_glob(d_name.lstrip("!"), name)
        if deny:
            if (server_ok or name_ok) and ns_ok:
                return False
            continue
        if (server_ok or name_ok) and ns_ok:
            allowed = True
    return allowed


def _sources(app: Doc) -> list[tuple[tuple, dict]]:
    spec = app.data.get("spec") or {}
    out = []
    if isinstance(spec.get("source"), dict):
        out.append((("spec", "source"), spec["source"]))
    for i, s in enumerate(spec.get("sources") or []):
        if isinstance(s, dict):
            out.append((("spec", "sources", i), s))
    return out


def _norm_url(url: str) -> str:
    url = (url or "").strip().rstrip("/")
    url = re.sub(r"\.git$", "", url)
    url = re.sub(r"^git@([^:]+):", r"https://\1/", url)
    url = re.sub(r"^(ssh|git)://(git@)?", "https://", url)
    return url.lower()


def _origin_url(root: Path) -> str | None:
    try:
        proc = subprocess.run(["git", "-C", str(root), "remote", "get-url", "origin"], capture_output=True, text=True, timeout=10)
    except OSError:
        return None
    # A CI checkout's origin may carry a token (https://x-access-token:...@github.com/...): compare without it.
    return redact(proc.stdout.strip()) if proc.returncode == 0 else None


def _path_source(src: dict, repo_urls: set[str]) -> str | None:
    """The repo-relative path of a git path source in this repository, else None."""
    if src.get("chart") or not src.get("path"):
        return None
    path = str(src["path"]).strip()
    if "{{" in path:
        return None
    path = path.strip("/")
    if path.startswith("./"):
        path = path[2:]
    # Only this repository's paths can be checked here (another git repository may have any layout).
    if _norm_url(src.get("repoURL", "")) in repo_urls:
        return path or "."
    return None


def _manifests_under(folder: Path, recurse: bool) -> tuple[list[Path], list[str]]:
    """(files Argo CD would apply from ``folder``, kustomization resources that do not exist).

    With a kustomization, its file resources (remote and folder resources are not followed);
    else the folder's YAML files (subfolders only with directory.recurse)."""
    if not folder.is_dir():
        return [], []
    for name in NOT_MANIFESTS:
        kfile = folder / name
        if kfile.is_file():
            try:
                parsed = parse_documents(kfile.read_text(encoding="utf-8"), str(kfile))
            except (InputError, OSError, UnicodeDecodeError):
                return [], []
            resources = (parsed[0][1] or {}).get("resources") if parsed and isinstance(parsed[0][1], dict) else None
            entries = [r for r in resources or [] if isinstance(r, str) and "://" not in r]
            missing = [r for r in entries if not (folder / r).exists()]
            return sorted(folder / r for r in entries if (folder / r).is_file()), missing
    if recurse:
        return manifest_files(folder), []
    with os.scandir(folder) as entries:
        names = sorted(e.name for e in entries if e.is_file() and e.name.endswith((".yaml", ".yml", ".json"))
                       and e.name not in NOT_MANIFESTS and not e.name.startswith("."))
    return [folder / n for n in names], []


def check_argocd(root: Path, platform: Platform, argo_docs: list[Doc], dist_docs: list[Doc]) -> Iterator[Hit]:
    apps = [d for d in argo_docs if d.kind == "Application" and d.group == ARGO_GROUP]
    # Every environment is its own cluster with its own Argo CD: names are scoped by environment.
    projects = {(d.env, d.name): d for d in argo_docs if d.kind == "AppProject" and d.group == ARGO_GROUP}
    repo_urls = {_norm_url(platform.repo_url)}
    origin = _origin_url(root)
    if origin:
        repo_urls.add(_norm_url(origin))
    by_file: dict[str, list[Doc]] = defaultdict(list)
    for d in dist_docs + argo_docs:
        by_file[d.file].append(d)

    owners: dict[tuple, list[tuple[Doc, Doc]]] = defaultdict(list)   # resource -> [(app, resource doc)]
    for app in apps:
        spec = app.data.get("spec") or {}
        dest = spec.get("destination") or {}
        project = _project(app, projects)
        owned: list[Doc] = []
        for spath, src in _sources(app):
            rel = _path_source(src, repo_urls)
            if rel is None:
                continue
            folder = root / rel
            recurse = bool(dig(src, "directory", "recurse"))
            if not folder.exists():
                yield Hit("ARG001", app, spath + ("path",), f"Application {app.name} syncs {rel}, which does not exist in the repository",
                          "fix spec.source.path (relative to the repository root), or generate the folder (gitops synth)")
                continue
            files, missing = _manifests_under(folder, recurse)
            tooling = (folder / "Chart.yaml").is_file()
            for entry in missing:
                yield Hit("ARG001", app, spath + ("path",), f"Application {app.name} syncs {rel}, whose kustomization lists "
                          f"{entry}, which does not exist (kustomize build fails, nothing syncs)",
                          f"remove {entry} from {rel}/kustomization.yaml or restore the file")
            if not files and not tooling:
                yield Hit("ARG001", app, spath + ("path",), f"Application {app.name} syncs {rel}, which holds no manifests"
                          + ("" if recurse else " (directory.recurse is off: subfolders are not read)"),
                          "point the path at the folder with the YAML files" + ("" if recurse else " or set directory.recurse: true"))
                continue
            if tooling:
                continue
            prefix = str(root) + os.sep
            for f in files:
                full = str(f)
                relf = full[len(prefix):].replace(os.sep, "/") if full.startswith(prefix) else f.relative_to(root).as_posix()
                docs = by_file.get(relf)
                if docs is None:
                    try:
                        parsed = parse_documents(f.read_text(encoding="utf-8"), relf)
                    except (InputError, OSError, UnicodeDecodeError):
                        continue
                    docs = [Doc(relf, i, line, data, None, "other") for i, (line, data) in enumerate(parsed)
                            if isinstance(data, dict) and data.get("kind")]
                    by_file[relf] = docs
                # Each environment is its own cluster (and Argo CD): ownership is per destination cluster.
                cluster = (app.env, dest.get("server") or dest.get("name") or "")
                for d in docs:
                    ns = None if d.kind in CLUSTER_SCOPED else (d.namespace or dest.get("namespace"))
                    owners[(cluster, d.group, d.kind, ns, d.name)].append((app, d))
                    owned.append(d)
        yield from _check_destination(app, dest, project)
        if project is not None:
            yield from _check_project_permits(app, dest, project, owned)

    for (_, group, kind, ns, name), entries in sorted(owners.items(), key=lambda kv: tuple(str(x) for x in kv[0])):
        distinct = []
        for app, d in entries:
            if all(app is not a for a, _ in distinct):
                distinct.append((app, d))
        if len(distinct) > 1:
            first_app, first_doc = distinct[0]
            for app, d in distinct[1:]:
                yield Hit("ARG003", app, ("spec",),
                          f"{kind} {ns + '/' if ns else ''}{name} ({d.file}) is managed by Applications "
                          f"{', '.join(a.name for a, _ in distinct)}",
                          "give every resource exactly one Application: narrow the source paths so they do not overlap",
                          [first_app, d])


def _project_name(app: Doc) -> str:
    return str((app.data.get("spec") or {}).get("project") or "default")


def _project(app: Doc, projects: dict[tuple, Doc]) -> Doc | None:
    name = _project_name(app)
    return projects.get((app.env, name)) or projects.get((None, name))


def _group_kind_listed(entries, group: str, kind: str) -> bool:
    return any(isinstance(e, dict) and argo_glob(str(e.get("group", "")), group) and argo_glob(str(e.get("kind", "")), kind)
               for e in entries or [])


def _check_project_permits(app: Doc, dest: dict, project: Doc, owned: list[Doc]) -> Iterator[Hit]:
    """Resources an Application syncs must be permitted by its project, or Argo CD refuses the sync."""
    spec = project.data.get("spec") or {}
    destinations = spec.get("destinations") or []
    server, name = dest.get("server", ""), dest.get("name", "")
    for d in owned:
        if d.kind in CLUSTER_SCOPED:
            if not _group_kind_listed(spec.get("clusterResourceWhitelist"), d.group, d.kind) or \
                    _group_kind_listed(spec.get("clusterResourceBlacklist"), d.group, d.kind):
                yield Hit("ARG002", app, ("spec", "project"), f"Application {app.name} syncs cluster-scoped {d.kind} {d.name} "
                          f"({d.file}), which AppProject {project.name} does not whitelist",
                          f"add {{group: '{d.group}', kind: {d.kind}}} to clusterResourceWhitelist of AppProject {project.name}",
                          [project, d])
            continue
        listed_white = spec.get("namespaceResourceWhitelist")
        if _group_kind_listed(spec.get("namespaceResourceBlacklist"), d.group, d.kind) or \
                (listed_white is not None and not _group_kind_listed(listed_white, d.group, d.kind)):
            yield Hit("ARG002", app, ("spec", "project"), f"Application {app.name} syncs {d.kind} {d.name} ({d.file}), a kind "
                      f"AppProject {project.name} does not permit in namespaces",
                      f"remove the {d.kind} (secrets come from ExternalSecrets) or permit it in AppProject {project.name}",
                      [project, d])
            continue
        ns = d.namespace or dest.get("namespace", "")
        if ns and ns != dest.get("namespace") and not destination_permitted(destinations, server, name, ns):
            yield Hit("ARG002", app, ("spec", "destination"), f"Application {app.name} syncs {d.kind} {d.name} into namespace "
                      f"{ns!r} ({d.file}), which AppProject {project.name} does not permit",
                      f"add the namespace to AppProject {project.name} destinations or fix the object's namespace", [project, d])


def _check_destination(app: Doc, dest: dict, project: Doc | None) -> Iterator[Hit]:
    project_name = _project_name(app)
    if "{{" in project_name:
        return
    if project is None:
        if project_name != "default":
            yield Hit("ARG002", app, ("spec", "project"), f"Application {app.name} uses AppProject {project_name}, which is not "
                      "defined in argocd/", f"add AppProject {project_name} or fix spec.project")
        return
    server, name, namespace = dest.get("server", ""), dest.get("name", ""), dest.get("namespace", "")
    if any("{{" in str(v) for v in (server, name, namespace)):
        return
    destinations = dig(project.data, "spec", "destinations") or []
    if not destination_permitted(destinations, server, name, namespace):
        allowed = ", ".join(f"{d.get('server') or d.get('name')}/{d.get('namespace')}" for d in destinations if isinstance(d, dict))
        yield Hit("ARG002", app, ("spec", "destination"),
                  f"Application {app.name} deploys to {server or name} namespace {namespace!r}, which AppProject "
                  f"{project_name} does not permit (destinations: {allowed or 'none'})",
                  f"add the destination to AppProject {project_name} or fix the Application's destination", [project])


def _git(root: Path, *args: str, input_text: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, input=input_text, timeout=60)


def _blobs(root: Path, ref: str, paths: list[str]) -> dict[str, str]:
    if not paths:
        return {}
    proc = subprocess.run(["git", "-C", str(root), "cat-file", "--batch"], capture_output=True, timeout=60,
                          input="".join(f"{ref}:{p}\n" for p in paths).encode())
    out, data, pos = {}, proc.stdout, 0
    for p in paths:
        nl = data.index(b"\n", pos)
        header = data[pos:nl].decode().split()
        pos = nl + 1
        if len(header) < 3 or header[1] != "blob":
            continue
        size = int(header[2])
        out[p] = data[pos:pos + size].decode("utf-8", errors="replace")
        pos += size + 1
    return out


def check_decommissions(root: Path, platform: Platform, argo_docs: list[Doc], base_ref: str | None,
                        envs: list[str] | None = None) -> Iterator[Hit]:
    """ARG004: a production component (dist/<prod>/<c>/ or an Application in argocd/<prod>/) at the base ref that is
    gone now. ``envs`` limits the check to those environments (default: every one); only production ones are checked."""
    production = [e for e in platform.environments if e.production and (envs is None or e.name in envs)]
    if not production:
        return
    explicit = base_ref is not None
    ref = base_ref or "HEAD"
    try:
        top = _git(root, "rev-parse", "--show-toplevel")
    except OSError:
        top = None
    if top is None or top.returncode != 0:
        reason = top.stderr.strip() if top is not None else "git is not installed"
        if explicit or "dubious ownership" in reason:
            # An explicit base must be readable; a misconfigured checkout must not silently skip the check.
            raise InputError(Problem("--base", "", f"cannot read git history of {root} for --base {ref}: "
                                     f"{reason or 'not a git repository'}"))
        return
    verify = _git(root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    if verify.returncode != 0:
        if explicit:
            raise InputError(Problem("--base", "", f"expected a git commit, branch or tag, found {ref!r}"))
        return  # a repository without commits yet
    commit = verify.stdout.strip()
    prefix = _git(root, "rev-parse", "--show-prefix").stdout.strip()
    for env in production:
        yield from _decommissions(root, env, argo_docs, ref, commit, prefix)


def _decommissions(root: Path, env, argo_docs: list[Doc], ref: str, commit: str, prefix: str) -> Iterator[Hit]:
    name = env.name
    listing = _git(root, "ls-tree", "-r", "--name-only", commit, "--", f"{prefix}dist/{name}", f"{prefix}argocd/{name}")
    base_components: set[str] = set()
    argo_files: list[str] = []
    for line in listing.stdout.splitlines():
        rel = line[len(prefix):] if prefix and line.startswith(prefix) else line
        parts = rel.split("/")
        if parts[0] == "dist" and len(parts) >= 4:
            base_components.add(parts[2])
        elif parts[0] == "argocd" and rel.endswith((".yaml", ".yml")):
            argo_files.append(line)
    base_apps: dict[str, str] = {}
    for path, text in _blobs(root, commit, argo_files).items():
        try:
            parsed = parse_documents(text, path)
        except InputError:
            continue
        for _, data in parsed:
            if isinstance(data, dict) and data.get("kind") == "Application" and isinstance(data.get("metadata"), dict):
                base_apps[str(data["metadata"].get("name"))] = path[len(prefix):] if prefix else path
    dist = root / "dist" / name
    now_components = {p.name for p in dist.iterdir() if p.is_dir() and not p.name.startswith(".")} if dist.is_dir() else set()
    now_apps = {d.name for d in argo_docs if d.kind == "Application" and d.env == name}
    acknowledged = set(env.decommissioned)
    file = env.source_file or f"environments/{name}.yaml"

    def acked(item: str) -> bool:
        return item in acknowledged or item.removesuffix(f"-{name}") in acknowledged

    for component in sorted(base_components - now_components):
        if not acked(component):
            yield Hit("ARG004", None, (), f"component {component} was in dist/{name}/ at {ref} ({commit[:12]}) and is gone: "
                      f"Argo CD will prune it from production",
                      f"if intended, add {component} to decommissioned: in {file}; otherwise re-enable it",
                      [f"dist/{name}/{component}/"], file=file, env=name)
    # A job that now runs as a hook of another Application (inventory runsBefore) lost its own
    # Application but not its folder: its resources are still synced, by that Application.
    synced = {str(src.get("path", "")).strip("/") for d in argo_docs if d.kind == "Application" and d.env == name
              for _, src in _sources(d)}
    for app in sorted(set(base_apps) - now_apps):
        if f"dist/{name}/{app}" in synced and app in now_components:
            continue
        if not acked(app):
            yield Hit("ARG004", None, (), f"Application {app} was in {base_apps[app]} at {ref} ({commit[:12]}) and is gone: "
                      f"its resources will be deleted from production",
                      f"if intended, add {app.removesuffix('-' + name)} to decommissioned: in {file}; otherwise restore it",
                      [f"Application/{app}"], file=file, env=name)

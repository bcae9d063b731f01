"""The release dashboard's data: one dict behind `gitops status --format text|json|html`.

Contract (``"version": 1``, documented in docs/status.md): the keys of the original
`gitops status --format json` (``environments``, ``promotes_from``, ``components[]`` with
``component``, ``versions``, ``differs``, ``differs_from_predecessor``; ``holds``) are kept as
they were, and extended with ``pipeline[]`` (per environment: hold, last change from the commit
trailers, Argo CD reachability, counts), per-row ``cells``, ``links`` and ``pulls``, top-level
``warnings[]`` and ``sources`` (what could and could not be reached, and why).

Sources, each optional, each failing into a warning rather than an exception:
- the committed inputs (inventory/, environments/) -- bad input there is still exit 2;
- ``holds/*.yaml`` (a hold for an unknown environment, or a malformed one, is a warning);
- git history: the newest commit with a ``Promoted-To: <env>`` (or rollback ``Environment: <env>``)
  trailer per environment (gitops/promote/body.py writes them);
- GitHub (``GITHUB_TOKEN``): open promotion/rollback pull requests, matched to rows through the
  ``<!-- gitops-promotion {...} -->`` marker the promotion writes into the PR body;
- Argo CD (gitops/ops/argocd_api.py settings): sync and health of each component's Application.

Deterministic for the same inputs when no live source (GitHub, Argo CD) is configured: no clock is read.
"""
from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Callable, Mapping

import yaml

from .argocd_api import ArgoCD, ArgoCDConfigError, ArgoCDError, ArgoCDNotFound, target_for
from ..inputs.load import load_platform
from ..promote.body import short_digest
from ..promote.holds import HOLDS_DIR, parse_hold
from ..promote.versions import version_rows

VERSION = 1
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
MARKER = re.compile(r"<!--\s*gitops-promotion\s+(\{.*?\})\s*-->", re.S)
SERVICES_ROW = re.compile(r"^\|\s*services\s*\|(.*)\|\s*$", re.M)
PROMOTION_TRAILERS = ("Promoted-From", "Promoted-To", "Services", "Promotion-Id", "Rollback-Of", "Restored-From",
                      "Environment")


class Collector:
    """Warnings shown on the page and in JSON: where, and what is wrong in plain words."""

    def __init__(self):
        self.items: list[dict] = []

    def warn(self, source: str, message: str) -> None:
        item = {"source": source, "message": message}
        if item not in self.items:
            self.items.append(item)


def build(root: Path | str, *, environ: Mapping[str, str] | None = None,
          github_factory: Callable | None = None, progress: Callable[[str], None] | None = None) -> dict:
    root = Path(root)
    environ = os.environ if environ is None else environ
    say = progress or (lambda message: None)
    platform = load_platform(root)
    warnings = Collector()
    envs = [e.name for e in platform.environments]
    rows = version_rows(platform)
    holds = _holds(root, envs, warnings)
    pipeline = [{"name": e.name, "promotes_from": e.promotes_from, "hold": holds.get(e.name),
                 "enabled": sum(1 for r in rows if r["versions"][e.name]),
                 "pending": sum(1 for r in rows if e.name in r["differs_from_predecessor"]),
                 "last_change": None, "argocd": None, "pulls": 0}
                for e in platform.environments]
    by_env = {p["name"]: p for p in pipeline}

    for row in rows:
        row["application"] = platform.component(row["component"]).application
    apps = _applications(root, platform, rows, warnings)
    _cells(platform, rows, apps)
    sources: dict = {}
    sources["git"] = _history(root, envs, by_env, warnings)
    if environ.get("GITHUB_TOKEN"):
        say("reading open pull requests")
    sources["github"] = _pulls(root, environ, rows, by_env, warnings, github_factory)
    sources["argocd"] = _argocd(platform, environ, rows, by_env, warnings, say, apps)
    return {
        "version": VERSION,
        "environments": envs,
        "promotes_from": {e.name: e.promotes_from for e in platform.environments},
        "components": rows,
        "holds": {env: hold for env, hold in holds.items() if env in envs},
        "pipeline": pipeline,
        "warnings": warnings.items,
        "sources": sources,
    }


# --------------------------------------------------------------------------- cells and links

def _version_text(v: dict | None) -> str:
    if not v:
        return ""
    return v["tag"] + (f"@{short_digest(v['digest'])}" if v.get("digest") else "")


def _applications(root: Path, platform, rows: list[dict], warnings: Collector) -> dict:
    """{env: {component: Application}} from the committed argocd/<env>/application-<name>.yaml.

    The links and the AppProject are read from the generated Applications (what Argo CD's UI shows,
    charts/argocd.py writes them) rather than recomputed: importing the charts would boot Node for a page.
    """
    apps: dict = {}
    for env in platform.environments:
        apps[env.name] = {}
        missing = []
        for row in rows:
            if not row["versions"][env.name]:
                continue
            rel = f"argocd/{env.name}/application-{row['application']}.yaml"
            try:
                doc = yaml.load((root / rel).read_bytes(), Loader=_LOADER)
            except (OSError, yaml.YAMLError):
                missing.append(rel)
                continue
            if isinstance(doc, dict):
                apps[env.name][row["component"]] = doc
        if missing:
            warnings.warn(f"argocd/{env.name}/", f"{len(missing)} Application file(s) missing or unreadable "
                                                 f"({', '.join(missing[:3])}{', ...' if len(missing) > 3 else ''}): "
                                                 "their Grafana links are not shown; run `gitops synth`")
    return apps


def _project(apps: dict) -> str | None:
    for doc in apps.values():
        project = (doc.get("spec") or {}).get("project")
        if isinstance(project, str) and project:
            return project
    return None


def _cells(platform, rows: list[dict], apps: dict) -> None:
    """Per row and environment: the version, whether a promotion is pending, links (as the Application has them)."""
    for row in rows:
        component = platform.component(row["component"])
        row["cells"] = {}
        row["links"] = {"inventory": f"{platform.repo_url.removesuffix('.git')}/blob/main/inventory/{component.name}.yaml"}
        row["pulls"] = []
        for env in platform.environments:
            v = row["versions"][env.name]
            prev = env.promotes_from
            cell = {"version": _version_text(v), "tag": v["tag"] if v else None,
                    "digest": v["digest"] if v else None, "short_digest": short_digest(v["digest"]) if v else "",
                    "pending": env.name in row["differs_from_predecessor"],
                    "incoming": _version_text(row["versions"].get(prev)) if env.name in row["differs_from_predecessor"] else "",
                    "links": {}, "argocd": None}
            app = apps.get(env.name, {}).get(component.name) if v else None
            if app:
                ann = (app.get("metadata") or {}).get("annotations") or {}
                if ann.get("link.argocd.argoproj.io/grafana-dashboard"):
                    cell["links"]["grafana"] = ann["link.argocd.argoproj.io/grafana-dashboard"]
                row["links"]["inventory"] = ann.get("link.argocd.argoproj.io/inventory", row["links"]["inventory"])
            row["cells"][env.name] = cell


# --------------------------------------------------------------------------- holds

def _holds(root: Path, envs: list[str], warnings: Collector) -> dict:
    holds: dict = {}
    folder = root / HOLDS_DIR
    if not folder.is_dir():
        return holds
    for path in sorted(folder.iterdir()):
        if path.suffix not in (".yaml", ".yml") or not path.is_file():
            continue
        rel = f"{HOLDS_DIR}/{path.name}"
        env = path.stem
        try:
            hold = parse_hold(env, path.read_bytes(), rel)
        except Exception as exc:  # a malformed hold file must not hide the rest of the page
            warnings.warn(rel, f"unreadable hold file ({exc}); treat {env} as held until it is fixed")
            continue
        if env not in envs:
            warnings.warn(rel, f"hold for unknown environment {env!r} (environments: {', '.join(envs)}); "
                               "it stops nothing: rename or delete it")
            continue
        if hold.environment != env:
            warnings.warn(rel, f"the file holds {env} but says environment: {hold.environment!r}; "
                               f"gitops promote reads the file name, so {env} is held")
        holds[env] = {"reason": hold.reason, "heldBy": hold.held_by, "since": hold.since, "file": rel}
    return holds


# --------------------------------------------------------------------------- history

def _history(root: Path, envs: list[str], by_env: dict, warnings: Collector) -> dict:
    from ..promote.git import Git, GitError

    git = Git(root)
    try:
        git.toplevel()
        commits = git.log_trailers("HEAD", PROMOTION_TRAILERS)
    except GitError as exc:
        warnings.warn("git", f"no git history here ({str(exc).splitlines()[0]}); last promotions are not shown")
        return {"state": "unavailable", "message": "not a git checkout"}
    shallow = git.run("rev-parse", "--is-shallow-repository", check=False) == "true"
    if shallow:
        warnings.warn("git", "shallow clone: promotions older than the fetched history are not shown "
                             "(fetch the full history, e.g. actions/checkout with fetch-depth: 0)")
    remaining = set(envs)
    for commit in commits:
        for env in sorted(remaining):
            if env in commit.get("Promoted-To", []):
                kind = "promotion"
            elif env in commit.get("Environment", []) and commit.get("Restored-From"):
                kind = "rollback"
            else:
                continue
            meta = git.run("show", "-s", "--format=%an%x1f%ae%x1f%aI", commit["sha"]).split("\x1f")
            by_env[env]["last_change"] = {
                "kind": kind, "commit": commit["sha"], "subject": commit["subject"],
                "from": (commit.get("Promoted-From") or [None])[0],
                "services": sorted({s.strip() for v in commit.get("Services", []) for s in v.split(",") if s.strip()}),
                "author": meta[0], "email": meta[1] if len(meta) > 1 else "", "when": meta[2] if len(meta) > 2 else ""}
            remaining.discard(env)
        if not remaining:
            break
    head = git.head()
    return {"state": "ok", "head": head, "shallow": shallow,
            "message": f"history of {head[:12]}" + (" (shallow)" if shallow else "")}


# --------------------------------------------------------------------------- pull requests

def _pull_services(body: str) -> tuple[dict | None, list[str]]:
    match = MARKER.search(body or "")
    if not match:
        return None, []
    try:
        marker = json.loads(match.group(1))
    except ValueError:
        return None, []
    if not isinstance(marker, dict):
        return None, []
    services = marker.get("services")
    if not isinstance(services, list):  # pull requests opened before the marker listed them
        row = SERVICES_ROW.search(body)
        services = re.findall(r"`([^`]+)`", row.group(1)) if row else []
    return marker, [str(s) for s in services]


def _pulls(root: Path, environ: Mapping[str, str], rows: list[dict], by_env: dict, warnings: Collector,
           github_factory: Callable | None) -> dict:
    from ..promote.github import GitHub, GitHubAuthError, GitHubError

    token = environ.get("GITHUB_TOKEN", "")
    if not token:
        return {"state": "not-configured", "message": "GITHUB_TOKEN is not set: open promotion pull requests are not shown"}
    try:
        if github_factory:
            gh = github_factory(token)
        else:
            owner, repo = _repository(root, environ)
            gh = GitHub(token, owner, repo, environ.get("GITHUB_API_URL") or None, retries=2, timeout=10,
                        backoff=float(environ.get("GITOPS_GITHUB_BACKOFF", "1.0")))
        pulls = gh.open_pulls()
    except GitHubAuthError as exc:
        warnings.warn("github", f"GitHub refused the token: {exc}")
        return {"state": "unauthorized", "message": str(exc)}
    except GitHubError as exc:
        warnings.warn("github", f"GitHub unreachable: {exc}")
        return {"state": "unreachable", "message": str(exc)}
    except ValueError as exc:
        warnings.warn("github", str(exc))
        return {"state": "not-configured", "message": str(exc)}
    by_name = {r["component"]: r for r in rows}
    shown = 0
    for pull in sorted(pulls, key=lambda p: p.get("number") or 0):
        ref = str((pull.get("head") or {}).get("ref", ""))
        number = pull.get("number")
        labels = {str(label.get("name")) for label in pull.get("labels") or [] if isinstance(label, dict)}
        if not (ref.startswith(("promote/", "rollback/")) or "promotion" in labels):
            continue
        marker, services = _pull_services(str(pull.get("body") or ""))
        where = f"pull request #{number} ({ref})"
        if marker is None:
            warnings.warn(where, "its body has no gitops-promotion marker, so the rows it moves are unknown; "
                                 "re-run the gitops promote/rollback that opened it to refresh the body")
            continue
        target = str(marker.get("to") or "")
        if target not in by_env:
            warnings.warn(where, f"targets unknown environment {target!r}")
            continue
        item = {"number": number, "title": str(pull.get("title") or ""), "url": str(pull.get("html_url") or ""),
                "action": str(marker.get("action") or ""), "from": marker.get("from"), "to": target,
                "branch": ref}
        unknown = [s for s in services if s not in by_name]
        if unknown or not services:
            warnings.warn(where, f"lists no known component ({', '.join(unknown) or 'none listed'})")
        for name in services:
            if name in by_name:
                by_name[name]["pulls"].append(item)
        by_env[target]["pulls"] += 1
        shown += 1
    return {"state": "ok", "message": f"{shown} open promotion/rollback pull request(s)"}


def _repository(root: Path, environ: Mapping[str, str]) -> tuple[str, str]:
    from ..promote.git import Git, GitError, parse_remote

    repository = environ.get("GITHUB_REPOSITORY", "")
    if not repository:
        try:
            parsed = parse_remote(Git(root).remote_url("origin"))
        except GitError:
            parsed = None
        repository = "/".join(parsed) if parsed else ""
    if "/" not in repository:
        raise ValueError("cannot tell the GitHub repository: no origin remote on GitHub; set GITHUB_REPOSITORY=owner/repo")
    owner, repo = repository.split("/", 1)
    return owner, repo


# --------------------------------------------------------------------------- Argo CD

def _argocd(platform, environ: Mapping[str, str], rows: list[dict], by_env: dict, warnings: Collector,
            say: Callable[[str], None], apps: dict) -> dict:
    states: dict = {}
    servers: dict[str, list[str]] = {}
    for env in platform.environments:
        entry = by_env[env.name]
        try:
            target = target_for(env, environ, _project(apps.get(env.name, {})))  # None: computed as the generator does
        except ArgoCDConfigError as exc:
            warnings.warn(f"Argo CD ({env.name})", str(exc))
            states[env.name] = entry["argocd"] = {"state": "not-configured", "server": "", "message": str(exc)}
            continue
        for row in rows:
            if row["versions"][env.name]:
                row["cells"][env.name]["links"]["argocd"] = target.app_url(row["application"])
        state = {"state": "not-configured", "server": target.server, "server_from": target.server_from,
                 "message": f"no token ({target.env}: set ARGOCD_AUTH_TOKEN_{env.name.upper().replace('-', '_')} "
                            "or ARGOCD_AUTH_TOKEN): sync and health are not shown"}
        if target.token:
            servers.setdefault(target.server, []).append(env.name)
            state = _query(ArgoCD(target, environ=environ), env.name, rows, say)
            state.update(server=target.server, server_from=target.server_from)
            if state["state"] != "ok":
                warnings.warn(f"Argo CD ({env.name})", state["message"])
        states[env.name] = entry["argocd"] = state
    for server, names in servers.items():
        if len(names) > 1:
            warnings.warn("Argo CD", f"{', '.join(names)} all read {server}: Application names are the same in every "
                                     "environment, so these columns show one cluster; set ARGOCD_SERVER_<ENV> per environment")
    return states


def _query(client: ArgoCD, env: str, rows: list[dict], say: Callable[[str], None]) -> dict:
    say(f"asking Argo CD of {env} ({client.server})")
    answered, missing = 0, []
    for row in rows:
        if not row["versions"][env]:
            continue
        cell = row["cells"][env]
        try:
            cell["argocd"] = client.application(row["application"]).as_dict()
            answered += 1
        except ArgoCDNotFound as exc:
            cell["argocd"] = {"error": exc.kind, "message": str(exc)}
            missing.append(row["component"])
        except ArgoCDError as exc:  # unreachable, unauthorized, 5xx: the next request would fail the same way
            return {"state": exc.kind, "message": str(exc), "answered": answered}
    state = {"state": "ok", "answered": answered, "message": f"{answered} application(s) read"}
    if missing:
        state.update(state="partial", message=f"{answered} read; unknown to Argo CD: {', '.join(missing)}")
    return state

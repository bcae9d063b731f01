"""`gitops new`: the input files of a new component or environment, written so the platform still loads.

Both operations follow the generator's rule for bad input: everything is prepared in memory, the
result is loaded (schema and cross-checks) from a scratch copy of inventory/ and environments/, and
only then written; any problem raises InputError and nothing changes. Generated outputs (dist/,
argocd/, CODEOWNERS, docs, compose, tfvars) are not written here: `gitops synth` writes them.

- A component is copied from a similar one (``--like``): its name (and every path or image that
  carried the old name), owner and reviewers are adapted, the old file's comments (about the old
  component) replaced by a header saying where it came from. Enabling it edits each environment file
  with the promotion's minimal-diff editor.
- An environment is inserted into the promotion chain after an existing one: a copy of that
  environment with its name replaced (cluster, namespace, domain, secret store, labels, backing
  hosts), a fresh private /16 for its VPC, and the successor re-pointed to it. Its Terraform root is
  a copy of the predecessor's thin wrapper of modules/environment, with its own state key.
"""
from __future__ import annotations

import json
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import yaml
from jsonschema import Draft202012Validator

from ..errors import InputError, Problem
from ..inputs.load import ENVIRONMENTS_DIR, INVENTORY_DIR, chain_order, load_platform
from ..promote.envfile import EnvFile
from ..inputs.schema_errors import describe, most_specific

TERRAFORM_ROOTS = "infra/terraform/environments"
# The hand-written files of a Terraform root; generated.auto.tfvars.json comes from `gitops synth`.
TERRAFORM_ROOT_FILES = ("main.tf", "providers.tf", "variables.tf", "versions.tf", "settings.auto.tfvars")
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
# Private /16 per environment (10.<n>.0.0/16); environments/<env>.yaml backing cidrs are its subnets.
_PRIVATE_NET = re.compile(r"\b10\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})/(1[6-9]|2[0-9])\b")


@dataclass
class Scaffold:
    """What a `gitops new` command wrote (repository-relative paths)."""
    written: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"ok": True, "written": self.written, "notes": self.notes}


def _schema_def(schema_file: str, name: str) -> dict:
    schema = json.loads(resources.files("gitops.schemas").joinpath(schema_file).read_text())
    return schema["$defs"][name]


def _check_name(name: str, schema_file: str, what: str) -> None:
    """The same rule the schema applies to the file's ``name`` (a DNS-1123 label, bounded)."""
    errors = list(Draft202012Validator(_schema_def(schema_file, "dns1123")).iter_errors(name))
    if errors:
        raise InputError(Problem("(command line)", what, describe(most_specific(errors[0]))))


def _names(root: Path, folder: str) -> list[str]:
    return sorted(p.stem for p in (root / folder).glob("*.yaml"))


def _unknown(flag: str, what: str, name: str, known: list[str]) -> InputError:
    return InputError(Problem("(command line)", flag, f"expected an existing {what} ({', '.join(known)}), found {name!r}"))


def _token(word: str) -> re.Pattern:
    """``word`` as a whole name part: not inside a longer name (user-service is not in user-service-migrations)."""
    return re.compile(rf"(?<![A-Za-z0-9_-]){re.escape(word)}(?![A-Za-z0-9_-])")


def _env_token(word: str) -> re.Pattern:
    """An environment name inside host names and identifiers (meetinity-dev, vault.dev.x, dev)."""
    return re.compile(rf"(?<![A-Za-z0-9]){re.escape(word)}(?![A-Za-z0-9])")


def _without_comment_lines(text: str) -> str:
    return "".join(line for line in text.splitlines(keepends=True) if not line.lstrip().startswith("#"))


def _validated(root: Path, changes: dict[str, str]) -> None:
    """Load the platform as it would be with ``changes`` (relative path -> text): InputError if it would not."""
    with tempfile.TemporaryDirectory(prefix="gitops-new-") as scratch:
        copy = Path(scratch)
        for folder in (INVENTORY_DIR, ENVIRONMENTS_DIR):
            shutil.copytree(root / folder, copy / folder)
        for rel, text in changes.items():
            if rel.startswith((INVENTORY_DIR + "/", ENVIRONMENTS_DIR + "/")):
                (copy / rel).write_text(text, encoding="utf-8")
        try:
            load_platform(copy)
        except InputError as exc:
            raise InputError([Problem(p.file, p.path, f"{p.message} (in the files `gitops new` would write)", p.line)
                              for p in exc.problems]) from None


def _write(root: Path, changes: dict[str, str], result: Scaffold) -> None:
    for rel, text in changes.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        result.written.append(rel)


# --------------------------------------------------------------------------- component


def new_component(root: Path | str, name: str, like: str, enable: list[str] = (), tag: str | None = None,
                  digest: str | None = None, owner: str | None = None, description: str | None = None) -> Scaffold:
    """Write inventory/<name>.yaml from inventory/<like>.yaml and enable it in ``enable`` environments."""
    root = Path(root)
    _check_name(name, "component.schema.json", "NAME")
    components = _names(root, INVENTORY_DIR)
    if name in components:
        raise InputError(Problem("(command line)", "NAME", f"expected a new component name, found {name!r}: "
                                                           f"{INVENTORY_DIR}/{name}.yaml exists"))
    if like not in components:
        raise _unknown("--like", "component", like, components)
    environments = _names(root, ENVIRONMENTS_DIR)
    for env in enable:
        if env not in environments:
            raise _unknown("--enable", "environment", env, environments)
    if enable and not tag:
        raise InputError(Problem("(command line)", "--tag", "expected the image tag to run where --enable turns it on, found none"))

    source_text = (root / INVENTORY_DIR / f"{like}.yaml").read_text(encoding="utf-8")
    source = yaml.load(source_text, Loader=_Loader)
    # The old name wherever it names this component (name, image, source path, build command, secret keys).
    text = _token(like).sub(name, _without_comment_lines(source_text))
    if owner and source.get("owner"):
        # Reviewers named after the owning team (@org/<owner>) follow the new owner.
        text = re.sub(rf"(@[A-Za-z0-9-]+/){re.escape(source['owner'])}(?![A-Za-z0-9._-])", rf"\g<1>{owner}", text)
    doc = EnvFile(text, f"{INVENTORY_DIR}/{name}.yaml")
    doc.set_field(("description",), description or f"{name}: describe what it does (copied from {like}).")
    if owner:
        doc.set_field(("owner",), owner)
    if (source.get("public") or {}).get("subdomain"):
        doc.set_field(("public", "subdomain"), name)  # a host is unique: the copy gets its own
    header = (f"# {name}: created with `gitops new component {name} --like {like}` from {INVENTORY_DIR}/{like}.yaml.\n"
              f"# Check every field against the application (image, start command, port, health, env, dependencies,\n"
              f"# resources) and say here why a value differs from what the application's repository suggests.\n")
    changes = {f"{INVENTORY_DIR}/{name}.yaml": header + doc.text}

    settings: dict = {"enabled": True, "image": {"tag": tag, **({"digest": digest} if digest else {})}}
    for env in enable:
        rel = f"{ENVIRONMENTS_DIR}/{env}.yaml"
        env_file = EnvFile.read(root / rel, rel)
        env_file.add_component(name, settings)
        changes[rel] = env_file.text
    _validated(root, changes)
    result = Scaffold()
    _write(root, changes, result)
    return result


# --------------------------------------------------------------------------- environment


def _next_private_net(root: Path) -> int:
    """The second octet of a 10.<n>.0.0/16 that no environment (nor Terraform root) uses yet."""
    used = set()
    for path in list((root / ENVIRONMENTS_DIR).glob("*.yaml")) + list((root / TERRAFORM_ROOTS).glob("*/settings.auto.tfvars")):
        used.update(int(m.group(1)) for m in _PRIVATE_NET.finditer(path.read_text(encoding="utf-8"))
                    if int(m.group(4)) >= 16)
    return max(used, default=-1) + 1


def _renet(text: str, old: int | None, new: int) -> str:
    """Move the /16..29 networks of the old environment's VPC (10.<old>.x.y) to 10.<new>.x.y."""
    if old is None:
        return text
    return _PRIVATE_NET.sub(lambda m: (f"10.{new}.{m.group(2)}.{m.group(3)}/{m.group(4)}"
                                       if int(m.group(1)) == old else m.group(0)), text)


def new_environment(root: Path | str, name: str, after: str, like: str | None = None) -> Scaffold:
    """Insert environment ``name`` into the promotion chain after ``after`` (copying ``like``, default ``after``)."""
    root = Path(root)
    _check_name(name, "environment.schema.json", "NAME")
    environments = _names(root, ENVIRONMENTS_DIR)
    if name in environments or (root / TERRAFORM_ROOTS / name).exists():
        raise InputError(Problem("(command line)", "NAME", f"expected a new environment name, found {name!r}: "
                                                           f"{ENVIRONMENTS_DIR}/{name}.yaml or {TERRAFORM_ROOTS}/{name}/ exists"))
    if after not in environments:
        raise _unknown("--after", "environment", after, environments)
    like = like or after
    if like not in environments:
        raise _unknown("--like", "environment", like, environments)
    tf_source = root / TERRAFORM_ROOTS / like
    missing = [f for f in TERRAFORM_ROOT_FILES if not (tf_source / f).is_file()]
    if missing:
        raise InputError(Problem(f"{TERRAFORM_ROOTS}/{like}/", "", f"expected the Terraform root of {like} to copy, "
                                                                   f"found no {', '.join(missing)}"))

    raw = {e: yaml.load((root / ENVIRONMENTS_DIR / f"{e}.yaml").read_text(encoding="utf-8"), Loader=_Loader) or {}
           for e in environments}
    source = raw[like]
    # Component and backing names are kept even if they contain the environment's name as a word.
    keep = set(_names(root, INVENTORY_DIR)) | set(source.get("components") or {}) | set(source.get("backing") or {})
    old_nets = {int(m.group(1)) for m in _PRIVATE_NET.finditer(json.dumps(source.get("backing") or {}))}
    old_net = min(old_nets) if len(old_nets) == 1 else None
    net = _next_private_net(root)

    def rename(text: str) -> str:
        def sub(match: re.Match) -> str:
            start, end = match.span()
            while start > 0 and (text[start - 1].isalnum() or text[start - 1] == "-"):
                start -= 1
            while end < len(text) and (text[end].isalnum() or text[end] == "-"):
                end += 1
            return match.group(0) if text[start:end] in keep else name
        return _env_token(like).sub(sub, text)

    text = _renet(rename(_without_comment_lines((root / ENVIRONMENTS_DIR / f"{like}.yaml").read_text(encoding="utf-8"))),
                  old_net, net)
    doc = EnvFile(text, f"{ENVIRONMENTS_DIR}/{name}.yaml")
    doc.set_field(("promotesFrom",), after)
    if doc.data.get("domain") == source.get("domain"):  # the name was not part of it (prod: meetinity.com)
        doc.set_field(("domain",), f"{name}.{source['domain']}")
    successors = [e for e in chain_order({e: d.get("promotesFrom") for e, d in raw.items()})
                  if raw[e].get("promotesFrom") == after]
    header = (f"# {name}: created with `gitops new environment {name} --after {after}` from {ENVIRONMENTS_DIR}/{like}.yaml;\n"
              f"# promoted from {after}" + (f", promotes into {', '.join(successors)}" if successors else "") + ".\n"
              f"# Cluster, domain, secret store, backing endpoints (VPC 10.{net}.0.0/16) are {like}'s with the name\n"
              f"# replaced: point them at what Terraform creates for {name}; size quota and nodes for its load.\n")
    changes = {f"{ENVIRONMENTS_DIR}/{name}.yaml": header + doc.text}
    result = Scaffold()
    for successor in successors:
        rel = f"{ENVIRONMENTS_DIR}/{successor}.yaml"
        env_file = EnvFile.read(root / rel, rel)
        env_file.set_field(("promotesFrom",), name)
        changes[rel] = env_file.text
        result.notes.append(f"{rel} now promotes from {name}: check its comments still say so")

    for file in TERRAFORM_ROOT_FILES:
        content = (tf_source / file).read_text(encoding="utf-8")
        if file == "versions.tf":  # its own state: only the backend key differs between roots
            content = content.replace(f"meetinity/{like}/", f"meetinity/{name}/")
        elif file == "settings.auto.tfvars":
            content = _renet(rename(content), old_net, net)
        changes[f"{TERRAFORM_ROOTS}/{name}/{file}"] = content
    _validated(root, changes)
    _write(root, changes, result)
    return result

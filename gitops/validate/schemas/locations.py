"""Schema locations, following kubeconform's ``-schema-location``:

- a folder in the CRDs-catalog layout: ``<folder>/<group>/<kind>_<version>.json``;
- a template with ``{{.Group}}``, ``{{.ResourceKind}}``, ``{{.ResourceAPIVersion}}``,
  ``{{.KindSuffix}}``, ``{{.StrictSuffix}}``, ``{{.NormalizedKubernetesVersion}}``: a local
  path or an http(s) URL; downloaded schemas are cached in ``<root>/.cache/schemas/``;
- ``default``: accepted for kubeconform compatibility (built-in kinds always come from
  kubernetes-validate).
"""
from __future__ import annotations

import hashlib
import os
import json
import re
import urllib.error
import urllib.request
from pathlib import Path

from ...errors import InputError, Problem


DEFAULT_TEMPLATE = "{{.Group}}/{{.ResourceKind}}_{{.ResourceAPIVersion}}.json"
_TEMPLATE_VAR = re.compile(r"\{\{\s*\.(\w+)\s*\}\}")
TEMPLATE_VARS = ("Group", "ResourceKind", "ResourceAPIVersion", "KindSuffix", "StrictSuffix",
                 "NormalizedKubernetesVersion")


class Location:
    """One ``--schema-location``: where custom resource schemas are looked up, in order."""

    def __init__(self, spec: str, cache_dir: Path | None):
        self.spec = spec
        self.cache_dir = cache_dir
        self.is_default = spec == "default"
        text = spec[len("file://"):] if spec.startswith("file://") else spec
        self.is_url = text.startswith(("http://", "https://"))
        if self.is_default:
            self.template = None
        elif "{{" in text:
            for var in _TEMPLATE_VAR.findall(text):
                if var not in TEMPLATE_VARS:
                    raise InputError(Problem("--schema-location", "", f"unknown template variable {{{{.{var}}}}} in {spec!r}; "
                                             f"expected one of {', '.join(TEMPLATE_VARS)}"))
            self.template = text
        elif self.is_url:
            self.template = text.rstrip("/") + "/" + DEFAULT_TEMPLATE
        else:
            folder = Path(text)
            if not folder.is_dir():
                raise InputError(Problem("--schema-location", "", f"unreadable schema location {spec!r}: not a folder "
                                         "(expected a folder in the <group>/<kind>_<version>.json layout, or a template/URL)"))
            try:
                next(folder.iterdir(), None)
            except OSError as exc:
                raise InputError(Problem("--schema-location", "", f"unreadable schema location {spec!r}: {exc}")) from None
            self.template = str(folder) + "/" + DEFAULT_TEMPLATE
        if self.template and not self.is_url:
            # A local template must at least have an existing fixed prefix.
            prefix = Path(os.path.dirname(self.template.split("{{", 1)[0]) or ".")
            if not prefix.is_dir():
                raise InputError(Problem("--schema-location", "", f"unreadable schema location {spec!r}: {prefix} does not exist"))

    def render(self, k8s_version: str, api_version: str, kind: str) -> str:
        group, _, version = api_version.rpartition("/")
        values = {
            "Group": group, "ResourceKind": kind.lower(), "ResourceAPIVersion": version,
            "KindSuffix": "-" + (group.split(".")[0] + "-" if group else "") + version,
            "StrictSuffix": "-strict", "NormalizedKubernetesVersion": f"v{k8s_version}.0",
        }
        return _TEMPLATE_VAR.sub(lambda m: values[m.group(1)], self.template or "")

    def fetch(self, k8s_version: str, api_version: str, kind: str) -> tuple[dict, str] | None:
        """(schema, where) or None if this location has no schema for the kind."""
        if self.is_default:
            return None
        where = self.render(k8s_version, api_version, kind)
        if self.is_url:
            text = self._download(where)
            if text is None:
                return None
        else:
            path = Path(where)
            if not path.is_file():
                return None
            try:
                text = path.read_text(encoding="utf-8")
            except OSError as exc:
                raise InputError(Problem(where, "", f"unreadable schema: {exc}")) from None
        try:
            return json.loads(text), where
        except ValueError as exc:
            raise InputError(Problem(where, "", f"schema is not valid JSON: {exc}")) from None

    def _download(self, url: str) -> str | None:
        cached = None
        if self.cache_dir is not None:
            cached = self.cache_dir / (hashlib.sha256(url.encode()).hexdigest() + ".json")
            if cached.is_file():
                return cached.read_text(encoding="utf-8")
        try:
            with urllib.request.urlopen(url, timeout=15) as resp:  # noqa: S310 - user-given schema location
                text = resp.read().decode("utf-8")
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                return None
            raise InputError(Problem(url, "", f"unreadable schema location: HTTP {exc.code} {exc.reason}")) from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise InputError(Problem(url, "", f"unreadable schema location: {reason}")) from None
        if cached is not None:
            cached.parent.mkdir(parents=True, exist_ok=True)
            tmp = cached.with_suffix(".tmp")
            tmp.write_text(text, encoding="utf-8")
            tmp.replace(cached)
        return text

"""The syntax Kubernetes' API server requires of names, label and annotation keys and values,
ConfigMap keys, environment variable and port names (k8s.io/apimachinery pkg/util/validation:
``IsDNS1123Label``, ``IsDNS1035Label``, ``IsDNS1123Subdomain``, ``IsQualifiedName``,
``IsValidLabelValue``, ``IsConfigMapKey``, ``IsEnvVarName``, ``IsValidPortName``).

One home for these rules: the loader applies them to the labels an environment file sets, and
`gitops validate` (SCH005, gitops/validate/object_meta.py) to every generated object.
"""
from __future__ import annotations

import re

DNS1123_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
DNS1035_LABEL = re.compile(r"[a-z]([-a-z0-9]*[a-z0-9])?")
DNS1123_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
QUALIFIED_NAME_PART = re.compile(r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]")
CONFIG_MAP_KEY = re.compile(r"[-._a-zA-Z0-9]+")
ENV_VAR_NAME = re.compile(r"[-._a-zA-Z][-._a-zA-Z0-9]*")
# From Kubernetes 1.32 (RelaxedEnvironmentVariableValidation, KEP-4369: beta and on by default in 1.32,
# GA in 1.34) an env var name may be any printable ASCII but '='.
RELAXED_ENV_VAR_NAME = re.compile(r"[\x20-\x3c\x3e-\x7e]+")
RELAXED_ENV_VAR_SINCE = (1, 32)
IANA_SVC_NAME = re.compile(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?")
IANA_SVC_NAME_MAX = 15
LABEL_MAX, SUBDOMAIN_MAX, CRONJOB_NAME_MAX = 63, 253, 52
ANNOTATIONS_MAX_BYTES = 256 * 1024
RBAC_KINDS = ("Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding")

SUBDOMAIN_TEXT = "a DNS-1123 subdomain (lowercase a-z, 0-9, '-' and '.', at most 253 characters)"
LABEL_TEXT = "a DNS-1123 label (lowercase a-z, 0-9 and '-', at most 63 characters, starting and ending alphanumeric)"


def dns1123_label(value: str) -> bool:
    return len(value) <= LABEL_MAX and DNS1123_LABEL.fullmatch(value) is not None


def subdomain(value: str) -> bool:
    return len(value) <= SUBDOMAIN_MAX and DNS1123_SUBDOMAIN.fullmatch(value) is not None


def name_problem(group: str, kind: str, name: str) -> str | None:
    """What is wrong with ``name`` for an object of ``kind`` in API ``group`` ("" for core), in words
    (None: nothing). Custom resources, whatever their kind, get the subdomain rule (apiextensions)."""
    if (group, kind) in (("", "Namespace"), ("apps", "StatefulSet")):  # StatefulSet: a label since 1.27 (#114172)
        return None if dns1123_label(name) else f"expected {LABEL_TEXT}"
    if (group, kind) == ("", "Service"):
        ok = len(name) <= LABEL_MAX and DNS1035_LABEL.fullmatch(name) is not None
        return None if ok else ("expected a DNS-1035 label (lowercase a-z, 0-9 and '-', at most 63 characters, "
                                "starting with a letter and ending alphanumeric)")
    if group == "rbac.authorization.k8s.io" and kind in RBAC_KINDS:
        ok = name not in (".", "..") and not any(c in name for c in "/%") and name != ""
        return None if ok else "expected a path segment name (not '.' or '..', without '/' or '%')"
    if not subdomain(name):
        return f"expected {SUBDOMAIN_TEXT}"
    if (group, kind) == ("batch", "CronJob") and len(name) > CRONJOB_NAME_MAX:
        return f"expected at most {CRONJOB_NAME_MAX} characters (its Jobs append an 11-character suffix), found {len(name)}"
    if (group, kind) == ("batch", "Job") and len(name) > LABEL_MAX:
        return f"expected at most {LABEL_MAX} characters (the name becomes a label of its pods), found {len(name)}"
    return None


def qualified_name_problem(key: str) -> str | None:
    prefix, slash, name = key.rpartition("/")
    if slash and not subdomain(prefix):
        return f"expected its prefix {prefix!r} to be {SUBDOMAIN_TEXT}"
    if len(name) > LABEL_MAX or QUALIFIED_NAME_PART.fullmatch(name) is None:
        return ("expected a name of at most 63 characters of letters, digits, '-', '_' and '.', starting and ending "
                "with a letter or digit" + (" (after an optional 'prefix/')" if not slash else ""))
    return None


def label_value_problem(value) -> str | None:
    if not isinstance(value, str):
        return None  # a value that is not a string is the schema's business
    if value == "" or (len(value) <= LABEL_MAX and QUALIFIED_NAME_PART.fullmatch(value)):
        return None
    return ("expected an empty value or at most 63 characters of letters, digits, '-', '_' and '.', starting and "
            f"ending with a letter or digit, found {len(value)} character(s)")


def config_map_key_problem(key: str) -> str | None:
    if len(key) <= SUBDOMAIN_MAX and CONFIG_MAP_KEY.fullmatch(key) and key != "." and not key.startswith(".."):
        return None
    return "expected at most 253 characters of letters, digits, '-', '_' and '.' (not '.', not starting with '..')"


def env_var_name_problem(name: str, kubernetes_version: str = "1.33") -> str | None:
    version = tuple(int(part) for part in kubernetes_version.split(".")[:2])
    if version >= RELAXED_ENV_VAR_SINCE:
        if RELAXED_ENV_VAR_NAME.fullmatch(name):
            return None
        return f"expected printable ASCII characters other than '=' (Kubernetes {kubernetes_version})"
    if ENV_VAR_NAME.fullmatch(name) and name != "." and not name.startswith(".."):
        return None
    return (f"expected letters, digits, '-', '_' and '.', not starting with a digit or '..' "
            f"(Kubernetes {kubernetes_version})")


def port_name_problem(name: str) -> str | None:
    """An IANA service name: what a named port must be (and what a probe or Service may name)."""
    if (len(name) <= IANA_SVC_NAME_MAX and IANA_SVC_NAME.fullmatch(name) and "--" not in name
            and any(c.isalpha() for c in name)):
        return None
    return ("expected at most 15 characters of lowercase letters, digits and '-', with a letter, no '--', "
            "starting and ending alphanumeric")

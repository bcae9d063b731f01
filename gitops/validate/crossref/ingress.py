"""Ingress hosts, TLS and backends (XRF008-010), and hosts unique across environments."""
from __future__ import annotations

import re
from typing import Iterator

from ..documents import Doc
from ..envset import EnvSet
from ..findings import Hit
from ..k8s import dig
from .refs import CERT_MANAGER_ANNOTATIONS, _close, secret_creators


_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


def host_problem(host: str, domain: str | None) -> str | None:
    if not isinstance(host, str) or not host:
        return "empty host"
    name = host[2:] if host.startswith("*.") else host
    if len(host) > 253:
        return f"host {host!r} is longer than 253 characters"
    labels = name.split(".")
    bad = [lab for lab in labels if len(lab) > 63 or not _DNS_LABEL.match(lab)]
    if bad or len(labels) < 2:
        return f"host {host!r} is not a valid DNS name (lowercase RFC 1123 labels separated by dots)"
    for a, b in zip(labels, labels[1:]):
        if a == b:
            return f"host {host!r} repeats the label {a!r} ({a}.{b})"
    if domain and not (name == domain or name.endswith("." + domain)):
        return f"host {host!r} is not under the environment's domain {domain!r}"
    return None


def check_ingress(es: EnvSet, hosts: dict) -> Iterator[Hit]:
    """XRF008 TLS, XRF009 host syntax; collects hosts into ``hosts`` for XRF010 across environments."""
    secrets = secret_creators(es)
    domain = es.env.domain if es.env else None
    for ing in es.kind("Ingress"):
        spec = ing.data.get("spec") or {}
        issued_by_shim = any(a in ing.annotations for a in CERT_MANAGER_ANNOTATIONS)
        tls_hosts: set[str] = set()
        for i, tls in enumerate(spec.get("tls") or []):
            if not isinstance(tls, dict):
                continue
            tls_hosts |= set(tls.get("hosts") or [])
            name = tls.get("secretName")
            if not name:
                yield Hit("XRF008", ing, ("spec", "tls", i), f"TLS entry {i} of Ingress {ing.name} has no secretName: the "
                          "controller serves its default certificate", "set secretName and the cert-manager.io/cluster-issuer annotation")
                continue
            creators = [c for c in secrets.get((ing.namespace, name), []) if c.doc is not ing]
            if not issued_by_shim and not creators:
                candidates = [n for (ns, n), cs in secrets.items() if ns == ing.namespace
                              and any(c.type == "kubernetes.io/tls" or "tls" in n for c in cs)]
                yield Hit("XRF008", ing, ("spec", "tls", i, "secretName"),
                          f"TLS secret {name} of Ingress {ing.name} is issued by nothing: no cert-manager annotation, no "
                          f"Certificate and no secret of that name in {ing.namespace}{_close(name, candidates)}",
                          f"add the annotation cert-manager.io/cluster-issuer (or a Certificate with secretName {name}), "
                          "or point secretName at the secret that exists",
                          [c.doc for (ns, n), cs in secrets.items() for c in cs if ns == ing.namespace and n in candidates][:3])
        for i, rule in enumerate(spec.get("rules") or []):
            host = rule.get("host") if isinstance(rule, dict) else None
            if host is None:
                continue
            problem = host_problem(host, domain)
            if problem:
                yield Hit("XRF009", ing, ("spec", "rules", i, "host"), problem,
                          f"use <subdomain>.{domain}" if domain else "use a valid DNS name")
            if spec.get("tls") is not None and host not in tls_hosts and not any(
                    h.startswith("*.") and host.endswith(h[1:]) for h in tls_hosts):
                yield Hit("XRF008", ing, ("spec", "rules", i, "host"), f"host {host} of Ingress {ing.name} is not covered by any TLS entry",
                          "add the host to spec.tls[].hosts")
            paths = [p.get("path", "/") for p in dig(rule, "http", "paths") or [] if isinstance(p, dict)] or ["/"]
            for p in paths:
                hosts.setdefault(host, []).append((es.name, ing, ("spec", "rules", i, "host"), p))


def check_hosts_unique(hosts: dict) -> Iterator[Hit]:
    """XRF010: a host belongs to one environment, and a host+path to one Ingress."""
    for host, uses in sorted(hosts.items()):
        envs = sorted({env for env, *_ in uses})
        if len(envs) > 1:
            first = uses[0]
            for env, ing, path, _ in uses[1:]:
                if env != first[0]:
                    yield Hit("XRF010", ing, path, f"host {host} is used in environments {', '.join(envs)}",
                              "give each environment its own host (<subdomain>.<environment domain>)", [first[1]], env=env)
            continue
        seen: dict[str, Doc] = {}
        for env, ing, path, p in uses:
            other = seen.get(p)
            if other is not None and other is not ing:
                yield Hit("XRF010", ing, path, f"host {host} path {p} is claimed by two Ingresses in {env}",
                          "keep one Ingress per host and path", [other], env=env)
            seen.setdefault(p, ing)

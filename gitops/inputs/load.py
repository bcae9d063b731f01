"""inventory/*.yaml + environments/*.yaml -> typed model.

Every problem found is collected (not just the first), each naming file, line,
field path, and expected vs found. Nothing is written by this module.
"""
from __future__ import annotations

import ipaddress
import json
import re
from dataclasses import replace
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from .compiled_schema import compiled_validator
from .conventions import ENVIRONMENTS_DIR, INVENTORY_DIR
from .delivery import settings_problems as delivery_problems
from ..errors import InputError, Problem
from .inputcheck import file_size_problem, string_problems
from .k8s_syntax import label_value_problem, qualified_name_problem
from .namespaces import reserved_namespaces
from .secretscan import RULE_ID as SECRET_RULE, looks_secret
from .model import (
    Alerting, Autoscaling, BackingEndpoint, Component, ComponentSettings, CustomMetric,
    Dependency, Environment, EnvVar, Health, Image, LimitRangeSpec, Metrics, NodeCapacity,
    Platform, Quota, Resources, SecretRef, SecretStore, Volume,
)
from .model import ArgoCDSettings, SyncWindow, image_group
from .model import ExternalEgress, Unauthenticated
from .model import CanaryStep, DeliverySettings
from .schema_errors import short
from .yamlsource import SourceDoc, load_yaml

if TYPE_CHECKING:  # imported by validators(), on the failure path only
    from jsonschema import Draft202012Validator



def _schema(name: str) -> dict:
    return json.loads(resources.files("gitops.schemas").joinpath(name).read_text())


_KIND_FILES = {"component": "component.schema.json", "environment": "environment.schema.json"}


@lru_cache(maxsize=None)
def _schema_of(kind: str) -> dict:
    return _schema(_KIND_FILES[kind])


def _resolve(node: dict, kind: str) -> tuple[dict, str]:
    """Follow a ``$ref`` (local ``#/$defs/x`` or ``component.schema.json#/$defs/x``) to its target."""
    while "$ref" in node:
        target, _, pointer = node["$ref"].partition("#")
        if target:
            kind = next(k for k, f in _KIND_FILES.items() if target.endswith(f))
        node = _schema_of(kind)
        for part in pointer.strip("/").split("/"):
            node = node[part]
    return node, kind


@lru_cache(maxsize=None)
def schema_default(kind: str, *path: str):
    """The ``default`` the input schema declares for a field: the one home of every input default.

    ``path`` follows ``properties`` through ``$ref`` and ``allOf``; ``"[]"`` steps into array items.
    KeyError when the schema declares no default there (a generator bug, caught by the tests)."""
    node, current = _schema_of(kind), kind
    for key in path:
        node, current = _resolve(node, current)
        if key == "[]":
            node = node["items"]
            continue
        candidates = [(node, current), *(_resolve(part, current) for part in node.get("allOf", ()))]
        node, current = next((c["properties"][key], k) for c, k in candidates if key in c.get("properties", {}))
    return node["default"] if "default" in node else _resolve(node, current)[0]["default"]


# JSON Schema patterns are ECMA-262 regular expressions, where ``$`` (no multiline flag) matches only
# at the end of the input (https://json-schema.org/draft/2020-12/json-schema-validation#section-6.3.3,
# tc39.es/ecma262 "Assertion :: $"). Python's ``$`` also matches before a final newline, so jsonschema
# accepted "v1.2.0\n" as a tag. Translate unescaped ``$`` to ``\Z`` exactly as fastjsonschema does
# (fastjsonschema/draft04.py DOLLAR_FINDER), so both checks agree.
_DOLLAR = re.compile(r"(?<!\\)\$")


@lru_cache(maxsize=None)
def _ecma_regex(pattern: str) -> re.Pattern:
    return re.compile(_DOLLAR.sub(r"\\Z", pattern))


def _pattern(validator, pattern, instance, schema):
    from jsonschema import ValidationError

    if validator.is_type(instance, "string") and not _ecma_regex(pattern).search(instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


@lru_cache(maxsize=None)
def validators() -> tuple[Draft202012Validator, Draft202012Validator]:
    """The explaining validators (jsonschema), built only when a document fails the compiled check:
    importing jsonschema (attrs, referencing) costs ~50 ms that a valid checkout never needs."""
    from jsonschema import Draft202012Validator
    from jsonschema import validators as jsonschema_validators
    from referencing import Registry, Resource

    explaining = jsonschema_validators.extend(Draft202012Validator, {"pattern": _pattern})
    component, environment = _schema("component.schema.json"), _schema("environment.schema.json")
    registry = Registry().with_resources([
        ("component.schema.json", Resource.from_contents(component)),
        ("https://meetinity.dev/schemas/component.schema.json", Resource.from_contents(component)),
    ])
    return (explaining(component, registry=registry), explaining(environment, registry=registry))


def _bundled(schema: dict, external: dict, prefix: str) -> dict:
    """``schema`` with refs into ``external`` (component.schema.json#/$defs/x) inlined as local $defs."""
    external_defs = json.dumps(external["$defs"])
    for name in external["$defs"]:  # the external defs refer to each other locally
        external_defs = external_defs.replace(f'"#/$defs/{name}"', f'"#/$defs/{prefix}{name}"')
    bundled = json.loads(json.dumps(schema).replace('"component.schema.json#/$defs/', f'"#/$defs/{prefix}'))
    bundled["$defs"] = {**bundled.get("$defs", {}),
                        **{prefix + k: v for k, v in json.loads(external_defs).items()}}
    return bundled


@lru_cache(maxsize=None)
def fast_validators():
    """Compiled (fastjsonschema) checks for the happy path: ~6x faster than jsonschema.

    Only a yes/no: when a document fails, jsonschema re-validates it to explain every
    problem. tests/test_load_fuzz.py checks both agree on fuzzed documents.
    """
    component, environment = _schema("component.schema.json"), _schema("environment.schema.json")
    environment = _bundled(environment, component, "component_")
    for schema in (component, environment):
        # Without $id every $ref is local: fastjsonschema must never try to fetch a URL.
        schema.pop("$id", None)
        schema.pop("$schema", None)
    # use_default=False: fastjsonschema would otherwise write schema defaults into the data, and an
    # environment override would then silently replace inherited inventory values with defaults.
    return (compiled_validator(component, use_default=False),
            compiled_validator(environment, use_default=False))


def schema_valid(data, kind: str) -> bool:
    import fastjsonschema

    check = fast_validators()[0 if kind == "component" else 1]
    try:
        check(data)
        return True
    except fastjsonschema.JsonSchemaException:
        return False


def _schema_problems(doc: SourceDoc, kind: str) -> list[Problem]:
    if schema_valid(doc.data, kind):
        return []
    from .schema_errors import describe, missing_field, most_specific, unknown_fields, unknown_fields_message

    validator = validators()[0 if kind == "component" else 1]
    problems = []
    for err in sorted(validator.iter_errors(doc.data), key=lambda e: (list(map(str, e.absolute_path)), e.message)):
        err = most_specific(err)  # the cause of a oneOf/anyOf failure, not "one of the forms"
        path = tuple(err.absolute_path)
        where = "/".join(map(str, path))
        if err.validator == "additionalProperties":
            # One problem per unknown field, at the line of its key.
            for extra in unknown_fields(err):
                problems.append(Problem(doc.file, "/".join(map(str, path + (extra,))),
                                        unknown_fields_message(err, [extra]), doc.line_of_key(path + (extra,))))
            continue
        if err.validator == "required":
            # At the object that lacks it (the document's first line for a top-level field).
            missing = missing_field(err)
            problems.append(Problem(doc.file, "/".join(map(str, path + (missing,))),
                                    f"missing required field: {missing}", doc.line_of(path) or 1))
            continue
        problems.append(Problem(doc.file, where or "(document)", describe(err), doc.line_of(path)))
    if not problems:
        # The compiled check said no and the explaining one found nothing: never accept the document.
        problems.append(Problem(doc.file, "(document)", f"does not match the {kind} schema (the compiled check rejected "
                                "it and the detailed check found no reason; please report this with the file)", 1))
    return problems


def _resources(d: dict | None) -> Resources | None:
    if not d:
        return None
    return Resources(d["requests"]["cpu"], d["requests"]["memory"], d["limits"]["cpu"], d["limits"]["memory"])


def _custom(items) -> tuple[CustomMetric, ...]:
    return tuple(CustomMetric(m["name"], m["series"], m["targetAverageValue"]) for m in items or ())


def _autoscaling(d: dict | None, base: Autoscaling | None = None) -> Autoscaling | None:
    if d is None:
        return base
    def pick(key, attr):
        """The override's value, else the component's, else the schema default."""
        if key in d:
            return d[key]
        return getattr(base, attr) if base else schema_default("component", "autoscaling", key)
    return Autoscaling(
        min_replicas=pick("min", "min_replicas"),
        max_replicas=pick("max", "max_replicas"),
        cpu_utilization=pick("cpu", "cpu_utilization"),
        memory_utilization=pick("memory", "memory_utilization"),
        custom_metrics=_custom(d["customMetrics"]) if "customMetrics" in d else (base.custom_metrics if base else ()),
        scale_down_stabilization_seconds=pick("scaleDownStabilizationSeconds", "scale_down_stabilization_seconds"),
        scale_up_percent=pick("scaleUpPercent", "scale_up_percent"),
    )


def _secret(name: str, component: str, spec) -> SecretRef | None:
    if spec is None or spec is False:
        return None
    if spec is True:
        return SecretRef(key=f"services/{component}", property=name)
    return SecretRef(key=spec["key"], property=spec.get("property", name))


def _component(d: dict, file: str) -> Component:
    name = d["name"]
    source = d.get("source") or {}
    alerting = d.get("alerting") or {}
    health = d.get("health")
    metrics = d.get("metrics")
    return Component(
        name=name,
        kind=d["kind"],
        description=d["description"],
        owner=d["owner"],
        reviewers=tuple(d.get("reviewers", ())),
        # A backing service's tier is "backing" unless the file says otherwise; the rest default per schema.
        tier=d.get("tier") or ("backing" if d["kind"] == "backing" else schema_default("component", "tier")),
        status=d.get("status", schema_default("component", "status")),
        language=d.get("language", ""),
        runtime=d.get("runtime", ""),
        source_path=source.get("path"),
        source_repository=source.get("repository"),
        runs_before=d.get("runsBefore"),
        dockerfile=source.get("dockerfile"),
        image_repository=d.get("image"),
        build_command=d.get("build"),
        start_command=d.get("start"),
        port=d.get("port"),
        health=Health(health["liveness"], health["readiness"], health.get("startup"),
                      tuple(health.get("aggregates", ()))) if health else None,
        metrics=Metrics(path=metrics.get("path", schema_default("component", "metrics", "path"))) if metrics is not None else None,
        env=tuple(
            EnvVar(name=e["name"], value=e.get("value"), secret=_secret(e["name"], name, e.get("secret")),
                   required=e.get("required", schema_default("component", "env", "[]", "required")),
                   description=e.get("description", ""), waivers=tuple(sorted((e.get("waivers") or {}).items())))
            for e in d.get("env", ())
        ),
        dependencies=tuple(
            Dependency(x["name"], x["port"], x.get("optional", schema_default("component", "dependencies", "[]", "optional")),
                       x.get("protocol", schema_default("component", "dependencies", "[]", "protocol")))
            for x in d.get("dependencies", ())
        ),
        volumes=tuple(
            Volume(v["name"], v["mountPath"], v.get("kind", schema_default("component", "volumes", "[]", "kind")),
                   v.get("size", schema_default("component", "volumes", "[]", "size")))
            for v in d.get("volumes", ())
        ),
        public_subdomain=(d.get("public") or {}).get("subdomain"),
        resources=_resources(d.get("resources")),
        autoscaling=_autoscaling(d.get("autoscaling")),
        schedule=d.get("schedule"),
        command=tuple(d.get("command", ())),
        alerting=Alerting(
            error_ratio=alerting.get("errorRatio", schema_default("component", "alerting", "errorRatio")),
            p95_latency_seconds=alerting.get("p95LatencySeconds", schema_default("component", "alerting", "p95LatencySeconds")),
            requests_counter=alerting.get("requestsCounter"),
            latency_histogram=alerting.get("latencyHistogram"),
        ),
        cloud_identity=d.get("cloudIdentity", schema_default("component", "cloudIdentity")),
        engine=d.get("engine"),
        source_file=file,
        unauthenticated=_unauthenticated(d.get("unauthenticated")),
        external_egress=tuple(
            ExternalEgress(x["name"], tuple(x["hosts"]), x["port"],
                           tuple(x.get("cidrs", schema_default("component", "externalEgress", "[]", "cidrs"))),
                           x.get("protocol", schema_default("component", "externalEgress", "[]", "protocol")),
                           x.get("description", ""))
            for x in d.get("externalEgress", ())
        ),
        delivery=_delivery(d.get("delivery")),
    )


def _unauthenticated(d: dict | None) -> Unauthenticated | None:
    if d is None:
        return None
    return Unauthenticated(tuple(d["paths"]), tuple(d.get("exemptPathsEnv", ())))


def _environment(d: dict, file: str, components: dict[str, Component]) -> Environment:
    store = d["secretStore"]
    policy = d.get("policy") or {}
    settings = []
    for cname, s in sorted(d["components"].items()):
        comp = components.get(cname)
        base_auto = comp.autoscaling if comp else None
        img = s.get("image")
        settings.append((cname, ComponentSettings(
            enabled=s["enabled"],
            image=Image(img["tag"], img.get("digest")) if img else None,
            replicas=s.get("replicas"),
            resources=_resources(s.get("resources")),
            autoscaling=_autoscaling(s.get("autoscaling"), base_auto) if "autoscaling" in s else None,
            env=tuple(sorted((s.get("env") or {}).items())),
            secret_keys=tuple(sorted(
                (k, SecretRef(v["key"], v.get("property", k))) for k, v in (s.get("secrets") or {}).items()
            )),
            delivery=_delivery(s.get("delivery")),
        )))
    q, lr, nc = d["quota"], d["limitRange"], d["nodeCapacity"]
    return Environment(
        name=d["name"],
        promotes_from=d.get("promotesFrom"),
        cluster_name=d["cluster"]["name"],
        cluster_server=d["cluster"]["server"],
        kubernetes_version=str(d.get("kubernetesVersion", schema_default("environment", "kubernetesVersion"))),
        namespace=d["namespace"],
        domain=d["domain"],
        secret_store=SecretStore(
            name=store["name"], kind=store.get("kind", schema_default("environment", "secretStore", "kind")),
            server=store["server"], path=store.get("path", schema_default("environment", "secretStore", "path")),
            version=store.get("version", schema_default("environment", "secretStore", "version")), role=store["role"],
            key_prefix=store["keyPrefix"],
        ),
        cluster_issuer=d.get("clusterIssuer", schema_default("environment", "clusterIssuer")),
        aws_account_id=d.get("awsAccountId"),
        pull_secret_key=d.get("pullSecretKey", schema_default("environment", "pullSecretKey")),
        quota=Quota(q["requests"]["cpu"], q["requests"]["memory"], q["limits"]["cpu"], q["limits"]["memory"], q["pods"]),
        limit_range=LimitRangeSpec(
            lr["default"]["cpu"], lr["default"]["memory"], lr["defaultRequest"]["cpu"], lr["defaultRequest"]["memory"],
            lr["max"]["cpu"], lr["max"]["memory"], lr["min"]["cpu"], lr["min"]["memory"],
        ),
        node_capacity=NodeCapacity(nc["instanceType"], nc["min"], nc["max"], nc["cpuPerNode"], nc["memoryPerNode"]),
        backing=tuple(sorted(
            (k, BackingEndpoint(v["host"], v["port"], v["cidr"])) for k, v in (d.get("backing") or {}).items()
        )),
        components=tuple(settings),
        require_digest=policy.get("requireDigest", schema_default("environment", "policy", "requireDigest")),
        auto_sync=policy.get("autoSync", schema_default("environment", "policy", "autoSync")),
        labels=tuple(sorted((d.get("labels") or {}).items())),
        source_file=file,
        decommissioned=tuple(d.get("decommissioned", ())),
        argocd=_argocd(d.get("argocd") or {}),
        soak=d.get("soak", schema_default("environment", "soak")),
        prometheus=(d.get("prometheus") or {}).get("server"),
        delivery=_delivery(d.get("delivery")),
    )


def _delivery(d: dict | None) -> DeliverySettings:
    d = d or {}
    steps = d.get("steps")
    return DeliverySettings(
        strategy=d.get("strategy"),
        steps=None if steps is None else tuple(CanaryStep(x.get("setWeight"), x.get("pause")) for x in steps),
        analysis=d.get("analysis"),
        auto_promotion=d.get("autoPromotion"),
    )


def _argocd(d: dict) -> ArgoCDSettings:
    windows = d.get("syncWindows")
    return ArgoCDSettings(
        slack_channel=d.get("slackChannel", schema_default("environment", "argocd", "slackChannel")),
        sync_windows=None if windows is None else tuple(
            SyncWindow(w["kind"], w["schedule"], w["duration"],
                       w.get("timeZone", schema_default("environment", "argocd", "syncWindows", "[]", "timeZone")),
                       w.get("manualSync", schema_default("environment", "argocd", "syncWindows", "[]", "manualSync")),
                       w.get("description", ""))
            for w in windows
        ),
        sync_groups=tuple(d.get("syncGroups", schema_default("environment", "argocd", "syncGroups"))),
        server=d.get("server"),
    )


def _yaml_files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())


def load_platform(root: Path | str = ".") -> Platform:
    """Load and validate every input file under ``root``. Raises InputError listing all problems."""
    root = Path(root)
    problems: list[Problem] = []
    broken: set[str] = set()  # files that failed: do not cascade "unknown component" errors from them

    def read(folder: str, kind: str) -> list[SourceDoc]:
        docs = []
        files = _yaml_files(root / folder)
        if not files:
            problems.append(Problem(f"{folder}/", "", "no YAML files found"))
        for path in files:
            rel = f"{folder}/{path.name}"
            too_big = file_size_problem(path.stat().st_size, rel)
            if too_big:
                problems.append(too_big)
                broken.add(path.stem)
                continue
            try:
                doc = load_yaml(path, rel)
            except InputError as exc:
                problems.extend(exc.problems)
                broken.add(path.stem)
                continue
            if not isinstance(doc.data, dict):
                problems.append(Problem(rel, "(document)", f"expected a mapping, found {short(doc.data)}", 1))
                broken.add(path.stem)
                continue
            errs = string_problems(doc) or _schema_problems(doc, kind)
            if errs:
                problems.extend(errs)
                broken.add(path.stem)
                continue
            if doc.data.get("name") != path.stem:
                problems.append(Problem(rel, "name", f"expected {path.stem!r} (the file name), found {doc.data.get('name')!r}", doc.line_of(("name",))))
                continue
            docs.append(doc)
        return docs

    comp_docs = read(INVENTORY_DIR, "component")
    env_docs = read(ENVIRONMENTS_DIR, "environment")
    components = {d.data["name"]: _component(d.data, d.file) for d in comp_docs}
    problems.extend(_check_components(comp_docs, components, broken))
    environments = _with_production({d.data["name"]: _environment(d.data, d.file, components) for d in env_docs})
    problems.extend(_check_environments(env_docs, environments, components, broken))
    if problems:
        raise InputError(problems)
    return Platform(
        components=tuple(components[k] for k in sorted(components)),
        environments=_promotion_order(environments),
    )


def _with_production(envs: dict[str, Environment]) -> dict[str, Environment]:
    """Mark the end of each promotion chain as production (see ``Environment.production``)."""
    sources = {e.promotes_from for e in envs.values()}
    return {name: replace(e, production=e.promotes_from is not None and name not in sources)
            for name, e in envs.items()}


def _digest_reason(env: Environment) -> str:
    return "it is production: the end of the promotion chain" if env.production else "policy.requireDigest"


def _promotion_order(envs: dict[str, Environment]) -> tuple[Environment, ...]:
    """dev -> staging -> prod: roots first, then whoever promotes from them."""
    return tuple(envs[name] for name in chain_order({n: e.promotes_from for n, e in envs.items()}))


def chain_order(promotes_from: dict[str, str | None]) -> list[str]:
    """Environment names, roots first, then whoever promotes from them (a cycle ends the walk, sorted)."""
    ordered: list[str] = []
    remaining = dict(sorted(promotes_from.items()))
    while remaining:
        ready = [n for n, source in remaining.items() if source is None or source not in remaining] or list(remaining)
        for name in ready:
            ordered.append(name)
            del remaining[name]
    return ordered


def environment_names(root: Path | str) -> list[str]:
    """Names of environments/*.yaml in promotion order, read cheaply (only ``promotesFrom``; no validation)."""
    import yaml

    sources: dict[str, str | None] = {}
    for path in _yaml_files(Path(root) / ENVIRONMENTS_DIR):
        try:
            data = yaml.load(path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        except (OSError, UnicodeDecodeError, yaml.YAMLError):
            data = None
        source = data.get("promotesFrom") if isinstance(data, dict) else None
        sources[path.stem] = source if isinstance(source, str) else None
    return chain_order(sources)


def check_environment_names(root: Path | str, names, flag: str = "--env") -> None:
    """InputError naming each unknown environment and the known ones (in promotion order)."""
    known = environment_names(root)
    unknown = [n for n in names if n not in known]
    if unknown:
        raise InputError([Problem("(command line)", flag, f"unknown environment {n!r}; expected one of {', '.join(known)}")
                          for n in unknown])


def _check_components(docs: list[SourceDoc], components: dict[str, Component], broken: set[str]) -> list[Problem]:
    problems = []
    subdomains: dict[str, str] = {}
    for doc in docs:
        c = components[doc.data["name"]]
        raw = doc.data
        seen_env: dict[str, int] = {}
        for i, e in enumerate(raw.get("env", ())):
            if e["name"] in seen_env:
                problems.append(Problem(doc.file, f"env/{i}/name", f"duplicate env var {e['name']!r} (first at env/{seen_env[e['name']]})", doc.line_of(("env", i, "name"))))
            seen_env.setdefault(e["name"], i)
            problems.extend(_plain_secret(doc.file, ("env", i, "value"), c.env[i], e.get("value"), doc))
        seen_dep: dict[str, int] = {}
        for i, dep in enumerate(raw.get("dependencies", ())):
            if dep["name"] in seen_dep:
                problems.append(Problem(doc.file, f"dependencies/{i}/name", f"duplicate dependency {dep['name']!r}", doc.line_of(("dependencies", i, "name"))))
            seen_dep.setdefault(dep["name"], i)
            target = components.get(dep["name"])
            if target is None and dep["name"] in broken:
                continue
            if target is None:
                problems.append(Problem(doc.file, f"dependencies/{i}/name",
                                        f"expected the name of an inventory component, found unknown {dep['name']!r} (known: {', '.join(sorted(components))})",
                                        doc.line_of(("dependencies", i, "name"))))
            elif dep["name"] == c.name:
                problems.append(Problem(doc.file, f"dependencies/{i}/name", "a component cannot depend on itself", doc.line_of(("dependencies", i, "name"))))
            elif target.port is not None and dep["port"] != target.port and target.kind != "backing":
                problems.append(Problem(doc.file, f"dependencies/{i}/port",
                                        f"expected {target.port} (the port {target.name} listens on), found {dep['port']}",
                                        doc.line_of(("dependencies", i, "port"))))
        seen_vol: set[str] = set()
        for i, v in enumerate(raw.get("volumes", ())):
            if v["name"] in seen_vol or v["mountPath"] in {x["mountPath"] for x in raw["volumes"][:i]}:
                problems.append(Problem(doc.file, f"volumes/{i}", "duplicate volume name or mount path", doc.line_of(("volumes", i))))
            seen_vol.add(v["name"])
        if c.public_subdomain:
            if c.public_subdomain in subdomains:
                problems.append(Problem(doc.file, "public/subdomain",
                                        f"duplicate host: subdomain {c.public_subdomain!r} is already used by {subdomains[c.public_subdomain]}",
                                        doc.line_of(("public", "subdomain"))))
            subdomains.setdefault(c.public_subdomain, c.name)
        if c.public_subdomain and not c.is_serving:
            problems.append(Problem(doc.file, "public", f"only api/frontend components can be public, this one is {c.kind!r}", doc.line_of(("public",))))
        if c.autoscaling and c.autoscaling.min_replicas > c.autoscaling.max_replicas:
            problems.append(Problem(doc.file, "autoscaling", f"expected min <= max, found min {c.autoscaling.min_replicas} > max {c.autoscaling.max_replicas}", doc.line_of(("autoscaling",))))
        if c.autoscaling and not c.is_long_running:
            problems.append(Problem(doc.file, "autoscaling", f"only long-running components scale; {c.kind!r} cannot", doc.line_of(("autoscaling",))))
        if c.autoscaling and c.autoscaling.custom_metrics and c.metrics is None:
            problems.append(Problem(doc.file, "autoscaling/customMetrics",
                                    "custom metrics need a scraped metrics endpoint: declare metrics: {path: ...}", doc.line_of(("autoscaling", "customMetrics"))))
        problems.extend(_check_probes_and_auth(doc, c))
        problems.extend(delivery_problems(doc.file, ("delivery",), c.delivery, doc.line_of, c.kind))
        if c.runs_before is not None:
            problems.extend(_check_runs_before(doc, c, components, broken))
        names = [m.name for m in (c.autoscaling.custom_metrics if c.autoscaling else ())]
        if len(names) != len(set(names)):
            problems.append(Problem(doc.file, "autoscaling/customMetrics", "duplicate custom metric name", doc.line_of(("autoscaling", "customMetrics"))))
    return problems


def _check_probes_and_auth(doc: SourceDoc, c: Component) -> list[Problem]:
    """Liveness never depends on other services; probes and the scrape reach the app without credentials."""
    problems = []
    if c.health:
        for key, path in (("liveness", c.health.liveness_path), ("startup", c.health.startup)):
            if path in c.health.aggregating_paths:
                field = key if key == "liveness" or c.health.startup_path else "liveness"
                problems.append(Problem(doc.file, f"health/{field}",
                                        f"expected an endpoint that checks only this process for the {key} probe, found {path!r}, "
                                        "which health/aggregates lists as depending on other services (one backend outage would "
                                        "restart every pod)", doc.line_of(("health", field))))
    for i, x in enumerate(doc.data.get("externalEgress", ())):
        for j, cidr in enumerate(x.get("cidrs", ())):
            try:
                ipaddress.ip_network(cidr, strict=True)
            except ValueError as exc:
                problems.append(Problem(doc.file, f"externalEgress/{i}/cidrs/{j}", f"expected an IPv4 network, found {cidr!r} ({exc})",
                                        doc.line_of(("externalEgress", i, "cidrs", j))))
    if c.unauthenticated is None:
        return problems
    needed = dict(c.health.probe_paths) if c.health else {}
    if c.metrics:
        needed["metrics scrape"] = c.metrics.path
    for what, path in needed.items():
        if path not in c.unauthenticated.paths:
            problems.append(Problem(doc.file, "unauthenticated/paths",
                                    f"expected the {what} path {path} among the unauthenticated paths (the kubelet and Prometheus "
                                    f"send no credentials), found {', '.join(c.unauthenticated.paths)}",
                                    doc.line_of(("unauthenticated", "paths"))))
    declared = {e.name for e in c.env}
    for i, var in enumerate(c.unauthenticated.exempt_paths_env):
        if var in declared:
            problems.append(Problem(doc.file, f"unauthenticated/exemptPathsEnv/{i}",
                                    f"{var} is generated from unauthenticated/paths; expected it not to be declared under env too",
                                    doc.line_of(("unauthenticated", "exemptPathsEnv", i))))
    return problems


def _check_environments(docs: list[SourceDoc], envs: dict[str, Environment], components: dict[str, Component],
                        broken: set[str]) -> list[Problem]:
    problems = []
    namespaces: dict[str, str] = {}
    domains: dict[str, str] = {}
    for doc in docs:
        env = envs[doc.data["name"]]
        for value, seen, what in ((env.namespace, namespaces, "namespace"), (env.domain, domains, "domain")):
            if value in seen:
                problems.append(Problem(doc.file, what, f"duplicate {what} {value!r}, already used by environment {seen[value]}", doc.line_of((what,))))
            seen.setdefault(value, env.name)
        if env.namespace in reserved_namespaces():
            problems.append(Problem(doc.file, "namespace", f"expected a namespace of this environment's own, found reserved "
                                    f"{env.namespace!r} (Kubernetes, Argo CD, ingress or add-on namespaces: "
                                    f"{', '.join(sorted(reserved_namespaces()))}); its default-deny policy, quota and "
                                    "Pod Security label would break what runs there", doc.line_of(("namespace",))))
        if env.promotes_from is not None and env.promotes_from not in envs and env.promotes_from not in broken:
            problems.append(Problem(doc.file, "promotesFrom", f"expected one of {', '.join(sorted(envs))}, found unknown environment {env.promotes_from!r}", doc.line_of(("promotesFrom",))))
        if env.promotes_from == env.name:
            problems.append(Problem(doc.file, "promotesFrom", "an environment cannot promote from itself", doc.line_of(("promotesFrom",))))
        problems.extend(delivery_problems(doc.file, ("delivery",), env.delivery, doc.line_of))
        for key, value in env.labels:  # they go on every object: the API server would refuse them all
            if problem := qualified_name_problem(key) or label_value_problem(value):
                problems.append(Problem(doc.file, f"labels/{key}", f"label {key!r}: {problem}", doc.line_of(("labels", key))))
        source = envs.get(env.promotes_from) if env.promotes_from else None
        metric_series: dict[str, tuple[str, str]] = {}  # adapter metric name -> (series, first component)
        for cname, s in env.components:
            path = ("components", cname)
            comp = components.get(cname)
            if comp is None and cname in broken:
                continue
            if comp is None:
                problems.append(Problem(doc.file, "/".join(path), f"expected an inventory component, found unknown {cname!r} (known: {', '.join(sorted(components))})", doc.line_of(path)))
                continue
            if not s.enabled:
                continue
            if comp.kind == "backing":
                problems.append(Problem(doc.file, "/".join(path), f"{cname} is a backing service: declare its endpoint under backing/, not components/", doc.line_of(path)))
                continue
            if comp.status == "planned":
                problems.append(Problem(doc.file, "/".join(path + ("enabled",)), f"{cname} is planned (not built yet); expected enabled: false", doc.line_of(path + ("enabled",))))
                continue
            if source is not None and not getattr(source.settings(cname), "enabled", False):
                # Promotion order: a version reaches this environment only through its source, so a
                # component enabled here alone would run a version nothing tested (was INV009).
                problems.append(Problem(doc.file, "/".join(path + ("enabled",)),
                                        f"expected {cname} enabled in {source.name} first (this environment is promoted "
                                        f"from {source.name}), found it enabled here only: it would reach {env.name} untested",
                                        doc.line_of(path + ("enabled",))))
            if s.image is None:
                problems.append(Problem(doc.file, "/".join(path + ("image",)), "an enabled component needs image.tag", doc.line_of(path)))
            elif env.requires_digest and not s.image.digest:
                problems.append(Problem(doc.file, "/".join(path + ("image", "digest")), f"environment {env.name} requires images pinned by digest ({_digest_reason(env)}); found tag {s.image.tag!r} without digest", doc.line_of(path + ("image",))))
            problems.extend(delivery_problems(doc.file, path + ("delivery",), s.delivery, doc.line_of, comp.kind))
            auto = s.autoscaling or comp.autoscaling
            for m in auto.custom_metrics if auto else ():
                # One Prometheus Adapter rule per metric name: two series under one name cannot both be served.
                series, first = metric_series.setdefault(m.name, (m.series, cname))
                if series != m.series:
                    problems.append(Problem(doc.file, "/".join(path + ("autoscaling", "customMetrics")),
                                            f"custom metric {m.name!r} reads series {m.series!r} here but {series!r} for {first}; "
                                            "expected one series per metric name (give the metric a distinct name)",
                                            doc.line_of(path + ("autoscaling",))))
            if auto and auto.custom_metrics and comp.metrics is None:
                problems.append(Problem(doc.file, "/".join(path + ("autoscaling", "customMetrics")),
                                        f"{cname} exposes no metrics endpoint (inventory metrics:), so nothing scrapes "
                                        f"{', '.join(m.series for m in auto.custom_metrics)}; expected no custom metrics",
                                        doc.line_of(path + ("autoscaling",))))
            if auto and auto.min_replicas > auto.max_replicas:
                problems.append(Problem(doc.file, "/".join(path + ("autoscaling",)), f"expected min <= max, found min {auto.min_replicas} > max {auto.max_replicas}", doc.line_of(path + ("autoscaling",))))
            if comp.runs_before is not None and comp.runs_before in components and not getattr(env.settings(comp.runs_before), "enabled", False):
                problems.append(Problem(doc.file, "/".join(path + ("enabled",)),
                                        f"{cname} runs before {comp.runs_before} (inventory runsBefore) as a hook of its "
                                        f"Application; expected {comp.runs_before} enabled here too, found it disabled or absent",
                                        doc.line_of(path + ("enabled",))))
            elif comp.runs_before is not None and s.image is not None and image_group(components, cname) != (cname,):
                workload = env.settings(comp.runs_before)
                if workload is not None and workload.image is not None and workload.image != s.image:
                    # Migrations of another version than the one rolling out: the hook would migrate the
                    # schema for code that is not there (or not migrate for code that is).
                    problems.append(Problem(doc.file, "/".join(path + ("image",)),
                                            f"{cname} runs before {comp.runs_before} from the same image repository, so it "
                                            f"migrates for that version; expected {comp.runs_before}'s image here "
                                            f"({_image_text(workload.image)}), found {_image_text(s.image)} "
                                            f"(gitops bump and gitops promote move both together)",
                                            doc.line_of(path + ("image",))))
            declared = {e.name for e in comp.env}
            for key, _ in s.env:
                if key not in declared:
                    problems.append(Problem(doc.file, "/".join(path + ("env", key)), f"expected a variable declared in inventory/{cname}.yaml env, found undeclared {key!r}", doc.line_of(path + ("env", key))))
                elif any(e.name == key and e.is_secret for e in comp.env):
                    problems.append(Problem(doc.file, "/".join(path + ("env", key)), f"{key} is a secret: map it under secrets/, never as a plain value", doc.line_of(path + ("env", key))))
                else:
                    var = next(e for e in comp.env if e.name == key)
                    problems.extend(_plain_secret(doc.file, path + ("env", key), var, dict(s.env)[key], doc))
            secret_names = {e.name for e in comp.env if e.is_secret}
            for key, _ in s.secret_keys:
                if key not in secret_names:
                    problems.append(Problem(doc.file, "/".join(path + ("secrets", key)), f"expected a secret variable declared in inventory/{cname}.yaml, found {key!r}", doc.line_of(path + ("secrets", key))))
            for dep in comp.dependencies:
                target = components.get(dep.name)
                if target and target.kind == "backing" and not dep.optional and env.backing_endpoint(dep.name) is None:
                    problems.append(Problem(doc.file, "backing", f"{cname} depends on backing service {dep.name!r} but this environment declares no endpoint for it under backing/{dep.name}", doc.line_of(("backing",))))
        for bname, _ in env.backing:
            if bname in broken:
                continue
            if bname not in components or components[bname].kind != "backing":
                problems.append(Problem(doc.file, f"backing/{bname}", f"expected a backing service from the inventory, found {bname!r}", doc.line_of(("backing", bname))))
    return problems


def _image_text(image) -> str:
    return f"tag {image.tag}" + (f", digest {image.digest}" if image.digest else "")


def _check_runs_before(doc: SourceDoc, c: Component, components: dict[str, Component], broken: set[str]) -> list[Problem]:
    """runsBefore names a long-running component, and only jobs have it (a hook runs to completion)."""
    where, line = "runsBefore", doc.line_of(("runsBefore",))
    if c.kind != "job":
        return [Problem(doc.file, where, f"only job components run as a hook before a workload; this one is {c.kind!r}", line)]
    target = components.get(c.runs_before)
    if target is None:
        if c.runs_before in broken:
            return []
        return [Problem(doc.file, where, f"expected the name of an inventory component, found unknown {c.runs_before!r}", line)]
    if not target.is_long_running:
        return [Problem(doc.file, where, f"expected a long-running component (api, frontend, worker), found {target.name!r} "
                        f"of kind {target.kind!r}", line)]
    return []


def _plain_secret(file: str, path: tuple, var: EnvVar, value: str | None, doc: SourceDoc) -> list[Problem]:
    """A plain setting that looks like a credential (gitops/inputs/secretscan.py), unless its inventory entry waives it."""
    if var.is_secret or dict(var.waivers).get(SECRET_RULE):
        return []
    why = looks_secret(var.name, value)
    if why is None:
        return []
    return [Problem(file, "/".join(map(str, path)),
                    f"expected no credential in a plain setting, found {var.name} where {why}: plain settings are "
                    "rendered into a ConfigMap and every promotion diff. Declare it secret: true (secret store), "
                    f'or waive it on the inventory variable with waivers: {{{SECRET_RULE}: "<reason>"}}',
                    doc.line_of(path))]

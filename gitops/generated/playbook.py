"""docs/autoscaling-playbook.md, generated from the inventory (registered in gitops/pipeline/outputs.py).

Everything a reviewer needs to size and operate the autoscaling of every component in every
environment, from the same model the manifests come from: requests/limits, HPA bounds and
targets, custom metrics and their adapter rules, VPA bounds, alert thresholds, capacity against
quota and nodes, the runbook of each alert (the PrometheusRules link here) and the review
procedure (cadence and thresholds from the previous playbook, docs/autoscaling-playbook.md of the old monorepo).

Pure Python: builds no cdk8s objects, so ``gitops synth`` renders it in the parent process.
"""
from __future__ import annotations

from charts.autoscaling import SCALE_DOWN_PERCENT_PER_MINUTE, SCALE_UP_STABILIZATION_SECONDS
from charts.context import ComponentContext
from charts.alerts import ALERTS, MEMORY_NEAR_LIMIT_RATIO, alerts_for
from charts.promql import RATE_WINDOW
from charts.service_monitor import PROMETHEUS_SELECTOR_LABELS, SCRAPE_INTERVAL, scrapes
from charts.vpa import applies as has_vpa, vpa_bounds

from .adapter import adapter_rules
from ..ops.capacity import (
    DAEMONSET_CPU, DAEMONSET_MEMORY, RESOURCES, SYSTEM_RESERVE_FRACTION, environment_capacity, show,
)
from ..inputs.model import Environment, Platform
from ..inputs.quantity import format_cpu, format_memory, human_cpu, human_memory

# Review cadence of the previous playbook (weekly, monthly, quarterly), kept as numbers the text and checks share.
RESCALES_PER_HOUR_MAX = 12
IDLE_UTILIZATION_PCT = 30
VPA_DRIFT_PCT = 20


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
    return out


def _contexts(platform: Platform, env: Environment) -> list[ComponentContext]:
    return [ComponentContext.of(platform, env, c) for c in platform.enabled_components(env)]


def _scaling_rows(ctxs: list[ComponentContext]) -> list[list[str]]:
    rows = []
    for ctx in ctxs:
        r, auto = ctx.resolved, ctx.resolved.autoscaling
        res = f"{r.resources.cpu_request} / {r.resources.memory_request}"
        lim = f"{r.resources.cpu_limit} / {r.resources.memory_limit}"
        if auto:
            replicas = f"{auto.min_replicas}–{auto.max_replicas} (HPA)"
            targets = f"{auto.cpu_utilization}% / {auto.memory_utilization}%"
            custom = "<br>".join(f"`{m.name}` {m.target_average_value}/pod (from `{m.series}`)" for m in auto.custom_metrics) or "–"
            down = f"{auto.scale_down_stabilization_seconds}s"
            up = f"{auto.scale_up_percent}%/min"
        elif ctx.component.kind in ("job", "cronjob"):
            replicas, targets, custom, down, up = f"1 ({ctx.component.kind})", "–", "–", "–", "–"
        else:
            replicas, targets, custom, down, up = f"{r.replicas} (fixed)", "–", "–", "–", "–"
        if has_vpa(ctx):
            lo, hi = vpa_bounds(ctx)
            vpa = f"{lo['cpu']}/{lo['memory']} → {hi['cpu']}/{hi['memory']}"
        else:
            vpa = "–"
        rows.append([f"`{ctx.name}`", res, lim, replicas, targets, custom, up, down, vpa])
    return rows


def _alert_rows(ctxs: list[ComponentContext]) -> list[list[str]]:
    rows = []
    for ctx in ctxs:
        a = ctx.component.alerting
        names = {x.name for x in alerts_for(ctx)}
        errors = f"> {a.error_ratio * 100:g}% 5xx (`{a.requests_counter}`)" if "HighErrorRatio" in names else "– (no requests counter)"
        latency = f"> {a.p95_latency_seconds:g}s (`{a.latency_histogram}`)" if "HighP95Latency" in names else "– (no latency histogram)"
        scraped = f"`{ctx.component.metrics.path}` on port `http`" if scrapes(ctx) else "– (no /metrics)"
        rows.append([f"`{ctx.name}`", scraped, errors, latency,
                     ", ".join(f"[{x.name}](#{x.anchor})" for x in alerts_for(ctx))])
    return rows


def _capacity_lines(platform: Platform, env: Environment) -> list[str]:
    cap = environment_capacity(platform, env)
    cpu_cap, mem_cap = cap.nodes.allocatable(cap.nodes.nodes_max)
    rows = []
    for label, usage in (("at HPA min", cap.at_min), ("at HPA max", cap.at_max),
                         ("at HPA max + rollout surge", cap.at_surge), ("ResourceQuota `compute`", cap.quota)):
        rows.append([label, *(show(r, usage.get(r)) for r in RESOURCES)])
    rows.append([f"{cap.nodes.nodes_max} × {cap.nodes.instance_type} allocatable", human_cpu(cpu_cap), human_memory(mem_cap), "–", "–", "–"])
    lines = _table(["", *RESOURCES], rows)
    lines.append("")
    if cap.findings:
        lines += [f"- **{f.severity}**: {f.message}" for f in cap.findings]
    lines.append(f"- {'The HPA maximum fits the quota and the node group.' if cap.ok else '**The HPA maximum does not fit**: `gitops capacity` exits 1.'}")
    return lines


def _adapter_lines(platform: Platform, env: Environment) -> list[str]:
    rules = adapter_rules(platform, env)
    if not rules:
        return ["No custom metrics: the HPAs scale on CPU and memory only."]
    rows = [[f"`{r['name']['as']}`", f"`{r['seriesQuery']}`", f"`{r['metricsQuery']}`"] for r in rules]
    return _table(["custom metric", "series (what the app exports)", "query"], rows)


def render_playbook(platform: Platform) -> bytes:
    env_names = ", ".join(e.name for e in platform.environments)
    lines = [
        "# Autoscaling and observability playbook",
        "",
        "<!-- Generated by `gitops synth` from inventory/ and environments/ (gitops/generated/playbook.py). Do not edit: "
        "`gitops synth --check` fails when this file is stale. -->",
        "",
        f"Environments: {env_names}. Every number below comes from `inventory/<component>.yaml` merged with "
        "`environments/<env>.yaml`, exactly as the manifests in `dist/<env>/` are rendered.",
        "",
        "## How it fits together",
        "",
        f"- **Scraping**: each component that declares `metrics:` gets a ServiceMonitor on its Service port `http` "
        f"and the declared path, every {SCRAPE_INTERVAL}, labelled "
        + ", ".join(f"`{k}: {v}`" for k, v in PROMETHEUS_SELECTOR_LABELS.items())
        + " (the kube-prometheus-stack selector). Prometheus adds the `namespace`, `pod` and `service` labels the rules below use.",
        "- **Custom metrics**: Prometheus Adapter serves each HPA custom metric from exactly one rule, generated "
        "from the same `customMetrics` declaration as the HPA: the per-pod rate over 2m of the counter the app exports.",
        f"- **HPA** (`autoscaling/v2`): CPU and memory utilization targets, optional custom metrics (average per pod). "
        f"Scale up after a {SCALE_UP_STABILIZATION_SECONDS}s window by at most `scaleUpPercent` per minute; scale down after "
        f"the stabilization window (default 300s) by at most {SCALE_DOWN_PERCENT_PER_MINUTE}% of the pods per minute.",
        "- **VPA** (`autoscaling.k8s.io/v1`, `updateMode: \"Off\"`): recommendations only, for the quarterly review; "
        "bounds are half the request (not below the LimitRange minimum) to twice the limit (not above the LimitRange maximum).",
        "- **Alerts**: one PrometheusRule per component (`release: kube-prometheus-stack`); every alert links to its "
        "runbook below through `runbook_url`.",
        "- **Dashboards**: one Grafana dashboard per component and environment, a ConfigMap labelled "
        "`grafana_dashboard: \"1\"` (folder `meetinity-<env>`); the Grafana sidecar must search all namespaces.",
        "- **Capacity**: `gitops capacity` sums requests and limits at HPA min and max against the ResourceQuota and the node group.",
        "",
        "## Review procedure",
        "",
        "Every change goes through a pull request that edits `environments/<env>.yaml` (or the inventory default), "
        "regenerates with `make synth`, and links the Grafana/VPA evidence. The platform team runs the reviews; "
        "service owners sign off when their SLOs are affected.",
        "",
        "### Weekly: HPA stability",
        "",
        f"- Rescales must stay below **{RESCALES_PER_HOUR_MAX} per hour** during business hours:",
        "  ```sh",
        "  kubectl get hpa -n <namespace>",
        "  kubectl describe hpa <component> -n <namespace>     # events, conditions, current vs target",
        "  ```",
        "  PromQL: `changes(kube_horizontalpodautoscaler_status_desired_replicas{namespace=\"<namespace>\"}[1h])`.",
        f"- More than {RESCALES_PER_HOUR_MAX}/hour: lengthen `scaleDownStabilizationSeconds` or lower `scaleUpPercent`.",
        "- Any `HPAMaxedOut` or `HPAMetricsUnavailable` that fired this week gets a follow-up issue.",
        "",
        "### Monthly: utilization against requests",
        "",
        "- Dashboard panel *Utilization vs HPA targets* (or PromQL "
        "`sum(rate(container_cpu_usage_seconds_total{namespace=\"<namespace>\",container=\"<component>\"}[5m])) / "
        "sum(kube_pod_container_resource_requests{namespace=\"<namespace>\",container=\"<component>\",resource=\"cpu\"})`).",
        f"- Pods idle below **{IDLE_UTILIZATION_PCT}%** of their requests for the month: lower the requests "
        "(or raise the HPA `cpu`/`memory` target) in `environments/<env>.yaml`.",
        "- Then `gitops capacity --env <env>` and `make synth`; commit with the dashboard screenshot.",
        "",
        "### Quarterly: right-sizing from VPA recommendations",
        "",
        "```sh",
        "kubectl get vpa -n <namespace>",
        "kubectl describe vpa <component> -n <namespace>      # Target / Lower Bound / Upper Bound per container",
        "gitops capacity --env <env>                          # quota and nodes at HPA max, before and after",
        "gitops capacity --env <env> --format json           # the same, for the PR description",
        "```",
        "",
        f"- Raise a request when the VPA target exceeds the current request by **more than {VPA_DRIFT_PCT}% for two "
        "consecutive weeks**; lower it when the target stays under half the request.",
        "- Keep limits at about 2× requests (requests cover P95 usage, limits give headroom).",
        "- If `gitops capacity` reports a finding, raise the ResourceQuota (and `nodeCapacity.max`) in the same PR "
        "or lower the HPA maximum.",
        "- `make synth`, open the PR with the VPA output and the capacity report.",
        "",
    ]
    for env in platform.environments:
        ctxs = _contexts(platform, env)
        lines += [
            f"## Environment `{env.name}`",
            "",
            f"Namespace `{env.namespace}`, cluster `{env.cluster_name}`, nodes {env.node_capacity.nodes_min}–"
            f"{env.node_capacity.nodes_max} × {env.node_capacity.instance_type} "
            f"({env.node_capacity.cpu_per_node} CPU / {env.node_capacity.memory_per_node} each).",
            "",
            f"### Scaling in {env.name}",
            "",
            *_table(["component", "requests (cpu / mem)", "limits (cpu / mem)", "replicas", "HPA cpu / mem target",
                     "custom metrics", "scale up", "scale-down window", "VPA bounds (min → max)"], _scaling_rows(ctxs)),
            "",
            f"### Custom metrics served by Prometheus Adapter in {env.name}",
            "",
            *_adapter_lines(platform, env),
            "",
            f"### Alert thresholds in {env.name}",
            "",
            *_table(["component", "scraped", "5xx ratio", "p95 latency", "alerts"], _alert_rows(ctxs)),
            "",
            f"### Capacity in {env.name}",
            "",
            *_capacity_lines(platform, env),
            "",
        ]
    lines += [
        "## Alerts and runbooks",
        "",
        f"Rates use {RATE_WINDOW} windows. Memory alerts fire at {MEMORY_NEAR_LIMIT_RATIO * 100:g}% of the limit. "
        "Application metrics are selected by `namespace` and `service` (the ServiceMonitor's target labels); "
        "the 5xx ratio expects the requests counter to carry the HTTP status code in a `status` label.",
        "",
    ]
    for alert in ALERTS:
        lines += [
            f"### {alert.name}",
            "",
            f"Severity `{alert.severity}`, fires after `{alert.for_}`. {alert.meaning}",
            "",
            *(f"{i}. {step}" for i, step in enumerate(alert.runbook, 1)),
            "",
        ]
    lines += [
        "",
        "## System reserve used by the capacity check",
        "",
        f"Per node: {SYSTEM_RESERVE_FRACTION * 100:g}% of CPU and memory for the kubelet, system daemons and the eviction "
        f"threshold, plus {format_cpu(DAEMONSET_CPU)} CPU / {format_memory(DAEMONSET_MEMORY)} for the DaemonSets "
        "(aws-node, kube-proxy, ebs-csi-node, node-exporter, log shipper). Rolling-update surge is 25% of each "
        "Deployment's replicas, rounded up.",
        "",
    ]
    return "\n".join(lines).encode("utf-8")

"""Grafana dashboard of the Argo Rollouts controller, shipped with its add-on (charts/addons.py).

Reads only series the controller v1.9.0 exports (argo-rollouts controller/metrics/prommetrics.go:
``rollout_info``, ``rollout_info_replicas_available``/``_desired``, ``analysis_run_info``,
``analysis_run_metric_phase``, ``rollout_reconcile_error``). Those series carry the Rollout's own
``namespace`` label; the chart's ServiceMonitor does not honour target labels, so Prometheus keeps the
scrape target's ``namespace`` (argo-rollouts) and renames the series' one to ``exported_namespace``
(https://prometheus.io/docs/prometheus/latest/configuration/configuration/#scrape_config, ``honor_labels``).

The JSON holds no ``{{``: the chart renders ``extraObjects`` through Helm's ``tpl``, which would read
Grafana's ``{{label}}`` legends as template actions (argo-helm charts/argo-rollouts/templates/extra-manifests.yaml).
"""
from __future__ import annotations

from gitops.inputs.model import Environment

from .grafana import GRAFANA_DASHBOARD_LABEL, GRAFANA_FOLDER_ANNOTATION, board, board_json, layout, panel, target

AUTO_LEGEND = "__auto"


def _panels(env: Environment) -> list[dict]:
    ns = f'exported_namespace="{env.namespace}"'
    panels = [
        panel("Rollouts by phase", "short", [
            target(f"sum by (phase) (rollout_info{{{ns}}})", AUTO_LEGEND),
        ], "Healthy, Progressing, Paused (a step or an inconclusive analysis waits for a human) or Degraded (aborted)."),
        panel("Rollouts not Healthy", "short", [
            target(f'rollout_info{{{ns},phase!="Healthy"}}', AUTO_LEGEND),
        ], "Each Rollout that is progressing, paused or degraded: `kubectl argo rollouts get rollout <name>`."),
        panel("Replicas available vs desired", "short", [
            target(f"rollout_info_replicas_available{{{ns}}}", AUTO_LEGEND),
            target(f"rollout_info_replicas_desired{{{ns}}}", AUTO_LEGEND),
        ], "Per Rollout: available pods against the desired count (the HPA's, or spec.replicas)."),
        panel("Analysis runs by phase", "short", [
            target(f"sum by (phase) (analysis_run_info{{{ns}}})", AUTO_LEGEND),
        ], "Running, Successful, Failed (the canary aborted), Error (Prometheus unreachable) or Inconclusive."),
        panel("Analysis measurements not successful", "short", [
            target(f'analysis_run_metric_phase{{{ns},phase=~"Failed|Error|Inconclusive"}}', AUTO_LEGEND),
        ], "Which metric (success-rate, p95-latency, no-crash-loops) of which run failed or could not decide."),
        panel("Controller reconcile errors", "short", [
            target("sum(rate(rollout_reconcile_error[5m]))", "rollouts"),
            target("sum(rate(analysis_run_reconcile_error[5m]))", "analysis runs"),
        ], "Errors of the controller itself (RBAC, API server, a bad traffic-routing reference)."),
    ]
    return layout(panels)


def dashboard_json(env: Environment) -> str:
    text = board_json(board(
        title=f"Argo Rollouts ({env.name})",
        uid=f"meetinity-{env.name}-argo-rollouts"[:40],
        description="Argo Rollouts controller: canaries, blue-green switches and their analyses. Generated; do not edit in Grafana.",
        tags=["meetinity", env.name, "argo-rollouts"],
        panels=_panels(env),
    ))
    if "{{" in text:
        raise ValueError("Helm tpl would evaluate '{{' in the add-on's extraObjects")
    return text


def dashboard_config_map(env: Environment, namespace: str) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "argo-rollouts-dashboard", "namespace": namespace,
                     "labels": dict(GRAFANA_DASHBOARD_LABEL),
                     "annotations": {GRAFANA_FOLDER_ANNOTATION: f"meetinity-{env.name}"}},
        "data": {"argo-rollouts.json": dashboard_json(env)},
    }

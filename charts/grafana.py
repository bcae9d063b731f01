"""Grafana dashboards as ConfigMaps for the Grafana sidecar of kube-prometheus-stack: the parts every
dashboard shares (panels, layout, the board around them, the JSON bytes).

The sidecar picks up ConfigMaps labelled ``grafana_dashboard: "1"`` (it must search all namespaces:
``sidecar.dashboards.searchNamespace: ALL``). The JSON is deterministic: sorted keys, ids and grid
positions derived from the panel order only.
"""
from __future__ import annotations

import json

GRAFANA_DASHBOARD_LABEL = {"grafana_dashboard": "1"}
# Grafana sidecar: put each environment's dashboards in their own folder.
GRAFANA_FOLDER_ANNOTATION = "grafana_folder"


def target(expr: str, legend: str) -> dict:
    return {"expr": expr, "legendFormat": legend}


def panel(title: str, unit: str, targets: list[dict], description: str, threshold: float | None = None) -> dict:
    defaults: dict = {"unit": unit, "min": 0}
    if threshold is not None:
        defaults["thresholds"] = {"mode": "absolute", "steps": [
            {"color": "green", "value": None}, {"color": "red", "value": threshold}]}
        defaults["custom"] = {"thresholdsStyle": {"mode": "line"}}
    return {"title": title, "type": "timeseries", "description": description,
            "fieldConfig": {"defaults": defaults, "overrides": []}, "targets": targets}


def layout(panels: list[dict]) -> list[dict]:
    """Stable ids and a two-column grid, both derived from the panel order only; one Prometheus data source."""
    for index, item in enumerate(panels):
        item["id"] = index + 1
        item["gridPos"] = {"h": 8, "w": 12, "x": 12 * (index % 2), "y": 8 * (index // 2)}
        item["datasource"] = {"type": "prometheus", "uid": "${datasource}"}
        for ref, query in enumerate(item["targets"]):
            query["refId"] = chr(ord("A") + ref)
            query["datasource"] = item["datasource"]
    return panels


def board(*, title: str, uid: str, description: str, tags: list[str], panels: list[dict]) -> dict:
    """A read-only dashboard (generated; edits belong in the repository, not in Grafana)."""
    return {
        "annotations": {"list": []},
        "description": description,
        "editable": False,
        "graphTooltip": 1,
        "links": [],
        "panels": panels,
        "refresh": "1m",
        "schemaVersion": 39,
        "tags": tags,
        "templating": {"list": [{
            "name": "datasource", "label": "Data source", "type": "datasource", "query": "prometheus",
            "hide": 0, "current": {}, "options": [], "refresh": 1, "regex": "",
        }]},
        "time": {"from": "now-6h", "to": "now"},
        "timepicker": {},
        "timezone": "utc",
        "title": title,
        "uid": uid,
        "version": 1,
    }


def board_json(board: dict) -> str:
    return json.dumps(board, indent=2, sort_keys=True, ensure_ascii=False) + "\n"

"""Prometheus Adapter rules generated from the inventory's custom metrics.

Contract used by the Argo CD add-on (values of the prometheus-adapter chart, key
``rules.custom``) and by ``gitops validate`` (every HPA custom metric needs exactly
one rule whose ``name.as`` equals the metric name). A rule's series is the counter
the component really emits, per the inventory.
"""
from __future__ import annotations

from ..inputs.model import Environment, Platform
from ..inputs.resolve import resolve


def adapter_rules(platform: Platform, env: Environment) -> list[dict]:
    rules: dict[str, dict] = {}
    for component in platform.enabled_components(env):
        auto = resolve(component, env).autoscaling
        for metric in auto.custom_metrics if auto else ():
            rule = {
                "seriesQuery": f'{metric.series}{{namespace!="",pod!=""}}',
                "resources": {"overrides": {"namespace": {"resource": "namespace"}, "pod": {"resource": "pod"}}},
                "name": {"matches": f"^{metric.series}$", "as": metric.name},
                "metricsQuery": "sum(rate(<<.Series>>{<<.LabelMatchers>>}[2m])) by (<<.GroupBy>>)",
            }
            # Two components may share a metric name only if they emit the same series.
            existing = rules.get(metric.name)
            if existing and existing["seriesQuery"] != rule["seriesQuery"]:
                raise ValueError(f"custom metric {metric.name!r} maps to two different series in {env.name}")
            rules[metric.name] = rule
    return [rules[k] for k in sorted(rules)]

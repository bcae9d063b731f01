"""Namespaces the charts name, in a module without cdk8s so the loader can read them cheaply."""
from __future__ import annotations

MONITORING_NAMESPACE = "monitoring"

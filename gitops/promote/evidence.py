"""Promotion gates that read the source environment: ``soak`` (Argo CD) and ``alerts`` (Prometheus).

Before ``gitops promote --from S --to T`` opens its pull request, each promoted component's Argo CD
Application in S must be ``Synced`` at a revision that contains the promoted version, ``Healthy``, and
so for at least T's ``soak`` (environment file, schema default); S's Prometheus must show no critical
alert of those components and no failed canary analysis during the last ``soak``. Every failure to
ask (no token, unreachable, 401/403, unknown application, malformed answer) fails the gate: there is
no silent pass. ``soak: 0s`` on T turns both gates off (shown as a warning); ``--skip-gate soak|alerts
--reason TEXT`` skips one, recorded in the PR body and the commit.

What is read, and why (Argo CD pkg/apis/application/v1alpha1/types.go, ApplicationStatus;
https://argo-cd.readthedocs.io/en/stable/developer-guide/api-docs/):
- ``status.sync.status`` / ``status.sync.revision``: the commit the live state was last compared with.
  With ``manifest-generate-paths`` (charts/argocd.py) Argo CD still moves it to the newest commit of
  the tracked branch, so it is a commit of this repository: the version must be in its tree, and the
  commit that introduced the version must be its ancestor (otherwise S runs an older revision).
- ``status.history[]`` newest entry (``revision``, ``deployedAt``): the last sync *operation*; its
  revision must contain the version too (a newer version may be compared but not yet deployed).
- ``status.health.status`` and ``status.health.lastTransitionTime`` (written by Argo CD >= 2.x
  controllers when the aggregated health changes; absent from older ones, then only deployedAt counts
  and the alerts gate covers the window).
- ``status.operationState.{phase,finishedAt}``: a sync still Running, or a last sync Failed/Error,
  fails the gate; a later finished operation restarts the soak.
The soak starts at the latest of deployedAt, health.lastTransitionTime and operationState.finishedAt:
any redeploy or health flap restarts it (fail closed).

Alerts: the generated PrometheusRules (charts/observability.py) label every alert with ``component``,
``environment`` and ``severity``; Prometheus keeps them on the ``ALERTS`` series
(https://prometheus.io/docs/prometheus/latest/configuration/alerting_rules/#inspecting-alerts-during-runtime).
Canary analysis: the Argo Rollouts controller exports ``analysis_run_info{namespace,name,phase}``
(scraped as ``exported_namespace``, see :func:`analysis_query`)
(argoproj/argo-rollouts controller/metrics/metrics.go, docs/features/controller-metrics.md) for every
AnalysisRun; runs are named ``<rollout>-<pod-template-hash>-<revision>[-<step>]`` after the Rollout, i.e. the
component. A Prometheus series was chosen over Argo CD's resource tree: one query covers every run of
the window, including runs already garbage-collected, and it uses the client this gate already has.
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable, Mapping

import yaml

from ..inputs.duration import format_duration, parse_duration
from ..inputs.model import Platform
from ..ops.argocd_api import AppStatus, ArgoCD, ArgoCDBadResponse, ArgoCDError, ArgoCDNotFound, target_for
from ..ops.prometheus_api import Prometheus, PrometheusError, prometheus_target
from .envfile import plain_values, values_of
from .gates import Gate
from .git import Git

SOAK, ALERTS = "soak", "alerts"
FAILED_ANALYSIS = ("Failed", "Error", "Inconclusive")
HISTORY_DEPTH = 500  # commits of environments/<source>.yaml searched for the one that introduced a version


@dataclass
class Evidence:
    """One promoted component as its source environment runs it (shown in the PR body)."""

    component: str
    argocd_url: str = ""
    grafana_url: str = ""
    sync: str = ""
    health: str = ""
    revision: str = ""
    since: str = ""
    critical_alerts: list[str] | None = None   # alert names that fired in the window; None: not asked
    analysis: list[str] | None = None          # "<run>: <phase>"; None: not asked
    problems: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class SourceReport:
    gates: list[Gate]
    evidence: list[Evidence]
    window: str = ""


def _utc(text: str, what: str) -> datetime:
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ArgoCDBadResponse(f"{what}: expected an RFC 3339 time, found {text!r}") from None
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def _application(root: Path, env: str, name: str) -> dict:
    """The committed argocd/<env>/application-<name>.yaml (its name, AppProject and Grafana link)."""
    rel = f"argocd/{env}/application-{name}.yaml"
    try:
        doc = yaml.safe_load((root / rel).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ArgoCDNotFound(f"{rel} is missing or unreadable ({type(exc).__name__}): run `gitops synth` and commit") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("metadata"), dict):
        raise ArgoCDNotFound(f"{rel} is not an Application: run `gitops synth` and commit")
    return doc


class _Versions:
    """Which commits of this repository contain a promoted version in environments/<source>.yaml."""

    def __init__(self, git: Git, source: str):
        self.git, self.rel = git, f"environments/{source}.yaml"
        self._cache: dict[str, dict] = {}

    def at(self, commit: str) -> dict:
        if commit not in self._cache:
            text = self.git.show(commit, self.rel)
            try:
                data = yaml.safe_load(text) if text is not None else None
            except yaml.YAMLError:
                data = None  # a broken file at that commit runs no version
            self._cache[commit] = (data or {}).get("components") or {} if isinstance(data, dict) else {}
        return self._cache[commit]

    def runs(self, commit: str, component: str, values: dict) -> bool:
        return plain_values(values_of(self.at(commit).get(component))) == plain_values(values)

    def introduced(self, component: str, values: dict) -> str | None:
        """The oldest commit of the unbroken run, back from HEAD, whose source file has ``values``."""
        commits = self.git.run("log", f"-{HISTORY_DEPTH}", "--format=%H", "HEAD", "--", self.rel).split()
        found = None
        for sha in commits:
            if not self.runs(sha, component, values):
                break
            found = sha
        return found


def _version(values: dict) -> str:
    tag, digest = values.get("image.tag"), values.get("image.digest")
    return f"{tag}" + (f"@{str(digest)[:19]}…" if digest else "") if tag else "(no image)"


def source_gates(root: Path, git: Git, platform: Platform, source: str, target: str, promoted: dict[str, dict], *,
                 skip: Mapping[str, str], environ: Mapping[str, str] | None = None,
                 now: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
                 argocd_factory: Callable = ArgoCD, prometheus_factory: Callable = Prometheus) -> SourceReport:
    """The ``soak`` and ``alerts`` gates of a promotion, with the evidence the PR body shows.

    ``skip``: gate name -> reason for the gates the user skipped (--skip-gate NAME --reason TEXT).
    """
    soak_text = platform.environment(target).soak
    soak = parse_duration(soak_text)
    src_env = platform.environment(source)
    evidence = [Evidence(name) for name in sorted(promoted)]
    if soak == timedelta(0):
        why = f"`{target}` declares `soak: 0s` in environments/{target}.yaml: `{source}` is not asked"
        return SourceReport([Gate("soak", "warning", why), Gate("alerts", "warning", why)], [])
    window = soak_text  # as declared (24h), for people; PromQL gets whole seconds (_range)
    # A job that runs before a workload has no Application of its own: the workload's syncs (and
    # soaks) its folder, at a revision that must carry the job's version too (_judge).
    applications = {ev.component: platform.component(ev.component).application for ev in evidence}
    projects: dict[str, str] = {}
    for ev in evidence:
        try:
            app = _application(root, source, applications[ev.component])
        except ArgoCDError as exc:
            ev.problems.append(str(exc))
            continue
        ann = app["metadata"].get("annotations") or {}
        ev.grafana_url = str(ann.get("link.argocd.argoproj.io/grafana-dashboard", ""))
        project = (app.get("spec") or {}).get("project")
        if isinstance(project, str) and project:
            projects[ev.component] = project
    gates = [_soak(git, src_env, projects, applications, promoted, evidence, soak, window, skip.get(SOAK), environ,
                   now, argocd_factory),
             _alerts(src_env, evidence, [c.name for c in platform.components], window, skip.get(ALERTS), environ,
                     prometheus_factory)]
    return SourceReport(gates, evidence, window)


def _soak(git, src_env, projects, applications, promoted, evidence, soak, window, skipped, environ, now, factory) -> Gate:
    """``projects``: component -> AppProject of its committed Application (one per environment, charts/argocd.py);
    ``applications``: component -> the Application that syncs it."""
    source = src_env.name
    if skipped is not None:
        return Gate("soak", "skipped", f"not asked `{source}`'s Argo CD (soak {window}); gate skipped: {skipped}")
    try:
        target = target_for(src_env, environ, project=next(iter(sorted(projects.values())), None))
        client = factory(target, environ=environ)
    except ArgoCDError as exc:
        return Gate("soak", "failed", f"cannot ask `{source}`'s Argo CD: {exc}. Set ARGOCD_SERVER_{source.upper()} and "
                                    f"ARGOCD_AUTH_TOKEN_{source.upper()} (a read-only token), or pass --skip-gate soak "
                                    "--reason TEXT")
    versions = _Versions(git, source)
    clock = now()
    for ev in evidence:
        ev.argocd_url = target.app_url(applications[ev.component])
        if ev.problems:
            continue
        values = promoted[ev.component]
        try:
            status = client.application(applications[ev.component])
        except ArgoCDError as exc:
            ev.problems.append(str(exc))
            if not isinstance(exc, (ArgoCDNotFound, ArgoCDBadResponse)):
                for other in evidence:  # the server itself failed: the other components would fail the same way
                    if other is not ev and not other.problems and not other.sync:
                        other.problems.append(f"not asked: {type(exc).__name__} on {ev.component}")
                break
            continue
        ev.sync, ev.health, ev.revision = status.sync, status.health, status.revision
        try:
            _judge(ev, status, versions, values, soak, window, clock, source)
        except ArgoCDError as exc:
            ev.problems.append(str(exc))
    bad = [ev for ev in evidence if ev.problems]
    if bad:
        return Gate("soak", "failed", f"`{source}` has not run the promoted version(s) Synced and Healthy for {window} "
                                    f"({', '.join(ev.component for ev in bad)}); wait, fix `{source}`, or pass "
                                    "--skip-gate soak --reason TEXT",
                    "\n".join(f"{ev.component}: {p}" for ev in bad for p in ev.problems))
    return Gate("soak", "passed", f"every promoted component is Synced and Healthy in `{source}` at a revision "
                                f"with its version, for at least {window} (Argo CD {target.server})")


def _judge(ev: Evidence, status: AppStatus, versions: _Versions, values: dict, soak: timedelta, window: str,
           clock: datetime, source: str) -> None:
    if status.sync != "Synced":
        ev.problems.append(f"sync status is {status.sync}, expected Synced")
    if status.health != "Healthy":
        ev.problems.append(f"health is {status.health}{f' ({status.health_message})' if status.health_message else ''}, "
                           "expected Healthy")
    if status.operation_phase == "Running":
        ev.problems.append("a sync operation is running")
    elif status.operation_phase in ("Failed", "Error"):
        ev.problems.append(f"the last sync operation ended {status.operation_phase}")
    want = _version(values)
    if not status.revision:
        ev.problems.append("Argo CD reports no synced revision")
    elif versions.git.rev(f"{status.revision}^{{commit}}") is None:
        ev.problems.append(f"synced revision {status.revision[:12]} is not a commit of this repository: `git fetch`, "
                           "or Argo CD tracks another repository")
    elif not versions.runs(status.revision, ev.component, values):
        introduced = versions.introduced(ev.component, values)
        running = _version(plain_values(values_of(versions.at(status.revision).get(ev.component))))
        if introduced and not versions.git.is_ancestor(introduced, status.revision):
            ev.problems.append(f"synced at an older revision {status.revision[:12]} ({running}); {want} came with "
                               f"{introduced[:12]}, not yet synced by `{source}`")
        else:
            ev.problems.append(f"synced revision {status.revision[:12]} runs {running}, not {want}")
    if not status.deployed_revision or not status.deployed_at:
        ev.problems.append("no deployment in status.history: the version was never synced")
        return
    if versions.git.rev(f"{status.deployed_revision}^{{commit}}") is None or not versions.runs(
            status.deployed_revision, ev.component, values):
        ev.problems.append(f"the last sync deployed {status.deployed_revision[:12]}, which does not run {want}")
    times = [("status.history[].deployedAt", status.deployed_at), ("status.health.lastTransitionTime", status.health_since),
             ("status.operationState.finishedAt", status.operation_finished_at)]
    since = max(_utc(text, f"{ev.component} {what}") for what, text in times if text)
    ev.since = since.strftime("%Y-%m-%dT%H:%M:%SZ")
    if since > clock:
        ev.problems.append(f"since {ev.since}, in the future of this machine's clock")
    elif clock - since < soak:
        ev.problems.append(f"Synced and Healthy since {ev.since} only ({format_duration(clock - since)}), "
                           f"less than the {window} soak")


def _label_regex(names) -> str:
    for name in names:
        if not re.fullmatch(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?", name):
            raise ValueError(f"component name {name!r} is not a DNS-1123 label")
    return "|".join(sorted(names))


def _range(window: str) -> str:
    """A PromQL range in whole seconds (PromQL's own units differ slightly: no combined 1h30m before Prometheus 2.26)."""
    return f"{int(parse_duration(window).total_seconds())}s"


def alert_query(env, components, window: str) -> str:
    return (f'max by (component, alertname) (max_over_time(ALERTS{{alertstate="firing",severity="critical",'
            f'environment="{env.name}",component=~"{_label_regex(components)}"}}[{_range(window)}]))')


def analysis_query(env, window: str) -> str:
    """AnalysisRuns of the environment's namespace. The label is ``exported_namespace``: the controller's
    metric has its own ``namespace`` label, and the chart's ServiceMonitor (argo-helm charts/argo-rollouts
    templates/controller/servicemonitor.yaml) leaves ``honorLabels`` false, so Prometheus renames the scraped
    label when it attaches the target's ``namespace`` (argo-rollouts) (https://prometheus.io/docs/prometheus/
    latest/configuration/configuration/#scrape_config, ``honor_labels``)."""
    return (f'max by (name, phase) (max_over_time(analysis_run_info{{exported_namespace="{env.namespace}"}}'
            f'[{_range(window)}])) == 1')


def _run_component(run: str, components: list[str]) -> str | None:
    """The component an AnalysisRun belongs to: ``<rollout>-<hash>-<revision>[-...]``, longest name first."""
    for name in sorted(components, key=len, reverse=True):
        if re.fullmatch(re.escape(name) + r"-[a-z0-9]+-[0-9]+(-.+)?", run):
            return name
    return None


def _alerts(src_env, evidence, every_component, window, skipped, environ, factory) -> Gate:
    source = src_env.name
    if skipped is not None:
        return Gate("alerts", "skipped", f"not asked `{source}`'s Prometheus (last {window}); gate skipped: {skipped}")
    names = [ev.component for ev in evidence]
    queries = (alert_query(src_env, names, window), analysis_query(src_env, window))
    try:
        target = prometheus_target(src_env, environ)
        client = factory(target, environ=environ)
        alerts, runs = client.query(queries[0]), client.query(queries[1])
    except PrometheusError as exc:
        return Gate("alerts", "failed", f"cannot ask `{source}`'s Prometheus: {exc}. Set PROMETHEUS_URL_{source.upper()} "
                                      "(or prometheus.server), or pass --skip-gate alerts --reason TEXT")
    by_name = {ev.component: ev for ev in evidence}
    for ev in evidence:
        ev.critical_alerts, ev.analysis = [], []
    for sample in alerts:
        ev = by_name.get(sample.metric.get("component", ""))
        if ev is not None and sample.value > 0:
            ev.critical_alerts.append(sample.metric.get("alertname", "?"))
    for sample in runs:
        # attributed among every component (a run of shop-api is not shop's), then kept if promoted
        name = _run_component(sample.metric.get("name", ""), every_component)
        if name in by_name:
            by_name[name].analysis.append(f"{sample.metric.get('name')}: {sample.metric.get('phase', '?')}")
    for ev in evidence:
        ev.critical_alerts.sort()
        ev.analysis.sort()
    fired = [f"{ev.component}: {', '.join(ev.critical_alerts)}" for ev in evidence if ev.critical_alerts]
    failed_runs = [f"{ev.component}: {run}" for ev in evidence for run in ev.analysis
                   if run.rsplit(": ", 1)[1] in FAILED_ANALYSIS]
    details = "\n".join([f"PromQL: {q}" for q in queries] + [f"Graph: {target.graph_url(queries[0])}"])
    if fired or failed_runs:
        parts = ([f"critical alert(s) fired in `{source}` during the last {window}: " + "; ".join(fired)] if fired else []) + \
                (["canary analysis failed: " + "; ".join(failed_runs)] if failed_runs else [])
        return Gate("alerts", "failed", ". ".join(parts) + ". Investigate (dashboards linked below), or pass "
                                      "--skip-gate alerts --reason TEXT", details)
    total = sum(len(ev.analysis) for ev in evidence)
    return Gate("alerts", "passed", f"no critical alert of the promoted components fired in `{source}` during the last "
                                  f"{window}; {total} canary analysis run(s), none failed (Prometheus {target.server})",
                details)

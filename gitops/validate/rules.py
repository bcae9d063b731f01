"""Every rule `gitops validate` applies: a stable ID, a severity and a one-line rationale.

IDs never change meaning and are never reused: waivers, CI annotations and dashboards
refer to them. ``SCH`` schema rules, ``POL`` per-object policies, ``XRF`` cross-resource
checks over one environment, ``ARG`` Argo CD checks. ``gitops validate --list-rules``
prints this table.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Rule:
    id: str
    name: str
    severity: str  # "error" | "warning"
    summary: str
    rationale: str

    @property
    def category(self) -> str:
        return {"SCH": "schema", "POL": "policy", "XRF": "cross-resource", "ARG": "argocd", "SEC": "security",
                "ROL": "progressive-delivery"}[self.id[:3]]

    def as_dict(self) -> dict:
        return {"id": self.id, "name": self.name, "severity": self.severity, "category": self.category,
                "summary": self.summary, "rationale": self.rationale}


_RULES = [
    # --- schemas
    Rule("SCH001", "schema-valid", "error", "every document matches the strict schema of its kind (Kubernetes OpenAPI or CRD)",
         "the API server rejects unknown or mistyped fields, so Argo CD would fail the sync"),
    Rule("SCH002", "schema-known", "error", "every kind has a schema (built in, or found through --schema-location)",
         "a kind without a schema cannot be checked and is usually a typo or a CRD that is not installed"),
    Rule("SCH003", "api-not-deprecated", "warning", "no API deprecated in the target Kubernetes version",
         "deprecated APIs disappear in a later upgrade; migrating early keeps upgrades boring"),
    Rule("SCH004", "api-served", "error", "no API removed from the target Kubernetes version",
         "the cluster no longer serves the API, so the object cannot be created at all"),
    Rule("SCH005", "object-meta-syntax", "error",
         "names, namespaces, label and annotation keys and values, and ConfigMap/Secret keys have the syntax the API server requires",
         "the OpenAPI schemas do not encode these formats; the API server rejects the object on create, so the sync fails"),
    Rule("SCH006", "pod-spec-valid", "error",
         "pod templates pass the API server's pod rules: selector matches the labels, container/volume/port/env names, mounts of declared volumes, requests within limits",
         "the schemas cannot say these; the API server refuses the workload (or a Rollout's pods), so no pod ever runs"),
    # --- policies
    Rule("POL001", "run-as-non-root", "error", "containers run as non-root (runAsNonRoot, never runAsUser 0)",
         "a compromised process running as root owns the container and makes node escapes easier"),
    Rule("POL002", "read-only-root-fs", "error", "containers have readOnlyRootFilesystem: true",
         "an immutable filesystem stops an attacker from dropping tools or changing the app in place"),
    Rule("POL003", "no-privilege-escalation", "error", "allowPrivilegeEscalation: false and not privileged",
         "setuid binaries and privileged mode undo every other restriction"),
    Rule("POL004", "drop-all-capabilities", "error", "capabilities.drop contains ALL",
         "web services need no Linux capabilities; each one kept widens the kernel attack surface"),
    Rule("POL005", "seccomp-runtime-default", "error", "seccompProfile RuntimeDefault (or Localhost) on the pod or container",
         "the default seccomp filter blocks syscalls that most container escapes use"),
    Rule("POL006", "requests-and-limits", "error", "every container sets cpu and memory requests and limits",
         "without requests the scheduler overcommits nodes; without limits one pod can starve the others and the quota cannot be checked"),
    Rule("POL007", "probes", "error", "long-running containers have liveness and readiness probes",
         "without probes a hung pod keeps receiving traffic and is never restarted"),
    Rule("POL008", "image-tagged", "error", "no :latest and no untagged image",
         "a moving tag makes deployments unreproducible and rollbacks impossible"),
    Rule("POL009", "image-digest-prod", "error", "images pinned by digest in environments that require it (prod)",
         "a tag can be re-pushed; only a digest guarantees production runs exactly what was tested"),
    Rule("POL010", "no-plain-secret", "error", "no Secret with data in git (use ExternalSecret or SealedSecret)",
         "anything committed to git is readable by everyone with repository access, forever"),
    Rule("POL011", "required-labels", "error", "objects carry the standard app.kubernetes.io and meetinity.io labels",
         "labels drive selectors, cost reports, alert routing and ownership lookups"),
    Rule("POL012", "no-token-automount", "error", "pods do not mount a service account token (pod or ServiceAccount automount off)",
         "app pods never call the Kubernetes API; a mounted token is a credential waiting to be stolen"),
    Rule("POL013", "pdb-allows-eviction", "error", "a PodDisruptionBudget still allows one voluntary eviction at the minimum replica count",
         "a PDB that allows zero disruptions blocks every node drain and cluster upgrade"),
    Rule("POL014", "hpa-min-le-max", "error", "HorizontalPodAutoscaler minReplicas <= maxReplicas",
         "the API server accepts min > max but the autoscaler then never scales as intended"),
    # --- cross-resource checks (one environment at a time)
    Rule("XRF001", "service-target-port", "error", "every Service selects pods and its targetPort is a port of their containers",
         "a Service pointing at a closed or missing port drops all traffic while every object looks healthy"),
    Rule("XRF002", "container-port-matches-app", "error", "the container port is the port the app listens on (inventory)",
         "the old charts declared 5000-5005 while every app binds 8080: Services and probes hit a closed port"),
    Rule("XRF003", "probe-health-endpoint", "error", "probes call a health endpoint the app serves, on its port (inventory)",
         "probes on /healthz or /ready that the app does not serve restart healthy pods forever"),
    Rule("XRF004", "secret-exists", "error", "every referenced Secret (and key) is created in the namespace (ExternalSecret, SealedSecret, ...)",
         "a missing Secret or key leaves pods in CreateContainerConfigError"),
    Rule("XRF005", "secret-used", "warning", "every Secret created from the secret store is referenced by something",
         "a secret nobody mounts is configuration that never reaches the pods (the old per-service Vault secrets)"),
    Rule("XRF006", "configmap-exists", "error", "every referenced ConfigMap (and key) exists in the namespace",
         "a missing ConfigMap leaves pods in CreateContainerConfigError"),
    Rule("XRF007", "required-env", "error", "every env var the inventory marks required reaches the component's container",
         "the app starts with a fallback (SQLite, localhost) or crashes when required configuration is missing"),
    Rule("XRF008", "ingress-tls-certificate", "error", "every Ingress TLS secret is issued (cert-manager annotation or Certificate) and covers its hosts",
         "a TLS secret nobody creates makes the controller serve its default certificate"),
    Rule("XRF009", "host-well-formed", "error", "Ingress hosts are valid DNS names under the environment's domain, without repeated labels",
         "hosts like api.dev.dev.meetinity.internal come from templating mistakes and never resolve"),
    Rule("XRF010", "host-unique", "error", "each Ingress host is used once across all environments",
         "two Ingresses claiming one host split or steal each other's traffic"),
    Rule("XRF011", "egress-dependencies", "error", "NetworkPolicy egress opens every declared dependency's port",
         "a default-deny egress that forgets the database port blocks the app at its first query"),
    Rule("XRF012", "egress-dns", "error", "NetworkPolicy egress allows DNS (port 53 UDP and TCP)",
         "without DNS no service name resolves and every dependency looks down"),
    Rule("XRF013", "ingress-callers", "error", "NetworkPolicy ingress admits every declared caller on the component's port",
         "a caller blocked by the callee's policy sees timeouts that look like an outage"),
    Rule("XRF014", "quota-fits", "error", "sum of container requests/limits x maximum replicas fits the namespace ResourceQuota",
         "above the quota the autoscaler's new pods are rejected exactly when load peaks"),
    Rule("XRF015", "hpa-metric-adapter", "error", "every custom/external HPA metric has a Prometheus Adapter rule",
         "an HPA metric nobody serves leaves the autoscaler unable to compute a replica count"),
    Rule("XRF016", "servicemonitor-port", "error", "every ServiceMonitor selects a Service that has the named port",
         "a ServiceMonitor that matches nothing silently collects no metrics"),
    Rule("XRF017", "image-pull-secret", "error", "every imagePullSecret is created in the namespace",
         "GHCR images are private: without the pull secret pods sit in ImagePullBackOff"),
    Rule("XRF018", "scale-target", "error", "HPA and PDB target an existing workload",
         "an autoscaler or budget pointing at nothing protects and scales nothing"),
    Rule("XRF019", "operator-pods-fit-namespace", "error",
         "pods operators create from the platform's configuration (ACME solvers, Job/CronJob/hook and workload pods) fit the "
         "namespace's LimitRange, and the solvers fit its ResourceQuota at peak",
         "the API server rejects a pod outside the LimitRange: cert-manager's default solver (10m/64Mi) never ran, so no certificate was issued"),
    Rule("XRF020", "probe-path-unauthenticated", "error",
         "probes and the metrics scrape call paths the component declares unauthenticated, and its auth-exempt path variables list them",
         "the kubelet and Prometheus send no credentials: a 401 on /metrics leaves the HPA's custom metric unavailable, and the HPA then never scales down"),
    Rule("XRF021", "liveness-independent", "error", "liveness and startup probes never call an endpoint that checks other services",
         "a liveness probe on an aggregating /health restarts every healthy pod when one backend is down, turning an outage into a full one"),
    Rule("XRF022", "servicemonitor-serves-metrics", "error",
         "a ServiceMonitor exists only for components whose image serves metrics (inventory metrics:), on the declared path",
         "scraping a route the image does not serve is a target that is down forever: TargetDown fires and no series exists"),
    Rule("XRF023", "egress-declared", "error",
         "NetworkPolicy egress to IP blocks equals the inventory: backing endpoints of dependencies and declared external egress",
         "with the VPC CNI enforcing policies, an undeclared destination is blocked (OAuth, payment provider) and an undeclared opening is a hole"),
    # --- Argo CD
    Rule("ARG001", "app-source-path", "error", "each Application's source path exists in the repository and holds manifests",
         "Argo CD reports a missing path as a ComparisonError and syncs nothing"),
    Rule("ARG002", "app-project-destination", "error",
         "each Application's destination, and every resource it syncs (kind, namespace), is permitted by its AppProject",
         "Argo CD refuses to sync what the project does not permit (a destination, a blacklisted Secret, a cluster kind)"),
    Rule("ARG003", "app-single-owner", "error", "no two Applications manage the same resource",
         "two owners fight forever: each sync reverts the other and pruning can delete live objects"),
    Rule("ARG004", "prod-decommission-acknowledged", "error", "a component removed from prod is listed in environments/prod.yaml decommissioned",
         "with pruning on, deleting a folder deletes the running service; that must be a deliberate, reviewed decision"),
    # --- Argo CD sync plan (gitops/syncplan/model.py; `gitops sync-plan` prints the same model)
    Rule("ARG005", "crd-provided-before-use", "error",
         "a custom resource's CRD comes from the same or an earlier-wave Application, which syncs with SkipDryRunOnMissingResource",
         "a dry run against a missing CRD fails the whole sync, and after its retries Argo CD does not retry the same revision"),
    Rule("ARG006", "secret-before-consumer", "error",
         "the ExternalSecret writing a pod's Secret syncs in an earlier wave (or earlier Application) than the pod",
         "kind order puts custom resources after Deployments and Jobs: pods start before their Secret exists"),
    Rule("ARG007", "hook-with-its-workload", "error",
         "a Job hook that prepares a workload (migrations) is in the workload's Application, in an earlier wave",
         "a version bump re-syncs only the workload's Application; a hook elsewhere runs late or not at all"),
    Rule("ARG008", "component-project-scoped", "error",
         "AppProjects of component Applications allow no cluster-scoped kind and whitelist their namespaced kinds",
         "one permissive project lets any component folder create Namespaces, ClusterIssuers or RoleBindings"),
    Rule("ARG009", "cascade-delete-protected", "error",
         "Namespaces, ClusterSecretStores and child Applications carry Delete=false (or Delete=confirm); the root has no cascading finalizer",
         "`argocd app delete` cascades by default: one command would delete the namespace and everything in it"),
    # --- security (gitops/validate/security.py)
    Rule("SEC001", "reserved-namespace", "error",
         "nothing of an environment (dist/, its Applications and AppProject) targets kube-system, default, argocd or an add-on namespace",
         "the environment's default-deny policy, quota and Pod Security label in kube-system cut cluster DNS; in argocd they stop deployments"),
    Rule("SEC002", "no-plaintext-credential", "error",
         "no ConfigMap value looks like a credential (secret-named variable, AWS/Stripe/GitHub key, PEM private key)",
         "ConfigMaps are readable by everyone with repository or namespace access and land in every promotion diff"),
    Rule("SEC003", "object-size", "error", "every object is at most 1 MiB as JSON",
         "the API server (ConfigMap/Secret data) and etcd refuse larger objects, so the sync fails"),
    # --- progressive delivery (Argo Rollouts; gitops/validate/rollout_checks.py)
    Rule("ROL001", "rollout-selector", "error", "a Rollout's spec.selector matches the labels of its pod template",
         "the API server accepts the mismatch, but the controller cannot adopt its own pods and the Rollout never becomes healthy"),
    Rule("ROL002", "rollout-strategy-references", "error",
         "the Services and Ingress a Rollout's strategy names exist, select its pods, and the stable Ingress routes to the stable Service",
         "the controller stops with InvalidSpec on a missing Service or Ingress, so no new version is ever rolled out"),
    Rule("ROL003", "rollout-analysis-template", "error", "every AnalysisTemplate a Rollout uses exists and gets every argument it declares",
         "a missing template or argument fails the AnalysisRun, which aborts every canary back to stable"),
    Rule("ROL004", "analysis-series", "error",
         "analysis queries read only series the component exports (inventory alerting/customMetrics) or kube_*/container_*",
         "a query on a series nobody exports returns nothing: every measurement is inconclusive and every rollout pauses"),
    Rule("ROL005", "hpa-target-kind", "error", "an HPA targets its component's workload kind (Rollout or Deployment) with the matching apiVersion",
         "an HPA that still targets the Deployment a Rollout replaced scales nothing, and the Rollout runs at a fixed size"),
    Rule("ROL006", "single-workload", "error", "a component runs as exactly one long-running workload (a Rollout or a Deployment, not both)",
         "a Deployment left next to a Rollout runs the old pods behind the same Service, outside every canary"),
    Rule("ROL007", "canary-without-analysis", "warning",
         "a canary/blueGreen Rollout whose environment asks for analysis has one (the component declares its request metrics)",
         "without analysis a bad version reaches every user once the pauses elapse; nothing aborts it automatically"),
]

RULES: dict[str, Rule] = {r.id: r for r in _RULES}


def rule(rule_id: str) -> Rule:
    return RULES[rule_id]

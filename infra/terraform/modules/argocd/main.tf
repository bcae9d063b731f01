# Argo CD from its Helm chart at a pinned version, then the environment's root
# Application (app of apps) exactly as the generator wrote it in argocd/<env>/.
# After this apply, Argo CD owns everything in the cluster that lives in git.
resource "kubernetes_namespace_v1" "this" {
  metadata {
    name = var.namespace
    labels = {
      "app.kubernetes.io/managed-by"       = "terraform"
      "pod-security.kubernetes.io/enforce" = "baseline"
      "pod-security.kubernetes.io/warn"    = "restricted"
    }
  }
}

locals {
  replicas = var.high_availability ? 2 : 1
  host     = "argocd.${var.domain}"

  # Child Applications are healthy only when what they deploy is: the root Application's waves
  # then wait for each add-on before the next (removed from the defaults in Argo CD 1.8; docs
  # operator-manual/health.md "Argo CD App", and the upgrade notes 1.7 -> 1.8).
  application_health_lua = <<-EOT
    hs = {}
    hs.status = "Progressing"
    hs.message = ""
    if obj.status ~= nil and obj.status.health ~= nil then
      hs.status = obj.status.health.status
      if obj.status.health.message ~= nil then
        hs.message = obj.status.health.message
      end
    end
    return hs
  EOT

  # SSO (OpenID Connect). The client secret stays in the cluster: "$<secret>:<key>" names a
  # Kubernetes Secret labelled app.kubernetes.io/part-of=argocd in the Argo CD namespace (docs
  # operator-manual/user-management "Sensitive Data and SSO Client Secrets"); it never reaches git or state.
  oidc_enabled = var.oidc.issuer != ""
  oidc_config = {
    name                   = var.oidc.name
    issuer                 = var.oidc.issuer
    clientID               = var.oidc.client_id
    clientSecret           = format("$%s:%s", var.oidc.client_secret_secret, var.oidc.client_secret_key)
    requestedScopes        = ["openid", "profile", "email", var.oidc.groups_claim]
    requestedIDTokenClaims = { (var.oidc.groups_claim) = { essential = true } }
  }

  cm = merge({
    "admin.enabled"                  = true
    "exec.enabled"                   = false
    "application.instanceLabelKey"   = "argocd.argoproj.io/instance"
    "statusbadge.enabled"            = false
    "server.rbac.log.enforce.enable" = true
    # Annotation tracking (argocd.argoproj.io/tracking-id): the label method writes
    # app.kubernetes.io/instance-style labels that charts set themselves (and that are capped at
    # 63 characters), so resources could be attributed to the wrong Application and pruned by it.
    # Annotation is the default from Argo CD 3.0; pinned so an upgrade or a chart default never
    # flips it (docs user-guide/resource_tracking.md).
    "application.resourceTrackingMethod"                     = "annotation"
    "resource.customizations.health.argoproj.io_Application" = local.application_health_lua
    url                                                      = "https://${local.host}"
    }, local.oidc_enabled ? {
    "oidc.config" = yamlencode(local.oidc_config)
  } : {})

  # Notifications: the argo-cd chart ships empty notifiers, templates and triggers (values.yaml
  # `notifications.notifiers: {}`, `templates: {}`, `triggers: {}`), so the Applications'
  # notifications.argoproj.io/subscribe.* annotations pointed at nothing. Definitions from the
  # Argo CD catalog (notifications_catalog/), Slack token from the Secret argocd-notifications-secret
  # (key slack-token), created out of band like every other secret.
  notification_templates = {
    "template.app-sync-failed"     = <<-EOT
      message: |
        :exclamation: {{.app.metadata.name}}: sync failed at {{.app.status.operationState.finishedAt}}: {{.app.status.operationState.message}}
        {{.context.argocdUrl}}/applications/{{.app.metadata.name}}?operation=true
    EOT
    "template.app-health-degraded" = <<-EOT
      message: |
        :exclamation: {{.app.metadata.name}} is Degraded.
        {{.context.argocdUrl}}/applications/{{.app.metadata.name}}
    EOT
    "template.app-sync-succeeded"  = <<-EOT
      message: |
        :white_check_mark: {{.app.metadata.name}} synced revision {{.app.status.sync.revision}} at {{.app.status.operationState.finishedAt}}.
        {{.context.argocdUrl}}/applications/{{.app.metadata.name}}
    EOT
  }
  notification_triggers = {
    "trigger.on-sync-failed"     = <<-EOT
      - description: Application syncing has failed
        send: [app-sync-failed]
        when: app.status.operationState != nil and app.status.operationState.phase in ['Error', 'Failed']
    EOT
    "trigger.on-health-degraded" = <<-EOT
      - description: Application has degraded
        send: [app-health-degraded]
        when: app.status.health.status == 'Degraded'
    EOT
    "trigger.on-sync-succeeded"  = <<-EOT
      - description: Application syncing has succeeded
        oncePer: app.status.sync.revision
        send: [app-sync-succeeded]
        when: app.status.operationState != nil and app.status.operationState.phase in ['Succeeded']
    EOT
  }

  # The UI is private by default: an internal load balancer reachable from var.ui_source_cidrs
  # (the VPC), or no load balancer at all ("cluster": kubectl port-forward). "public" puts it on
  # the internet-facing ingress, still limited to var.ui_source_cidrs.
  server_service = var.ui_exposure == "internal" ? {
    type                     = "LoadBalancer"
    loadBalancerSourceRanges = var.ui_source_cidrs
    annotations = {
      "service.beta.kubernetes.io/aws-load-balancer-type"   = "nlb"
      "service.beta.kubernetes.io/aws-load-balancer-scheme" = "internal"
    }
  } : { type = "ClusterIP" }

  values = {
    global = { domain = local.host }
    configs = {
      params = { "server.insecure" = false }
      cm     = local.cm
      rbac   = { "policy.default" = "role:readonly" }
    }
    notifications = {
      enabled   = true
      argocdUrl = "https://${local.host}"
      notifiers = { "service.slack" = "token: $slack-token\n" }
      secret    = { create = false }
      templates = local.notification_templates
      triggers  = local.notification_triggers
    }
    controller = { replicas = 1 }
    server = {
      replicas = local.replicas
      service  = local.server_service
      # TLS from the client to ingress-nginx (cert-manager certificate) and again to argocd-server.
      ingress = {
        enabled          = var.ui_exposure == "public"
        ingressClassName = "nginx"
        tls              = true
        annotations = {
          "cert-manager.io/cluster-issuer"                     = var.cluster_issuer
          "nginx.ingress.kubernetes.io/backend-protocol"       = "HTTPS"
          "nginx.ingress.kubernetes.io/whitelist-source-range" = join(",", var.ui_source_cidrs)
        }
      }
    }
    repoServer     = { replicas = local.replicas }
    applicationSet = { replicas = local.replicas }
    dex            = { enabled = false }
    redis-ha       = { enabled = var.high_availability }
    redis          = { enabled = !var.high_availability }
  }

  # argocd-apps takes each object as {<name> = spec + metadata fields}.
  root    = yamldecode(var.root_application_yaml)
  project = yamldecode(var.root_project_yaml)
  bootstrap_values = {
    projects = {
      (local.project.metadata.name) = merge(local.project.spec, {
        namespace             = try(local.project.metadata.namespace, var.namespace)
        additionalLabels      = try(local.project.metadata.labels, {})
        additionalAnnotations = try(local.project.metadata.annotations, {})
      })
    }
    applications = {
      (local.root.metadata.name) = merge(local.root.spec, {
        namespace             = try(local.root.metadata.namespace, var.namespace)
        additionalLabels      = try(local.root.metadata.labels, {})
        additionalAnnotations = try(local.root.metadata.annotations, {})
        finalizers            = try(local.root.metadata.finalizers, [])
      })
    }
  }
}

resource "helm_release" "argocd" {
  name       = "argocd"
  repository = "https://argoproj.github.io/argo-helm"
  chart      = "argo-cd"
  version    = var.chart_version
  namespace  = kubernetes_namespace_v1.this.metadata[0].name
  atomic     = true
  wait       = true
  timeout    = 900
  values     = [yamlencode(local.values)]
}

# The root Application and its AppProject through the argocd-apps chart: no CRD is
# needed at plan time (a kubernetes_manifest would need Argo CD's CRDs before the first apply).
# Argo CD then syncs argocd/<env>/, which holds the same two objects, and every other one.
resource "helm_release" "root_application" {
  name       = "root-application"
  repository = "https://argoproj.github.io/argo-helm"
  chart      = "argocd-apps"
  version    = var.apps_chart_version
  namespace  = kubernetes_namespace_v1.this.metadata[0].name
  atomic     = true
  wait       = true
  values     = [yamlencode(local.bootstrap_values)]

  depends_on = [helm_release.argocd]
}

# Plan-time warning: the release-manager role of the root's project names SSO groups, which
# nobody can log in as without OIDC (only `admin` could then sync a manual-sync environment).
check "sso_for_release_groups" {
  assert {
    condition     = local.oidc_enabled || length(flatten([for r in try(local.project.spec.roles, []) : try(r.groups, [])])) == 0
    error_message = "AppProject ${local.project.metadata.name} grants SSO groups a role, but var.oidc.issuer is empty: only admin can sync."
  }
}

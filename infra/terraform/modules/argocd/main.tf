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
  values = {
    global = { domain = "argocd.${var.domain}" }
    configs = {
      params = { "server.insecure" = false }
      cm = {
        "admin.enabled"                  = true
        "exec.enabled"                   = false
        "application.instanceLabelKey"   = "argocd.argoproj.io/instance"
        "statusbadge.enabled"            = false
        "server.rbac.log.enforce.enable" = true
      }
      rbac = { "policy.default" = "role:readonly" }
    }
    controller = { replicas = 1 }
    server = {
      replicas = local.replicas
      # TLS from the client to ingress-nginx (cert-manager certificate) and again to argocd-server.
      ingress = {
        enabled          = true
        ingressClassName = "nginx"
        tls              = true
        annotations = {
          "cert-manager.io/cluster-issuer"               = var.cluster_issuer
          "nginx.ingress.kubernetes.io/backend-protocol" = "HTTPS"
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

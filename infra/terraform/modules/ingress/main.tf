# ingress-nginx behind an AWS Network Load Balancer (created by the controller's
# LoadBalancer Service). Values are passed as one YAML document, not `set` paths,
# so annotation keys with dots need no escaping (the old main.tf failed to parse on that).
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
  values = {
    controller = {
      replicaCount            = var.replicas
      allowSnippetAnnotations = false
      ingressClassResource = {
        name    = "nginx"
        enabled = true
        default = true
      }
      config = {
        "use-forwarded-headers" = "false"
        "server-tokens"         = "false"
        "ssl-redirect"          = "true"
        "hsts"                  = "true"
      }
      topologySpreadConstraints = [{
        maxSkew           = 1
        topologyKey       = "topology.kubernetes.io/zone"
        whenUnsatisfiable = "ScheduleAnyway"
        labelSelector = {
          matchLabels = {
            "app.kubernetes.io/name"      = "ingress-nginx"
            "app.kubernetes.io/component" = "controller"
          }
        }
      }]
      podDisruptionBudget = { enabled = true, minAvailable = 1 }
      metrics             = { enabled = true }
      resources = {
        requests = { cpu = "100m", memory = "128Mi" }
        limits   = { memory = "512Mi" }
      }
      service = {
        type                     = "LoadBalancer"
        externalTrafficPolicy    = "Local"
        loadBalancerSourceRanges = var.source_cidrs
        annotations = {
          "service.beta.kubernetes.io/aws-load-balancer-type"                              = "nlb"
          "service.beta.kubernetes.io/aws-load-balancer-scheme"                            = var.load_balancer_scheme
          "service.beta.kubernetes.io/aws-load-balancer-cross-zone-load-balancing-enabled" = "true"
        }
      }
    }
  }
}

resource "helm_release" "ingress_nginx" {
  name       = "ingress-nginx"
  repository = "https://kubernetes.github.io/ingress-nginx"
  chart      = "ingress-nginx"
  version    = var.chart_version
  namespace  = kubernetes_namespace_v1.this.metadata[0].name
  atomic     = true
  wait       = true
  timeout    = 600
  values     = [yamlencode(local.values)]
}

data "kubernetes_service_v1" "controller" {
  metadata {
    name      = "ingress-nginx-controller"
    namespace = kubernetes_namespace_v1.this.metadata[0].name
  }

  depends_on = [helm_release.ingress_nginx]
}

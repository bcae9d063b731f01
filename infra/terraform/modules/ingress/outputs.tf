output "namespace" {
  description = "Namespace the ingress controller runs in."
  value       = kubernetes_namespace_v1.this.metadata[0].name
}

output "ingress_class" {
  description = "IngressClass served by this controller (the cluster default)."
  value       = "nginx"
}

output "chart_version" {
  description = "ingress-nginx Helm chart version installed."
  value       = helm_release.ingress_nginx.version
}

output "load_balancer_hostname" {
  description = "DNS name of the Network Load Balancer; point the environment's domain records (CNAME/alias) at it."
  value       = try(data.kubernetes_service_v1.controller.status[0].load_balancer[0].ingress[0].hostname, null)
}

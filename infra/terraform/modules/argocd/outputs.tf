output "namespace" {
  description = "Namespace Argo CD runs in."
  value       = kubernetes_namespace_v1.this.metadata[0].name
}

output "chart_version" {
  description = "argo-cd Helm chart version installed."
  value       = helm_release.argocd.version
}

output "root_application" {
  description = "Name of the root Application (app of apps) that hands the environment over to Argo CD."
  value       = local.root.metadata.name
}

output "root_project" {
  description = "AppProject of the root Application, installed with it."
  value       = local.project.metadata.name
}

output "url" {
  description = "Where the Argo CD UI is served once DNS points argocd.<domain> at the ingress load balancer."
  value       = "https://argocd.${var.domain}"
}

output "cluster_name" {
  description = "EKS cluster name (also in environments/<env>.yaml)."
  value       = module.cluster.cluster_name
}

output "cluster_endpoint" {
  description = "Kubernetes API endpoint; `aws eks update-kubeconfig --name <cluster_name>` uses it."
  value       = module.cluster.endpoint
}

output "vpc_id" {
  description = "ID of the environment's VPC."
  value       = module.network.vpc_id
}

output "private_subnet_ids" {
  description = "Private subnets (nodes, backing services)."
  value       = module.network.private_subnet_ids
}

output "nat_public_ips" {
  description = "Egress IPs of the cluster, for third-party allow-lists."
  value       = module.network.nat_public_ips
}

output "node_group" {
  description = "Node group sizing derived from nodeCapacity."
  value       = module.cluster.node_group
}

output "workload_role_arns" {
  description = "IRSA role ARN per component with cloudIdentity: true."
  value       = module.cluster.workload_role_arns
}

output "ingress_load_balancer_hostname" {
  description = "DNS name to point *.<domain> at."
  value       = module.ingress.load_balancer_hostname
}

output "argocd_url" {
  description = "Argo CD UI of this environment."
  value       = module.argocd.url
}

output "argocd_root_application" {
  description = "Root Application that now syncs argocd/<env>/ and, through it, dist/<env>/."
  value       = module.argocd.root_application
}

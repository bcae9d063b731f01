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

# Read by the provider blocks of environments/<env>/providers.tf: provider configuration
# must live in the root module, but what it says is the same for every environment.

output "aws_provider" {
  description = "Settings of the root's aws provider: region, allowed account IDs (null: any) and the default tags of every resource."
  value = {
    region              = var.aws_region
    allowed_account_ids = length(var.aws_account_ids) > 0 ? var.aws_account_ids : null
    default_tags = {
      Environment = var.environment
      Project     = "meetinity"
      ManagedBy   = "terraform"
      Source      = "infra/terraform/environments/${var.environment}"
    }
  }
}

output "kubernetes_connection" {
  description = "How the root's kubernetes and helm providers reach this cluster: API endpoint, decoded CA and the `aws eks get-token` exec plugin (a short-lived token, no static kubeconfig)."
  value = {
    host                   = module.cluster.endpoint
    cluster_ca_certificate = base64decode(module.cluster.certificate_authority_data)
    exec = {
      api_version = "client.authentication.k8s.io/v1beta1"
      command     = "aws"
      args        = ["eks", "get-token", "--cluster-name", module.cluster.cluster_name, "--region", var.aws_region]
    }
  }
}

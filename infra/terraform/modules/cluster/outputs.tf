output "cluster_name" {
  description = "Name of the EKS cluster."
  value       = aws_eks_cluster.this.name
}

output "cluster_arn" {
  description = "ARN of the EKS cluster."
  value       = aws_eks_cluster.this.arn
}

output "endpoint" {
  description = "HTTPS endpoint of the Kubernetes API server."
  value       = aws_eks_cluster.this.endpoint
}

output "certificate_authority_data" {
  description = "Base64-encoded CA certificate of the API server (for provider and kubeconfig set-up)."
  value       = aws_eks_cluster.this.certificate_authority[0].data
}

output "kubernetes_version" {
  description = "Kubernetes minor version the control plane runs."
  value       = aws_eks_cluster.this.version
}

output "oidc_provider_arn" {
  description = "ARN of the IAM OIDC provider that IRSA roles trust."
  value       = aws_iam_openid_connect_provider.this.arn
}

output "node_group" {
  description = "Node group name, instance types and min/max/desired sizes as derived from the environment's nodeCapacity."
  value       = module.sizing.node_group
}

output "node_role_arn" {
  description = "IAM role of the worker nodes."
  value       = aws_iam_role.node.arn
}

output "workload_role_arns" {
  description = "IAM role ARN per component with cloudIdentity: true; annotate its ServiceAccount with eks.amazonaws.com/role-arn."
  value       = { for name, role in aws_iam_role.workload : name => role.arn }
}

output "kms_key_arn" {
  description = "KMS key encrypting Kubernetes Secrets and control-plane logs."
  value       = aws_kms_key.cluster.arn
}

output "storage_class" {
  description = "Name of the gp3 StorageClass (EBS CSI driver) that the platform's volume claims use."
  value       = kubernetes_storage_class_v1.gp3.metadata[0].name
}

output "controller_role_arns" {
  description = "IRSA role ARN of each cluster controller (ebs-csi-controller, cluster-autoscaler)."
  value       = { for name, role in aws_iam_role.controller : name => role.arn }
}

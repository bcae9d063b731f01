output "node_group" {
  description = "Managed node group settings: name, instance_types, min_size, max_size, desired_size."
  value       = local.node_group

  precondition {
    condition     = local.millicores.requests_quota <= local.capacity_at_max.cpu_millicores
    error_message = "The namespace quota requests more CPU than the node group provides at max_size; raise nodeCapacity or lower the quota in environments/<env>.yaml."
  }
  precondition {
    condition     = local.mebibytes.requests_quota <= local.capacity_at_max.memory_mib
    error_message = "The namespace quota requests more memory than the node group provides at max_size; raise nodeCapacity or lower the quota in environments/<env>.yaml."
  }
}

output "capacity_at_max" {
  description = "Total node CPU (millicores) and memory (MiB) when the node group runs at max_size."
  value       = local.capacity_at_max
}

output "quota_millicores" {
  description = "The namespace quota's CPU requests and limits in millicores."
  value       = { requests = local.millicores.requests_quota, limits = local.millicores.limits_quota }
}

output "quota_mib" {
  description = "The namespace quota's memory requests and limits in MiB."
  value       = { requests = local.mebibytes.requests_quota, limits = local.mebibytes.limits_quota }
}

output "workload_roles" {
  description = "Per workload needing a cloud identity: IAM role name, namespace, service account and the IRSA token subject."
  value       = local.workload_roles
}

output "cluster_log_group_name" {
  description = "CloudWatch log group name EKS writes control-plane logs to (fixed by AWS: /aws/eks/<cluster>/cluster)."
  value       = "/aws/eks/${var.cluster_name}/cluster"
}

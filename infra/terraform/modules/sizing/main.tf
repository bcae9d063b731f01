# Turns the environment's declared capacity into node group settings and derived
# names. Kubernetes quantities are parsed here so the cluster module never guesses.
locals {
  # Memory units in MiB.
  memory_units = {
    ""   = 1 / 1048576
    "k"  = 1000 / 1048576
    "M"  = 1000000 / 1048576
    "G"  = 1000000000 / 1048576
    "T"  = 1000000000000 / 1048576
    "Ki" = 1 / 1024
    "Mi" = 1
    "Gi" = 1024
    "Ti" = 1048576
  }

  cpu_quantities = {
    per_node       = var.node_capacity.cpu_per_node
    requests_quota = var.namespace_quota.requests_cpu
    limits_quota   = var.namespace_quota.limits_cpu
  }
  memory_quantities = {
    per_node       = var.node_capacity.memory_per_node
    requests_quota = var.namespace_quota.requests_memory
    limits_quota   = var.namespace_quota.limits_memory
  }

  millicores = {
    for k, q in local.cpu_quantities :
    k => endswith(q, "m") ? tonumber(trimsuffix(q, "m")) : tonumber(q) * 1000
  }
  mebibytes = {
    for k, q in local.memory_quantities :
    k => tonumber(regex("^([0-9.]+)([A-Za-z]*)$", q)[0]) * local.memory_units[regex("^([0-9.]+)([A-Za-z]*)$", q)[1]]
  }

  capacity_at_max = {
    cpu_millicores = local.millicores.per_node * var.node_capacity.max_size
    memory_mib     = local.mebibytes.per_node * var.node_capacity.max_size
  }

  node_group = {
    name           = "${var.cluster_name}-default"
    instance_types = [var.node_capacity.instance_type]
    min_size       = var.node_capacity.min_size
    max_size       = var.node_capacity.max_size
    # Start at the floor; the cluster autoscaler moves it and Terraform ignores the drift.
    desired_size = var.node_capacity.min_size
  }

  # One IAM role per workload identity; the subject is what IRSA puts in the token.
  workload_roles = {
    for i in var.cloud_identities : i.name => {
      role_name       = substr("${var.cluster_name}-${i.name}", 0, 64)
      namespace       = i.namespace
      service_account = i.service_account
      subject         = "system:serviceaccount:${i.namespace}:${i.service_account}"
    }
  }
}

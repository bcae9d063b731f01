variable "cluster_name" {
  description = "EKS cluster name (environments/<env>.yaml cluster.name)."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", var.cluster_name)) && length(var.cluster_name) <= 40
    error_message = "cluster_name must be a lowercase DNS label of at most 40 characters (IAM role names derived from it stay under 64)."
  }
}

variable "node_capacity" {
  description = "Managed node group size and per-node capacity (environments/<env>.yaml nodeCapacity)."
  type = object({
    instance_type   = string
    min_size        = number
    max_size        = number
    cpu_per_node    = string
    memory_per_node = string
  })

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]*\\.[a-z0-9]+$", var.node_capacity.instance_type))
    error_message = "node_capacity.instance_type must look like an EC2 instance type, e.g. m5.large."
  }
  validation {
    condition     = var.node_capacity.min_size >= 1 && var.node_capacity.max_size >= var.node_capacity.min_size && floor(var.node_capacity.min_size) == var.node_capacity.min_size && floor(var.node_capacity.max_size) == var.node_capacity.max_size
    error_message = "node_capacity needs whole numbers with 1 <= min_size <= max_size."
  }
  validation {
    condition     = can(regex("^([0-9]+m|[0-9]+(\\.[0-9]+)?)$", var.node_capacity.cpu_per_node))
    error_message = "node_capacity.cpu_per_node must be a Kubernetes CPU quantity such as \"2\" or \"1500m\"."
  }
  validation {
    condition     = can(regex("^[0-9]+(\\.[0-9]+)?(Ki|Mi|Gi|Ti|k|M|G|T)?$", var.node_capacity.memory_per_node))
    error_message = "node_capacity.memory_per_node must be a Kubernetes memory quantity such as \"8Gi\"."
  }
}

variable "namespace_quota" {
  description = "ResourceQuota of the environment's namespace (environments/<env>.yaml quota); its requests must fit in the node group at max_size."
  type = object({
    requests_cpu    = string
    requests_memory = string
    limits_cpu      = string
    limits_memory   = string
  })

  validation {
    condition = alltrue([
      for q in [var.namespace_quota.requests_cpu, var.namespace_quota.limits_cpu] : can(regex("^([0-9]+m|[0-9]+(\\.[0-9]+)?)$", q))
    ])
    error_message = "namespace_quota CPU values must be Kubernetes CPU quantities."
  }
  validation {
    condition = alltrue([
      for q in [var.namespace_quota.requests_memory, var.namespace_quota.limits_memory] : can(regex("^[0-9]+(\\.[0-9]+)?(Ki|Mi|Gi|Ti|k|M|G|T)?$", q))
    ])
    error_message = "namespace_quota memory values must be Kubernetes memory quantities."
  }
}

variable "cloud_identities" {
  description = "Workloads that need an IAM role bound to their ServiceAccount (inventory cloudIdentity: true, enabled in the environment)."
  type = list(object({
    name            = string
    namespace       = string
    service_account = string
  }))
  default = []

  validation {
    condition = alltrue([
      for i in var.cloud_identities : alltrue([
        for v in [i.name, i.namespace, i.service_account] : can(regex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", v)) && length(v) <= 63
      ])
    ])
    error_message = "cloud_identities names, namespaces and service accounts must be DNS-1123 labels."
  }
  validation {
    condition     = length(distinct([for i in var.cloud_identities : i.name])) == length(var.cloud_identities)
    error_message = "cloud_identities names must be unique."
  }
}

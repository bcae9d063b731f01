# Generated values (infra/terraform/environments/<env>/generated.auto.tfvars.json)
# arrive through modules/environment; the rest are operator settings.

variable "cluster_name" {
  description = "EKS cluster name (environments/<env>.yaml cluster.name)."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", var.cluster_name)) && length(var.cluster_name) <= 40
    error_message = "cluster_name must be a lowercase DNS label of at most 40 characters."
  }
}

variable "kubernetes_version" {
  description = "Kubernetes minor version of the control plane and nodes, e.g. \"1.33\" (environments/<env>.yaml kubernetesVersion)."
  type        = string

  validation {
    condition     = can(regex("^1\\.[0-9]{2}$", var.kubernetes_version))
    error_message = "kubernetes_version must be a Kubernetes minor version such as \"1.33\"."
  }
}

variable "node_capacity" {
  description = "Managed node group size and per-node capacity (see modules/sizing)."
  type = object({
    instance_type   = string
    min_size        = number
    max_size        = number
    cpu_per_node    = string
    memory_per_node = string
  })

  validation {
    condition = alltrue([
      can(regex("^[a-z][a-z0-9-]*\\.[a-z0-9]+$", var.node_capacity.instance_type)),
      var.node_capacity.min_size >= 1,
      var.node_capacity.max_size >= var.node_capacity.min_size,
      can(regex("^([0-9]+m|[0-9]+(\\.[0-9]+)?)$", var.node_capacity.cpu_per_node)),
      can(regex("^[0-9]+(\\.[0-9]+)?(Ki|Mi|Gi|Ti|k|M|G|T)?$", var.node_capacity.memory_per_node)),
    ])
    error_message = "node_capacity needs an EC2 instance type, 1 <= min_size <= max_size and Kubernetes CPU/memory quantities per node."
  }
}

variable "namespace_quota" {
  description = "The environment namespace's ResourceQuota; checked against node capacity by modules/sizing."
  type = object({
    requests_cpu    = string
    requests_memory = string
    limits_cpu      = string
    limits_memory   = string
  })

  validation {
    condition = alltrue([
      can(regex("^([0-9]+m|[0-9]+(\\.[0-9]+)?)$", var.namespace_quota.requests_cpu)),
      can(regex("^([0-9]+m|[0-9]+(\\.[0-9]+)?)$", var.namespace_quota.limits_cpu)),
      can(regex("^[0-9]+(\\.[0-9]+)?(Ki|Mi|Gi|Ti|k|M|G|T)?$", var.namespace_quota.requests_memory)),
      can(regex("^[0-9]+(\\.[0-9]+)?(Ki|Mi|Gi|Ti|k|M|G|T)?$", var.namespace_quota.limits_memory)),
    ])
    error_message = "namespace_quota values must be Kubernetes CPU and memory quantities."
  }
}

variable "cloud_identities" {
  description = "Workloads that get an IAM role for their ServiceAccount (IRSA)."
  type = list(object({
    name            = string
    namespace       = string
    service_account = string
  }))
  default = []

  validation {
    condition = alltrue([
      for i in var.cloud_identities : alltrue([for v in [i.name, i.namespace, i.service_account] : can(regex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", v))])
    ]) && length(distinct([for i in var.cloud_identities : i.name])) == length(var.cloud_identities)
    error_message = "cloud_identities need unique names; names, namespaces and service accounts are DNS-1123 labels."
  }
}

variable "identity_policy_arns" {
  description = "IAM policy ARNs to attach to each workload role, keyed by component name. Keys must be cloud identities."
  type        = map(list(string))
  default     = {}

  validation {
    condition = alltrue(flatten([
      for arns in values(var.identity_policy_arns) : [for arn in arns : can(regex("^arn:aws[a-z-]*:iam::([0-9]{12}|aws):policy/", arn))]
    ]))
    error_message = "identity_policy_arns values must be IAM policy ARNs."
  }
}

variable "vpc_id" {
  description = "VPC the cluster runs in (modules/network output vpc_id)."
  type        = string

  validation {
    condition     = can(regex("^vpc-[0-9a-f]+$", var.vpc_id))
    error_message = "vpc_id must be a VPC ID (vpc-...)."
  }
}

variable "subnet_ids" {
  description = "Private subnets for the control plane ENIs and the nodes, in at least two zones."
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) >= 2 && alltrue([for s in var.subnet_ids : can(regex("^subnet-[0-9a-f]+$", s))])
    error_message = "subnet_ids needs at least two subnet IDs (subnet-...)."
  }
}

variable "public_access_cidrs" {
  description = "CIDRs allowed to reach the public API endpoint (CI runners, operators). Empty: private endpoint only."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for c in var.public_access_cidrs : can(cidrnetmask(c)) && c != "0.0.0.0/0"])
    error_message = "public_access_cidrs must be IPv4 CIDRs, never 0.0.0.0/0."
  }
}

variable "admin_principal_arns" {
  description = "IAM roles or users granted cluster-admin through EKS access entries (the applying identity is always admin)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for a in var.admin_principal_arns : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:(role|user)/", a))])
    error_message = "admin_principal_arns must be IAM role or user ARNs."
  }
}

variable "log_retention_days" {
  description = "Days to keep control-plane logs in CloudWatch."
  type        = number
  default     = 365

  validation {
    condition     = contains([365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a CloudWatch retention value of at least 365 days."
  }
}

variable "node_disk_size_gib" {
  description = "Root volume size of each node, in GiB."
  type        = number
  default     = 50

  validation {
    condition     = var.node_disk_size_gib >= 20 && var.node_disk_size_gib <= 1000
    error_message = "node_disk_size_gib must be between 20 and 1000."
  }
}

variable "tags" {
  description = "Extra tags on every resource."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for k, v in var.tags : length(k) > 0 && length(k) <= 128 && length(v) <= 256])
    error_message = "tags keys must be 1-128 characters and values at most 256 (AWS limits)."
  }
}

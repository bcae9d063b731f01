# The one typed, documented and validated declaration of every environment input.
# environments/<env>/variables.tf only names them for Terraform (which reads
# *.auto.tfvars into root variables) and passes each one here unchanged; an optional
# input it leaves unset arrives as null, which `nullable = false` turns into the default below.

# ---------------------------------------------------------------------------
# Generated: environments/<env>/generated.auto.tfvars.json (written by `gitops synth`
# from environments/<env>.yaml and inventory/; never edit it by hand).
# ---------------------------------------------------------------------------

variable "environment" {
  description = "Environment name (environments/<env>.yaml name)."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", var.environment))
    error_message = "environment must be a DNS-1123 label."
  }
}

variable "cluster_name" {
  description = "EKS cluster name."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", var.cluster_name)) && length(var.cluster_name) <= 40
    error_message = "cluster_name must be a lowercase DNS label of at most 40 characters."
  }
}

variable "kubernetes_version" {
  description = "Kubernetes minor version, e.g. \"1.33\"."
  type        = string

  validation {
    condition     = can(regex("^1\\.[0-9]{2}$", var.kubernetes_version))
    error_message = "kubernetes_version must be a Kubernetes minor version such as \"1.33\"."
  }
}

variable "domain" {
  description = "Environment domain; public hosts are <subdomain>.<domain>."
  type        = string

  validation {
    condition     = can(regex("^([a-z0-9]([-a-z0-9]*[a-z0-9])?\\.)+[a-z]{2,}$", var.domain))
    error_message = "domain must be a DNS name."
  }
}

variable "cluster_issuer" {
  description = "cert-manager ClusterIssuer the environment's Ingresses (and the Argo CD UI) use."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$", var.cluster_issuer))
    error_message = "cluster_issuer must be a Kubernetes object name."
  }
}

variable "backing_cidrs" {
  description = "CIDRs of the managed backing services the workloads may reach (NetworkPolicy egress); they must lie inside the VPC."
  type        = list(string)
  default     = []
  nullable    = false

  validation {
    condition     = alltrue([for c in var.backing_cidrs : can(cidrnetmask(c))])
    error_message = "backing_cidrs must be IPv4 CIDRs."
  }
}

variable "namespaces" {
  description = "Namespaces shared with the manifests: workloads (the environment's), ingress (ingress-nginx) and argocd."
  type = object({
    workloads = string
    ingress   = string
    argocd    = string
  })

  validation {
    condition     = alltrue([for ns in values(var.namespaces) : can(regex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", ns)) && length(ns) <= 63])
    error_message = "namespaces must be DNS-1123 labels."
  }
}

variable "node_capacity" {
  description = "Managed node group: instance type, min/max nodes and per-node CPU and memory."
  type = object({
    instance_type   = string
    min_size        = number
    max_size        = number
    cpu_per_node    = string
    memory_per_node = string
  })

  validation {
    condition     = var.node_capacity.min_size >= 1 && var.node_capacity.max_size >= var.node_capacity.min_size
    error_message = "node_capacity needs 1 <= min_size <= max_size."
  }
}

variable "namespace_quota" {
  description = "ResourceQuota of the workloads namespace; its requests must fit in the node group at max_size."
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
  description = "Components with cloudIdentity: true enabled in this environment; each gets an IRSA role."
  type = list(object({
    name            = string
    namespace       = string
    service_account = string
  }))
  default  = []
  nullable = false

  validation {
    condition = alltrue([
      for i in var.cloud_identities : alltrue([for v in [i.name, i.namespace, i.service_account] : can(regex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", v))])
    ]) && length(distinct([for i in var.cloud_identities : i.name])) == length(var.cloud_identities)
    error_message = "cloud_identities need unique names; names, namespaces and service accounts are DNS-1123 labels."
  }
}

# ---------------------------------------------------------------------------
# Operator settings: environments/<env>/settings.auto.tfvars (hand-written).
# ---------------------------------------------------------------------------

variable "aws_region" {
  description = "AWS region of the environment."
  type        = string

  validation {
    condition     = can(regex("^[a-z]{2}(-gov)?-[a-z]+-[0-9]$", var.aws_region))
    error_message = "aws_region must be an AWS region such as eu-west-1."
  }
}

variable "aws_account_ids" {
  description = "AWS accounts this environment may be applied to (guards against the wrong credentials). Empty: any."
  type        = list(string)
  default     = []
  nullable    = false

  validation {
    condition     = alltrue([for a in var.aws_account_ids : can(regex("^[0-9]{12}$", a))])
    error_message = "aws_account_ids must be 12-digit account IDs."
  }
}

variable "vpc_cidr" {
  description = "IPv4 CIDR of the environment's VPC (a /16 to /20)."
  type        = string

  validation {
    condition     = can(cidrnetmask(var.vpc_cidr))
    error_message = "vpc_cidr must be an IPv4 CIDR."
  }
}

variable "availability_zones" {
  description = "Availability zones for subnets and nodes (2 to 6)."
  type        = list(string)

  validation {
    condition     = length(var.availability_zones) >= 2 && length(var.availability_zones) <= 6
    error_message = "availability_zones needs 2 to 6 zones."
  }
}

variable "single_nat_gateway" {
  description = "One NAT gateway for the whole VPC (cheaper; not zone-redundant)."
  type        = bool
  default     = false
  nullable    = false
}

variable "public_access_cidrs" {
  description = "CIDRs allowed to reach the EKS public API endpoint; empty keeps the endpoint private."
  type        = list(string)
  default     = []
  nullable    = false

  validation {
    condition     = alltrue([for c in var.public_access_cidrs : can(cidrnetmask(c)) && c != "0.0.0.0/0"])
    error_message = "public_access_cidrs must be IPv4 CIDRs, never 0.0.0.0/0."
  }
}

variable "admin_principal_arns" {
  description = "IAM roles or users granted cluster-admin (besides the identity that applies)."
  type        = list(string)
  default     = []
  nullable    = false

  validation {
    condition     = alltrue([for a in var.admin_principal_arns : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:(role|user)/", a))])
    error_message = "admin_principal_arns must be IAM role or user ARNs."
  }
}

variable "identity_policy_arns" {
  description = "IAM policy ARNs per cloud identity (component name -> ARNs)."
  type        = map(list(string))
  default     = {}
  nullable    = false

  validation {
    condition = alltrue(flatten([
      for arns in values(var.identity_policy_arns) : [for arn in arns : can(regex("^arn:aws[a-z-]*:iam::([0-9]{12}|aws):policy/", arn))]
    ]))
    error_message = "identity_policy_arns values must be IAM policy ARNs."
  }
}

variable "ingress_source_cidrs" {
  description = "Client CIDRs admitted by the ingress load balancer."
  type        = list(string)
  default     = ["0.0.0.0/0"]
  nullable    = false

  validation {
    condition     = length(var.ingress_source_cidrs) > 0 && alltrue([for c in var.ingress_source_cidrs : can(cidrnetmask(c))])
    error_message = "ingress_source_cidrs must list at least one IPv4 CIDR."
  }
}

variable "ingress_scheme" {
  description = "internet-facing or internal load balancer in front of ingress-nginx."
  type        = string
  default     = "internet-facing"
  nullable    = false

  validation {
    condition     = contains(["internet-facing", "internal"], var.ingress_scheme)
    error_message = "ingress_scheme must be internet-facing or internal."
  }
}

variable "argocd_high_availability" {
  description = "Run Argo CD with several replicas and Redis HA."
  type        = bool
  default     = false
  nullable    = false
}

variable "argocd_access" {
  description = "Who reaches Argo CD: ui_exposure (internal | cluster | public, default internal), ui_source_cidrs (default: the VPC), oidc (SSO; see modules/argocd, issuer empty = none)."
  type = object({
    ui_exposure     = optional(string, "internal")
    ui_source_cidrs = optional(list(string), [])
    oidc = optional(object({
      issuer               = optional(string, "")
      client_id            = optional(string, "argocd")
      name                 = optional(string, "SSO")
      client_secret_secret = optional(string, "argocd-oidc")
      client_secret_key    = optional(string, "client-secret")
      groups_claim         = optional(string, "groups")
    }), {})
  })
  default  = {}
  nullable = false

  validation {
    condition     = !contains(var.argocd_access.ui_source_cidrs, "0.0.0.0/0")
    error_message = "argocd_access.ui_source_cidrs must never contain 0.0.0.0/0: the Argo CD UI stays off the public internet."
  }
}

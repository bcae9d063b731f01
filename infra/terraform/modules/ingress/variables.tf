variable "namespace" {
  description = "Namespace of the ingress controller; the generated NetworkPolicies admit ingress traffic from this namespace only (generated tfvars namespaces.ingress)."
  type        = string
  default     = "ingress-nginx"

  validation {
    condition     = can(regex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", var.namespace)) && length(var.namespace) <= 63
    error_message = "namespace must be a DNS-1123 label."
  }
}

variable "chart_version" {
  description = "Pinned ingress-nginx Helm chart version."
  type        = string
  default     = "4.13.3"

  validation {
    condition     = can(regex("^[0-9]+\\.[0-9]+\\.[0-9]+$", var.chart_version))
    error_message = "chart_version must be an exact version (x.y.z), never a range."
  }
}

variable "replicas" {
  description = "Controller replicas (at least two, spread over zones)."
  type        = number
  default     = 2

  validation {
    condition     = var.replicas >= 2 && var.replicas <= 10 && floor(var.replicas) == var.replicas
    error_message = "replicas must be a whole number between 2 and 10."
  }
}

variable "load_balancer_scheme" {
  description = "Scheme of the Network Load Balancer in front of the controller."
  type        = string
  default     = "internet-facing"

  validation {
    condition     = contains(["internet-facing", "internal"], var.load_balancer_scheme)
    error_message = "load_balancer_scheme must be internet-facing or internal."
  }
}

variable "source_cidrs" {
  description = "Client CIDRs allowed through the load balancer (loadBalancerSourceRanges)."
  type        = list(string)
  default     = ["0.0.0.0/0"]

  validation {
    condition     = length(var.source_cidrs) > 0 && alltrue([for c in var.source_cidrs : can(cidrnetmask(c))])
    error_message = "source_cidrs must list at least one IPv4 CIDR."
  }
}

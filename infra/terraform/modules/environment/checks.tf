# Consistency between the generated values and the operator settings. Provider-free
# (terraform_data is built into Terraform), so `terraform plan` fails on a mismatch
# before anything is created; tests/test_terraform.py plans it offline with variables.tf,
# called from each environment's main.tf.

locals {
  vpc_prefix = tonumber(split("/", var.vpc_cidr)[1])
  # A backing CIDR lies in the VPC when it is at least as narrow and shares the VPC's prefix.
  backing_outside_vpc = [
    for c in var.backing_cidrs : c
    if tonumber(split("/", c)[1]) < local.vpc_prefix || cidrhost("${split("/", c)[0]}/${local.vpc_prefix}", 0) != cidrhost(var.vpc_cidr, 0)
  ]
  identity_names          = [for i in var.cloud_identities : i.name]
  unknown_policy_keys     = [for name in keys(var.identity_policy_arns) : name if !contains(local.identity_names, name)]
  foreign_identity_spaces = distinct([for i in var.cloud_identities : i.namespace if i.namespace != var.namespaces.workloads])
}

resource "terraform_data" "consistency" {
  input = {
    environment   = var.environment
    vpc_cidr      = var.vpc_cidr
    backing_cidrs = var.backing_cidrs
  }

  lifecycle {
    precondition {
      condition     = length(local.backing_outside_vpc) == 0
      error_message = "backing cidr(s) ${join(", ", local.backing_outside_vpc)} from environments/${var.environment}.yaml lie outside vpc_cidr ${var.vpc_cidr}: the generated NetworkPolicies would open egress to addresses this VPC does not hold."
    }
    precondition {
      condition     = length(local.unknown_policy_keys) == 0
      error_message = "identity_policy_arns names ${join(", ", local.unknown_policy_keys)}, which are not cloud identities of ${var.environment} (set cloudIdentity: true in inventory/ and enable the component)."
    }
    precondition {
      condition     = length(local.foreign_identity_spaces) == 0
      error_message = "cloud_identities outside the workloads namespace ${var.namespaces.workloads}: ${join(", ", local.foreign_identity_spaces)}."
    }
  }
}

# The keys of generated.auto.tfvars.json and settings.auto.tfvars: Terraform reads *.auto.tfvars
# into root variables only, so they are named here and passed unchanged to modules/environment,
# whose variables.tf types, documents, defaults and validates each one. null = the module's default.

# generated.auto.tfvars.json (`gitops synth`)
variable "environment" {}
variable "cluster_name" {}
variable "kubernetes_version" {}
variable "domain" {}
variable "cluster_issuer" {}
variable "backing_cidrs" { default = null }
variable "namespaces" {}
variable "node_capacity" {}
variable "namespace_quota" {}
variable "cloud_identities" { default = null }

# settings.auto.tfvars (hand-written)
variable "aws_region" {}
variable "aws_account_ids" { default = null }
variable "vpc_cidr" {}
variable "availability_zones" {}
variable "single_nat_gateway" { default = null }
variable "public_access_cidrs" { default = null }
variable "admin_principal_arns" { default = null }
variable "identity_policy_arns" { default = null }
variable "ingress_source_cidrs" { default = null }
variable "ingress_scheme" { default = null }
variable "argocd_high_availability" { default = null }
variable "argocd_access" { default = null }

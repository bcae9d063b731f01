# This environment's cloud footprint is modules/environment (network -> cluster -> ingress ->
# Argo CD), the same for every environment; what differs is in generated.auto.tfvars.json
# (generated), settings.auto.tfvars (hand-written) and the state key in versions.tf.

module "environment" {
  source = "../../modules/environment"

  environment        = var.environment
  cluster_name       = var.cluster_name
  kubernetes_version = var.kubernetes_version
  domain             = var.domain
  cluster_issuer     = var.cluster_issuer
  backing_cidrs      = var.backing_cidrs
  namespaces         = var.namespaces
  node_capacity      = var.node_capacity
  namespace_quota    = var.namespace_quota
  cloud_identities   = var.cloud_identities

  aws_region               = var.aws_region
  aws_account_ids          = var.aws_account_ids
  vpc_cidr                 = var.vpc_cidr
  availability_zones       = var.availability_zones
  single_nat_gateway       = var.single_nat_gateway
  public_access_cidrs      = var.public_access_cidrs
  admin_principal_arns     = var.admin_principal_arns
  identity_policy_arns     = var.identity_policy_arns
  ingress_source_cidrs     = var.ingress_source_cidrs
  ingress_scheme           = var.ingress_scheme
  argocd_high_availability = var.argocd_high_availability
  argocd_access            = var.argocd_access
}

output "environment" {
  description = "Every output of modules/environment (described in its outputs.tf), e.g. `terraform output -json environment | jq -r .argocd_url`."
  value       = module.environment
}

# State written before modules/environment existed kept these objects at the root.
moved {
  from = module.network
  to   = module.environment.module.network
}

moved {
  from = module.cluster
  to   = module.environment.module.cluster
}

moved {
  from = module.ingress
  to   = module.environment.module.ingress
}

moved {
  from = module.argocd
  to   = module.environment.module.argocd
}

moved {
  from = terraform_data.consistency
  to   = module.environment.terraform_data.consistency
}

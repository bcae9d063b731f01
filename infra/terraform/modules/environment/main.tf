# One environment's cloud footprint: network -> cluster -> ingress -> Argo CD.
# After `terraform apply`, Argo CD's root Application (argocd/<env>/) takes over
# everything that lives in git. Every environments/<env>/ root calls this module once;
# what differs lives in its generated.auto.tfvars.json (generated) and settings.auto.tfvars.

locals {
  # Written by `gitops synth` (argocd/<env>/): the root Application and the AppProject it runs in.
  # infra/terraform/modules/environment is four levels below the repository root.
  argocd_dir            = "${path.module}/../../../../argocd/${var.environment}"
  root_application_yaml = file("${local.argocd_dir}/application-root.yaml")
  root_project_yaml     = file("${local.argocd_dir}/appproject-${yamldecode(local.root_application_yaml).spec.project}.yaml")
}

module "network" {
  source = "../network"

  name               = var.cluster_name
  cluster_name       = var.cluster_name
  cidr_block         = var.vpc_cidr
  availability_zones = var.availability_zones
  single_nat_gateway = var.single_nat_gateway
}

module "cluster" {
  source = "../cluster"

  cluster_name         = var.cluster_name
  kubernetes_version   = var.kubernetes_version
  node_capacity        = var.node_capacity
  namespace_quota      = var.namespace_quota
  cloud_identities     = var.cloud_identities
  identity_policy_arns = var.identity_policy_arns
  vpc_id               = module.network.vpc_id
  subnet_ids           = module.network.private_subnet_ids
  public_access_cidrs  = var.public_access_cidrs
  admin_principal_arns = var.admin_principal_arns
}

module "ingress" {
  source = "../ingress"

  namespace            = var.namespaces.ingress
  load_balancer_scheme = var.ingress_scheme
  source_cidrs         = var.ingress_source_cidrs

  depends_on = [module.cluster]
}

module "argocd" {
  source = "../argocd"

  namespace             = var.namespaces.argocd
  domain                = var.domain
  cluster_issuer        = var.cluster_issuer
  high_availability     = var.argocd_high_availability
  ui_exposure           = var.argocd_access.ui_exposure
  ui_source_cidrs       = length(var.argocd_access.ui_source_cidrs) > 0 ? var.argocd_access.ui_source_cidrs : [var.vpc_cidr]
  oidc                  = var.argocd_access.oidc
  root_application_yaml = local.root_application_yaml
  root_project_yaml     = local.root_project_yaml

  depends_on = [module.ingress]
}

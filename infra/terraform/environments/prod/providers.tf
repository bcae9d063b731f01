# Provider configuration must live in the root module; what it says comes from
# modules/environment (region, account guard, default tags, how to reach the cluster).
locals {
  aws_provider = module.environment.aws_provider
  kubernetes   = module.environment.kubernetes_connection
}

provider "aws" {
  region              = local.aws_provider.region
  allowed_account_ids = local.aws_provider.allowed_account_ids

  default_tags {
    tags = local.aws_provider.default_tags
  }
}

provider "kubernetes" {
  host                   = local.kubernetes.host
  cluster_ca_certificate = local.kubernetes.cluster_ca_certificate

  exec {
    api_version = local.kubernetes.exec.api_version
    command     = local.kubernetes.exec.command
    args        = local.kubernetes.exec.args
  }
}

provider "helm" {
  kubernetes {
    host                   = local.kubernetes.host
    cluster_ca_certificate = local.kubernetes.cluster_ca_certificate

    exec {
      api_version = local.kubernetes.exec.api_version
      command     = local.kubernetes.exec.command
      args        = local.kubernetes.exec.args
    }
  }
}

provider "aws" {
  region              = var.aws_region
  allowed_account_ids = length(var.aws_account_ids) > 0 ? var.aws_account_ids : null

  default_tags {
    tags = {
      Environment = var.environment
      Project     = "meetinity"
      ManagedBy   = "terraform"
      Source      = "infra/terraform/environments/${var.environment}"
    }
  }
}

# The Kubernetes and Helm providers talk to the cluster this composition creates,
# with a short-lived token from the AWS CLI (no static kubeconfig).
provider "kubernetes" {
  host                   = module.cluster.endpoint
  cluster_ca_certificate = base64decode(module.cluster.certificate_authority_data)

  exec {
    api_version = "client.authentication.k8s.io/v1beta1"
    command     = "aws"
    args        = ["eks", "get-token", "--cluster-name", module.cluster.cluster_name, "--region", var.aws_region]
  }
}

provider "helm" {
  kubernetes {
    host                   = module.cluster.endpoint
    cluster_ca_certificate = base64decode(module.cluster.certificate_authority_data)

    exec {
      api_version = "client.authentication.k8s.io/v1beta1"
      command     = "aws"
      args        = ["eks", "get-token", "--cluster-name", module.cluster.cluster_name, "--region", var.aws_region]
    }
  }
}

terraform {
  required_version = ">= 1.10.0, < 2.0.0"

  # Exact provider versions: an environment changes only when this file does.
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "5.100.0"
    }
    helm = {
      source  = "hashicorp/helm"
      version = "2.17.0"
    }
    kubernetes = {
      source  = "hashicorp/kubernetes"
      version = "2.37.1"
    }
    tls = {
      source  = "hashicorp/tls"
      version = "4.1.0"
    }
  }

  # Partial configuration: bucket and region come from `terraform init -backend-config=...`
  # (see infra/terraform/README.md), so no account detail is committed.
  backend "s3" {
    key          = "meetinity/prod/terraform.tfstate"
    encrypt      = true
    use_lockfile = true
  }
}

# Provider-free on purpose: locals and outputs only, so `terraform validate` and
# `terraform apply` run offline (tests/test_terraform.py does both).
terraform {
  required_version = ">= 1.6.0, < 2.0.0"
}

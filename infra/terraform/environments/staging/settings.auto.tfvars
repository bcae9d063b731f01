# Operator settings of staging (hand-written). Everything derived from the inventory and
# environments/staging.yaml is in generated.auto.tfvars.json next to this file.
aws_region         = "eu-west-1"
vpc_cidr           = "10.1.0.0/16" # private subnets 10.1.0.0/19..10.1.64.0/19 = environments/staging.yaml backing cidr 10.1.0.0/17
availability_zones = ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
single_nat_gateway = false

public_access_cidrs  = []
admin_principal_arns = []
identity_policy_arns = {}

ingress_scheme           = "internet-facing"
ingress_source_cidrs     = ["0.0.0.0/0"]
argocd_high_availability = false

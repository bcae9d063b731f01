# Operator settings of dev (hand-written). Everything derived from the inventory and
# environments/dev.yaml is in generated.auto.tfvars.json next to this file.
aws_region         = "eu-west-1"
vpc_cidr           = "10.0.0.0/16" # private subnets 10.0.0.0/19..10.0.64.0/19 = environments/dev.yaml backing cidr 10.0.0.0/17
availability_zones = ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
single_nat_gateway = true # dev: one NAT gateway is enough

public_access_cidrs  = []
admin_principal_arns = []
identity_policy_arns = {}

ingress_scheme           = "internal" # dev.meetinity.internal is an internal zone
ingress_source_cidrs     = ["10.0.0.0/8"]
argocd_high_availability = false

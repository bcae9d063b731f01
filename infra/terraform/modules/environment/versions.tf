# No provider is configured here (provider blocks belong to the root module,
# environments/<env>/providers.tf) and none is used directly: network, cluster, ingress and
# argocd declare the ranges they need, and each root pins the exact versions.
terraform {
  required_version = ">= 1.6.0, < 2.0.0"
}

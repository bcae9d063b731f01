# IRSA: one IAM role per workload that declares cloudIdentity: true in the inventory,
# trusted only by that workload's ServiceAccount in its namespace.
data "tls_certificate" "oidc" {
  url = aws_eks_cluster.this.identity[0].oidc[0].issuer
}

resource "aws_iam_openid_connect_provider" "this" {
  url             = aws_eks_cluster.this.identity[0].oidc[0].issuer
  client_id_list  = ["sts.amazonaws.com"]
  thumbprint_list = [data.tls_certificate.oidc.certificates[length(data.tls_certificate.oidc.certificates) - 1].sha1_fingerprint]
  tags            = var.tags
}

locals {
  oidc_host = replace(aws_iam_openid_connect_provider.this.url, "https://", "")
  # Every IRSA role's one trusted ServiceAccount, written as the token's `sub` claim: the workloads
  # (cloudIdentity: true) and the cluster's own controllers (controllers.tf). Keys are prefixed so a
  # workload cannot share a name with a controller.
  irsa_subjects = merge(
    { for name, role in module.sizing.workload_roles : "workload/${name}" => role.subject },
    { for name, c in local.controller_identities : "controller/${name}" => "system:serviceaccount:${c.namespace}:${c.service_account}" },
  )
  identity_policies = merge([
    for name, arns in var.identity_policy_arns : { for arn in arns : "${name}|${arn}" => { name = name, arn = arn } }
  ]...)
}

# The trust policy of every IRSA role: web identity tokens of this cluster's OIDC issuer, for one
# ServiceAccount and the STS audience only
# (https://docs.aws.amazon.com/eks/latest/userguide/associate-service-account-role.html).
data "aws_iam_policy_document" "irsa_assume" {
  for_each = local.irsa_subjects

  statement {
    actions = ["sts:AssumeRoleWithWebIdentity"]
    principals {
      type        = "Federated"
      identifiers = [aws_iam_openid_connect_provider.this.arn]
    }
    condition {
      test     = "StringEquals"
      variable = "${local.oidc_host}:sub"
      values   = [each.value]
    }
    condition {
      test     = "StringEquals"
      variable = "${local.oidc_host}:aud"
      values   = ["sts.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "workload" {
  for_each = module.sizing.workload_roles

  name               = each.value.role_name
  assume_role_policy = data.aws_iam_policy_document.irsa_assume["workload/${each.key}"].json
  tags               = merge(var.tags, { Component = each.key })
}

resource "aws_iam_role_policy_attachment" "workload" {
  for_each = local.identity_policies

  role       = aws_iam_role.workload[each.value.name].name
  policy_arn = each.value.arn
}

check "identity_policies_name_known_identities" {
  assert {
    condition     = alltrue([for name in keys(var.identity_policy_arns) : contains(keys(module.sizing.workload_roles), name)])
    error_message = "identity_policy_arns has keys that are not cloud identities of this environment: ${join(", ", setsubtract(keys(var.identity_policy_arns), keys(module.sizing.workload_roles)))}."
  }
}

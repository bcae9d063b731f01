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
  identity_policies = merge([
    for name, arns in var.identity_policy_arns : { for arn in arns : "${name}|${arn}" => { name = name, arn = arn } }
  ]...)
}

data "aws_iam_policy_document" "workload_assume" {
  for_each = module.sizing.workload_roles

  statement {
    actions = ["sts:AssumeRoleWithWebIdentity"]
    principals {
      type        = "Federated"
      identifiers = [aws_iam_openid_connect_provider.this.arn]
    }
    condition {
      test     = "StringEquals"
      variable = "${local.oidc_host}:sub"
      values   = [each.value.subject]
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
  assume_role_policy = data.aws_iam_policy_document.workload_assume[each.key].json
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

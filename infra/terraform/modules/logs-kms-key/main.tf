# A customer-managed KMS key for one CloudWatch Logs log group, written once for every module
# that keeps logs (the EKS control plane in `cluster`, VPC flow logs in `network`).
# CloudWatch Logs encrypts with the key only if the key policy lets the regional logs service
# principal use it; the condition pins that use to the one log group:
# https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html
data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  partition  = data.aws_partition.current.partition
  account_id = data.aws_caller_identity.current.account_id
  region     = data.aws_region.current.name
}

resource "aws_kms_key" "this" {
  description         = var.description
  enable_key_rotation = true
  policy              = data.aws_iam_policy_document.this.json
  tags                = var.tags
}

data "aws_iam_policy_document" "this" {
  #checkov:skip=CKV_AWS_109:KMS key policy: "*" as resource means this key only, and kms:* for the account root is AWS's default key policy (IAM policies then scope access).
  #checkov:skip=CKV_AWS_111:KMS key policy: "*" as resource means this key only; the logs service statement is scoped by an encryption-context condition.
  #checkov:skip=CKV_AWS_356:KMS key policy: "*" as resource means this key only (a key policy cannot name its own ARN before the key exists).
  statement {
    sid       = "AccountAdministers"
    actions   = ["kms:*"]
    resources = ["*"] # in a key policy, "*" means this key
    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account_id}:root"]
    }
  }

  statement {
    sid       = "CloudWatchLogsUse"
    actions   = ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"]
    resources = ["*"] # in a key policy, "*" means this key
    principals {
      type        = "Service"
      identifiers = ["logs.${local.region}.amazonaws.com"]
    }
    condition {
      test     = "ArnLike"
      variable = "kms:EncryptionContext:aws:logs:arn"
      values   = ["arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:${var.log_group_name}"]
    }
  }
}

# The cluster's own controllers: the EBS CSI driver (EKS add-on, nodes.tf) with its IRSA role and
# the gp3 StorageClass, and the Cluster Autoscaler with its IRSA role. They live here, not in
# argocd/<env>/, because they must exist before Argo CD syncs anything: the first PersistentVolumeClaim
# (Prometheus, wave -40) would stay Pending without a StorageClass, and the autoscaler's minor version
# must follow the control plane's (kubernetes_version), which this module upgrades.
locals {
  # IRSA subjects of the controllers (namespace, service account), as the add-on and the chart name them.
  controller_identities = {
    "ebs-csi-controller" = { namespace = "kube-system", service_account = "ebs-csi-controller-sa" }
    "cluster-autoscaler" = { namespace = "kube-system", service_account = "cluster-autoscaler" }
  }
  gp3_storage_class = "gp3"
  # Cluster Autoscaler: "use the version matching your Kubernetes minor"
  # (https://github.com/kubernetes/autoscaler/tree/master/cluster-autoscaler#releases).
  cluster_autoscaler_image_tag = "v${var.kubernetes_version}.0"
}

data "aws_iam_policy_document" "controller_assume" {
  for_each = local.controller_identities

  statement {
    actions = ["sts:AssumeRoleWithWebIdentity"]
    principals {
      type        = "Federated"
      identifiers = [aws_iam_openid_connect_provider.this.arn]
    }
    condition {
      test     = "StringEquals"
      variable = "${local.oidc_host}:sub"
      values   = ["system:serviceaccount:${each.value.namespace}:${each.value.service_account}"]
    }
    condition {
      test     = "StringEquals"
      variable = "${local.oidc_host}:aud"
      values   = ["sts.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "controller" {
  for_each = local.controller_identities

  name               = substr("${var.cluster_name}-${each.key}", 0, 64)
  assume_role_policy = data.aws_iam_policy_document.controller_assume[each.key].json
  tags               = merge(var.tags, { Controller = each.key })
}

# AWS's managed policy for the driver (https://docs.aws.amazon.com/eks/latest/userguide/csi-iam-role.html).
resource "aws_iam_role_policy_attachment" "ebs_csi" {
  role       = aws_iam_role.controller["ebs-csi-controller"].name
  policy_arn = "arn:${local.partition}:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy"
}

# The permissions the autoscaler's AWS provider documents
# (https://github.com/kubernetes/autoscaler/blob/master/cluster-autoscaler/cloudprovider/aws/README.md#iam-policy):
# read-only discovery everywhere, resizing only Auto Scaling groups tagged as owned by this cluster.
data "aws_iam_policy_document" "cluster_autoscaler" {
  statement {
    sid = "Discover"
    actions = [
      "autoscaling:DescribeAutoScalingGroups",
      "autoscaling:DescribeAutoScalingInstances",
      "autoscaling:DescribeLaunchConfigurations",
      "autoscaling:DescribeScalingActivities",
      "autoscaling:DescribeTags",
      "ec2:DescribeImages",
      "ec2:DescribeInstanceTypes",
      "ec2:DescribeLaunchTemplateVersions",
      "ec2:GetInstanceTypesFromInstanceRequirements",
    ]
    resources = ["*"] # Describe* calls cannot be scoped to resources
  }

  statement {
    sid       = "DescribeOwnNodegroups"
    actions   = ["eks:DescribeNodegroup"]
    resources = ["arn:${local.partition}:eks:${local.region}:${local.account_id}:nodegroup/${var.cluster_name}/*"]
  }

  statement {
    sid       = "ResizeOwnGroups"
    actions   = ["autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup"]
    resources = ["arn:${local.partition}:autoscaling:${local.region}:${local.account_id}:autoScalingGroup:*:autoScalingGroupName/*"]
    condition {
      test     = "StringEquals"
      variable = "aws:ResourceTag/k8s.io/cluster-autoscaler/${var.cluster_name}"
      values   = ["owned"]
    }
  }
}

resource "aws_iam_role_policy" "cluster_autoscaler" {
  name   = "cluster-autoscaler"
  role   = aws_iam_role.controller["cluster-autoscaler"].id
  policy = data.aws_iam_policy_document.cluster_autoscaler.json
}

# The class every volume claim of the platform names (kube-prometheus-stack's Prometheus in
# charts/addons.py). Explicit rather than relying on a default: EKS clusters created on 1.30+ no
# longer mark their in-tree gp2 class as default (https://docs.aws.amazon.com/eks/latest/userguide/ebs-csi.html).
resource "kubernetes_storage_class_v1" "gp3" {
  metadata {
    name = local.gp3_storage_class
    annotations = {
      "storageclass.kubernetes.io/is-default-class" = "true"
    }
  }

  storage_provisioner    = "ebs.csi.aws.com"
  reclaim_policy         = "Delete"
  volume_binding_mode    = "WaitForFirstConsumer" # the volume is created in the zone the pod lands in
  allow_volume_expansion = true
  parameters = {
    type                        = "gp3"
    encrypted                   = "true"
    "csi.storage.k8s.io/fstype" = "ext4"
  }

  depends_on = [aws_eks_addon.this]
}

resource "helm_release" "cluster_autoscaler" {
  name       = "cluster-autoscaler"
  namespace  = local.controller_identities["cluster-autoscaler"].namespace
  repository = "https://kubernetes.github.io/autoscaler"
  chart      = "cluster-autoscaler"
  version    = "9.43.1"

  values = [yamlencode({
    cloudProvider = "aws"
    # Pods cannot reach the instance metadata service (hop limit 1, nodes.tf), so the region is given.
    awsRegion     = local.region
    autoDiscovery = { clusterName = var.cluster_name }
    image         = { tag = local.cluster_autoscaler_image_tag }
    rbac = {
      serviceAccount = {
        create      = true
        name        = local.controller_identities["cluster-autoscaler"].service_account
        annotations = { "eks.amazonaws.com/role-arn" = aws_iam_role.controller["cluster-autoscaler"].arn }
      }
    }
    extraArgs = {
      expander                      = "least-waste"
      "balance-similar-node-groups" = true
      "skip-nodes-with-system-pods" = false
    }
    resources = {
      requests = { cpu = "100m", memory = "300Mi" }
      limits   = { memory = "600Mi" }
    }
  })]

  depends_on = [aws_eks_node_group.default, aws_iam_role_policy.cluster_autoscaler]
}

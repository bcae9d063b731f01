data "aws_iam_policy_document" "node_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ec2.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "node" {
  name               = "${var.cluster_name}-node"
  assume_role_policy = data.aws_iam_policy_document.node_assume.json
  tags               = var.tags
}

resource "aws_iam_role_policy_attachment" "node" {
  for_each = toset(["AmazonEKSWorkerNodePolicy", "AmazonEKS_CNI_Policy", "AmazonEC2ContainerRegistryReadOnly"])

  role       = aws_iam_role.node.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/${each.value}"
}

# IMDSv2 only, one hop: pods cannot borrow the node's role through the metadata service.
resource "aws_launch_template" "node" {
  name_prefix            = "${module.sizing.node_group.name}-"
  update_default_version = true

  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 1
  }

  block_device_mappings {
    device_name = "/dev/xvda"
    ebs {
      volume_size           = var.node_disk_size_gib
      volume_type           = "gp3"
      encrypted             = true
      delete_on_termination = true
    }
  }

  tag_specifications {
    resource_type = "instance"
    tags          = merge(var.tags, { Name = module.sizing.node_group.name })
  }

  tags = var.tags
}

resource "aws_eks_node_group" "default" {
  cluster_name    = aws_eks_cluster.this.name
  node_group_name = module.sizing.node_group.name
  node_role_arn   = aws_iam_role.node.arn
  subnet_ids      = var.subnet_ids
  instance_types  = module.sizing.node_group.instance_types
  ami_type        = "AL2023_x86_64_STANDARD"
  capacity_type   = "ON_DEMAND"
  version         = var.kubernetes_version

  scaling_config {
    min_size     = module.sizing.node_group.min_size
    max_size     = module.sizing.node_group.max_size
    desired_size = module.sizing.node_group.desired_size
  }

  update_config {
    max_unavailable = 1
  }

  launch_template {
    id      = aws_launch_template.node.id
    version = aws_launch_template.node.latest_version
  }

  tags = var.tags

  # The cluster autoscaler (controllers.tf) owns the current size between min and max. It finds this
  # group through the tags k8s.io/cluster-autoscaler/enabled and k8s.io/cluster-autoscaler/<cluster>,
  # which EKS puts on the Auto Scaling group of every managed node group
  # (https://docs.aws.amazon.com/eks/latest/userguide/managed-node-groups.html).
  lifecycle {
    ignore_changes = [scaling_config[0].desired_size]
  }

  depends_on = [aws_iam_role_policy_attachment.node]
}

# EKS-managed add-ons. vpc-cni enforces NetworkPolicies only with enableNetworkPolicy: without it
# the generated default-deny and per-component policies are accepted by the API server and ignored
# by the dataplane (https://docs.aws.amazon.com/eks/latest/userguide/cni-network-policy-configure.html:
# "aws eks create-addon ... --configuration-values '{"enableNetworkPolicy": "true"}'"; the node agent
# that enforces them ships with the add-on from v1.14). aws-ebs-csi-driver provisions the EBS volumes
# of PersistentVolumeClaims (Prometheus, Alertmanager); EKS ships no CSI driver, and the in-tree
# kubernetes.io/aws-ebs provisioner was removed in Kubernetes 1.27
# (https://docs.aws.amazon.com/eks/latest/userguide/ebs-csi.html). It calls EC2 with its own IRSA role.
locals {
  eks_addons = {
    "vpc-cni"            = { configuration = { enableNetworkPolicy = "true" }, role_arn = null }
    "coredns"            = { configuration = null, role_arn = null }
    "kube-proxy"         = { configuration = null, role_arn = null }
    "aws-ebs-csi-driver" = { configuration = null, role_arn = aws_iam_role.controller["ebs-csi-controller"].arn }
  }
}

resource "aws_eks_addon" "this" {
  for_each = local.eks_addons

  cluster_name                = aws_eks_cluster.this.name
  addon_name                  = each.key
  configuration_values        = each.value.configuration == null ? null : jsonencode(each.value.configuration)
  service_account_role_arn    = each.value.role_arn
  resolve_conflicts_on_update = "OVERWRITE"
  tags                        = var.tags

  depends_on = [aws_eks_node_group.default]
}

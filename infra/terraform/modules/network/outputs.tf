output "vpc_id" {
  description = "ID of the VPC."
  value       = aws_vpc.this.id
}

output "vpc_cidr_block" {
  description = "IPv4 CIDR of the VPC."
  value       = aws_vpc.this.cidr_block
}

output "private_subnet_ids" {
  description = "Private subnet IDs in availability_zones order (EKS nodes and internal load balancers)."
  value       = [for az in var.availability_zones : aws_subnet.private[az].id]
}

output "public_subnet_ids" {
  description = "Public subnet IDs in availability_zones order (NAT gateways and internet-facing load balancers)."
  value       = [for az in var.availability_zones : aws_subnet.public[az].id]
}

output "nat_public_ips" {
  description = "Public IPs the cluster's outbound traffic leaves from (for partners' allow-lists)."
  value       = [for az in sort(keys(aws_eip.nat)) : aws_eip.nat[az].public_ip]
}

output "flow_log_group_name" {
  description = "CloudWatch log group receiving the VPC flow logs."
  value       = aws_cloudwatch_log_group.flow_logs.name
}

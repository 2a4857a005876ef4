"""The VPC: public, private app and private data tiers, flow logs, endpoints, tier security groups."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_aws as aws

from components.aws_context import AwsContext
from components.role_policy import attach_policy, iam_path
from components.policy_documents import policy_json, service_trust_policy

TIERS = ("public", "app", "data")  # 4th quarter of the VPC is kept in reserve
AZ_SLOTS_PER_TIER = 8
POSTGRES_PORT = 5432
HTTPS_PORT = 443
HTTP_PORT = 80
# AWS APIs the workload reaches through interface endpoints, never through the internet.
INTERFACE_ENDPOINT_SERVICES = ("kms", "secretsmanager", "logs", "sts")


def tier_subnet_cidrs(vpc_cidr: str, tier: str, az_count: int) -> list[str]:
    """CIDRs of a tier's subnets: quarter `tier` of the VPC, one of 8 slots per AZ."""
    vpc = ipaddress.IPv4Network(vpc_cidr)
    quarters = list(vpc.subnets(prefixlen_diff=2))
    slots = list(quarters[TIERS.index(tier)].subnets(prefixlen_diff=3))
    return [str(s) for s in slots[:az_count]]


@dataclass(frozen=True)
class NetworkArgs:
    stack: str
    aws: AwsContext
    vpc_cidr: str
    availability_zones: list[str]
    nat_gateway_per_az: bool
    app_port: int
    flow_log_retention_days: int
    logs_key_arn: pulumi.Input[str]
    protect_flow_logs: bool = False
    """Protect the flow-log group (audit evidence in a PHI stack) from deletion."""
    client_cidrs: Sequence[str] = ("0.0.0.0/0",)
    """Who may reach the load balancer."""
    redirect_http: bool = False
    """Open port 80 to the same clients, for a listener that only redirects to HTTPS."""


class Network(pulumi.ComponentResource):
    vpc_id: pulumi.Output[str]
    """The VPC."""
    subnet_ids: dict[str, list[pulumi.Output[str]]]
    """Subnet ids per tier (public, app, data), one per AZ."""
    route_tables: dict[str, list[aws.ec2.RouteTable]]
    """Route tables per tier."""
    security_group_ids: dict[str, pulumi.Output[str]]
    """Security groups: lb, app, db, endpoints."""
    flow_log_group_name: pulumi.Output[str]
    """CloudWatch log group receiving the VPC flow logs."""

    def __init__(self, name: str, args: NetworkArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("hipaa:components:Network", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        azs = args.availability_zones

        vpc = aws.ec2.Vpc(
            name, cidr_block=args.vpc_cidr, enable_dns_support=True,
            enable_dns_hostnames=True, tags={"Name": f"hipaa-aws-{args.stack}"}, opts=child,
        )
        self.vpc_id = vpc.id
        # Adopting the default security group removes all of its rules.
        aws.ec2.DefaultSecurityGroup(f"{name}-default-sg", vpc_id=vpc.id, opts=child)

        subnets: dict[str, list[aws.ec2.Subnet]] = {}
        for tier in TIERS:
            subnets[tier] = [
                aws.ec2.Subnet(
                    f"{name}-{tier}-{i}", vpc_id=vpc.id, cidr_block=cidr,
                    availability_zone=az, map_public_ip_on_launch=False,
                    tags={"Name": f"hipaa-aws-{args.stack}-{tier}-{az}", "Tier": tier},
                    opts=child,
                )
                for i, (az, cidr) in enumerate(
                    zip(azs, tier_subnet_cidrs(args.vpc_cidr, tier, len(azs)), strict=True)
                )
            ]
        self.subnet_ids = {t: [s.id for s in subnets[t]] for t in TIERS}

        # Public tier: internet gateway, used only by NAT gateways and the load balancer.
        igw = aws.ec2.InternetGateway(f"{name}-igw", vpc_id=vpc.id, opts=child)
        public_rt = aws.ec2.RouteTable(f"{name}-public", vpc_id=vpc.id,
                                       tags={"Tier": "public"}, opts=child)
        aws.ec2.Route(f"{name}-public-internet", route_table_id=public_rt.id,
                      destination_cidr_block="0.0.0.0/0", gateway_id=igw.id, opts=child)
        for i, subnet in enumerate(subnets["public"]):
            aws.ec2.RouteTableAssociation(f"{name}-public-{i}", subnet_id=subnet.id,
                                          route_table_id=public_rt.id, opts=child)

        nat_count = len(azs) if args.nat_gateway_per_az else 1
        nats = []
        for i in range(nat_count):
            eip = aws.ec2.Eip(f"{name}-nat-{i}", domain="vpc", opts=child)
            nats.append(aws.ec2.NatGateway(
                f"{name}-nat-{i}", allocation_id=eip.id, subnet_id=subnets["public"][i].id,
                connectivity_type="public", opts=pulumi.ResourceOptions(parent=self, depends_on=[igw]),
            ))

        # App tier: outbound through NAT (its AZ's, or the single one).
        app_rts = []
        for i, subnet in enumerate(subnets["app"]):
            rt = aws.ec2.RouteTable(f"{name}-app-{i}", vpc_id=vpc.id, tags={"Tier": "app"}, opts=child)
            aws.ec2.Route(f"{name}-app-{i}-nat", route_table_id=rt.id,
                          destination_cidr_block="0.0.0.0/0",
                          nat_gateway_id=nats[i % nat_count].id, opts=child)
            aws.ec2.RouteTableAssociation(f"{name}-app-{i}", subnet_id=subnet.id,
                                          route_table_id=rt.id, opts=child)
            app_rts.append(rt)

        # Data tier: only the local route and the S3 gateway endpoint; no internet at all.
        data_rt = aws.ec2.RouteTable(f"{name}-data", vpc_id=vpc.id, tags={"Tier": "data"}, opts=child)
        for i, subnet in enumerate(subnets["data"]):
            aws.ec2.RouteTableAssociation(f"{name}-data-{i}", subnet_id=subnet.id,
                                          route_table_id=data_rt.id, opts=child)
        self.route_tables = {"public": [public_rt], "app": app_rts, "data": [data_rt]}

        self.security_group_ids = self._security_groups(name, args, vpc, child)
        self._endpoints(name, args, vpc, subnets["app"], app_rts + [data_rt], child)
        self.flow_log_group_name = self._flow_logs(name, args, vpc, child)

        self.register_outputs({
            "vpc_id": self.vpc_id,
            **{f"{t}_subnet_ids": ids for t, ids in self.subnet_ids.items()},
            "security_group_ids": self.security_group_ids,
        })

    def _security_groups(self, name, args: NetworkArgs, vpc, child) -> dict[str, pulumi.Output[str]]:
        groups = {
            tier: aws.ec2.SecurityGroup(
                f"{name}-{tier}", vpc_id=vpc.id, description=description,
                revoke_rules_on_delete=True, opts=child,
            )
            for tier, description in (
                ("lb", "Load balancer: HTTPS from the internet, to the app tier only"),
                ("app", "Application: from the load balancer only"),
                ("db", "Database: PostgreSQL from the application tier only"),
                ("endpoints", "Interface endpoints: HTTPS from the application tier"),
            )
        }
        ingress = aws.vpc.SecurityGroupIngressRule
        egress = aws.vpc.SecurityGroupEgressRule
        client_ports = [(HTTPS_PORT, "https", "HTTPS from clients")]
        if args.redirect_http:
            client_ports.append((HTTP_PORT, "http", "HTTP from clients, only redirected to HTTPS"))
        for port, label, description in client_ports:
            for i, cidr in enumerate(args.client_cidrs):
                suffix = "" if i == 0 else f"-{i}"  # the first keeps its original name
                ingress(f"{name}-lb-{label}-in{suffix}", security_group_id=groups["lb"].id,
                        ip_protocol="tcp", from_port=port, to_port=port, cidr_ipv4=cidr,
                        description=description, opts=child)
        egress(f"{name}-lb-to-app", security_group_id=groups["lb"].id, ip_protocol="tcp",
               from_port=args.app_port, to_port=args.app_port,
               referenced_security_group_id=groups["app"].id,
               description="Forward to the application", opts=child)
        ingress(f"{name}-app-from-lb", security_group_id=groups["app"].id, ip_protocol="tcp",
                from_port=args.app_port, to_port=args.app_port,
                referenced_security_group_id=groups["lb"].id,
                description="From the load balancer", opts=child)
        egress(f"{name}-app-to-db", security_group_id=groups["app"].id, ip_protocol="tcp",
               from_port=POSTGRES_PORT, to_port=POSTGRES_PORT,
               referenced_security_group_id=groups["db"].id,
               description="PostgreSQL", opts=child)
        egress(f"{name}-app-https-out", security_group_id=groups["app"].id, ip_protocol="tcp",
               from_port=HTTPS_PORT, to_port=HTTPS_PORT, cidr_ipv4="0.0.0.0/0",
               description="HTTPS to AWS endpoints and partners (TLS only)", opts=child)
        ingress(f"{name}-db-from-app", security_group_id=groups["db"].id, ip_protocol="tcp",
                from_port=POSTGRES_PORT, to_port=POSTGRES_PORT,
                referenced_security_group_id=groups["app"].id,
                description="PostgreSQL from the application", opts=child)
        ingress(f"{name}-endpoints-from-app", security_group_id=groups["endpoints"].id,
                ip_protocol="tcp", from_port=HTTPS_PORT, to_port=HTTPS_PORT,
                referenced_security_group_id=groups["app"].id,
                description="AWS API calls from the application", opts=child)
        return {tier: group.id for tier, group in groups.items()}

    def _endpoints(self, name, args: NetworkArgs, vpc, app_subnets, route_tables, child) -> None:
        aws.ec2.VpcEndpoint(
            f"{name}-s3", vpc_id=vpc.id, service_name=f"com.amazonaws.{args.aws.region}.s3",
            vpc_endpoint_type="Gateway", route_table_ids=[rt.id for rt in route_tables], opts=child,
        )
        for service in INTERFACE_ENDPOINT_SERVICES:
            aws.ec2.VpcEndpoint(
                f"{name}-{service}", vpc_id=vpc.id,
                service_name=f"com.amazonaws.{args.aws.region}.{service}",
                vpc_endpoint_type="Interface", private_dns_enabled=True,
                subnet_ids=[s.id for s in app_subnets],
                security_group_ids=[self.security_group_ids["endpoints"]], opts=child,
            )

    def _flow_logs(self, name, args: NetworkArgs, vpc, child) -> pulumi.Output[str]:
        group_name = f"/hipaa-aws/{args.stack}/vpc-flow-logs"
        group_arn = args.aws.arn("logs", f"log-group:{group_name}")  # known at preview
        group = aws.cloudwatch.LogGroup(
            f"{name}-flow-logs", name=group_name,
            retention_in_days=args.flow_log_retention_days, kms_key_id=args.logs_key_arn,
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect_flow_logs),
        )
        role = aws.iam.Role(
            f"{name}-flow-logs", path=iam_path(args.stack),
            description="VPC flow logs delivery to CloudWatch Logs",
            assume_role_policy=service_trust_policy(
                "vpc-flow-logs.amazonaws.com", args.aws,
                source_arn=args.aws.arn("ec2", "vpc-flow-log/*"),
            ),
            opts=child,
        )
        permissions = attach_policy(
            f"{name}-flow-logs", role, "VPC flow logs write to their own log group",
            policy_json({
                "Effect": "Allow",
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                "Resource": [group_arn, f"{group_arn}:*"],
            }, {
                # The service checks the destination exists before delivering.
                "Effect": "Allow",
                "Action": "logs:DescribeLogGroups",
                "Resource": args.aws.arn("logs", "log-group:*"),
            }),
            pulumi.ResourceOptions(parent=self, depends_on=[group]), path=iam_path(args.stack),
        )
        # Delivery starts as soon as the flow log exists: only once the role may write.
        aws.ec2.FlowLog(
            f"{name}-flow-logs", vpc_id=vpc.id, traffic_type="ALL",
            log_destination_type="cloud-watch-logs", log_destination=group.arn,
            iam_role_arn=role.arn, max_aggregation_interval=60,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[permissions]),
        )
        return group.name

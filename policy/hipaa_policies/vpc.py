"""VPC networking: private subnets, closed default security groups (no rules, inline or added by
rule resources), internet ingress only where authorized (all three pulumi-aws rule forms), internet
routes only from the public tier, flow logs."""

from __future__ import annotations

from collections.abc import Iterable

from .framework import (
    ACCESS_CONTROL, AUDIT_CONTROLS, Metadata, Props, Resource, Stack, resource_policy, stack_policy,
)

SUBNET = ("aws:ec2/subnet:Subnet",)
VPC = ("aws:ec2/vpc:Vpc",)
DEFAULT_SG = ("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup",)
SECURITY_GROUP = ("aws:ec2/securityGroup:SecurityGroup",)
SG_RULE = ("aws:ec2/securityGroupRule:SecurityGroupRule",)
INGRESS_RULE = ("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",)
EGRESS_RULE = ("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",)
ROUTE = ("aws:ec2/route:Route",)
ROUTE_TABLE = ("aws:ec2/routeTable:RouteTable",)
FLOW_LOG = ("aws:ec2/flowLog:FlowLog",)
WORLD = ("0.0.0.0/0", "::/0")
ALL_PROTOCOLS = ("-1", "all")


def _meta(name, description, control, remediation, rules=(), **kw) -> Metadata:
    return Metadata(name, description, control, remediation, config_rules=tuple(rules),
                    service="ec2", **kw)


def world_ingress(r: Resource) -> list[tuple[float, float]]:
    """Port ranges open to the whole internet, in any of the three rule forms."""
    ranges: list[tuple[float, float]] = []

    def add(rule: Props, protocol_key: str, cidrs: list) -> None:
        if not any(c in WORLD for c in cidrs):
            return
        if str(rule.get(protocol_key)) in ALL_PROTOCOLS:
            ranges.append((0, 65535))
        else:
            low, high = rule.number("fromPort"), rule.number("toPort")
            ranges.append((low if low is not None else 0, high if high is not None else 65535))

    if r.type in SECURITY_GROUP:
        for rule in r.props.each("ingress"):
            add(rule, "protocol", rule.list("cidrBlocks") + rule.list("ipv6CidrBlocks"))
    elif r.type in SG_RULE:
        if r.props.get("type") == "ingress":
            add(r.props, "protocol", r.props.list("cidrBlocks") + r.props.list("ipv6CidrBlocks"))
    elif r.type in INGRESS_RULE:
        add(r.props, "ipProtocol", [r.props.get("cidrIpv4"), r.props.get("cidrIpv6")])
    return ranges


def _admin_ports(r: Resource) -> Iterable[str]:
    blocked = [p for p in r.config["blockedPorts"] if isinstance(p, (int, float))]
    for low, high in world_ingress(r):
        hit = sorted({int(p) for p in blocked if low <= p <= high})
        if hit:
            yield (f"Remove internet ingress to port(s) {', '.join(map(str, hit))}; reach hosts "
                   "through Session Manager or a private network.")


def _authorized_ports(r: Resource) -> Iterable[str]:
    allowed = {int(p) for p in r.config["allowedPublicPorts"] if isinstance(p, (int, float))}
    for low, high in world_ingress(r):
        if not (low == high and int(low) in allowed):
            shown = f"{int(low)}" if low == high else f"{int(low)}-{int(high)}"
            yield (f"Restrict internet ingress to the authorized port(s) {sorted(allowed)}; "
                   f"port(s) {shown} are open to the internet.")


def _subnet(r: Resource) -> Iterable[str]:
    if r.props.bool("mapPublicIpOnLaunch") is True:
        yield "Set mapPublicIpOnLaunch to false."


def _default_sg(r: Resource) -> Iterable[str]:
    if r.props.size("ingress") or r.props.size("egress"):
        yield "Remove every ingress and egress rule from the default security group."


def _internet_gateway(gateway_id) -> bool:
    """A known gateway id that is not a virtual private gateway (vgw-) or a VPC endpoint (vpce-)."""
    return isinstance(gateway_id, str) and bool(gateway_id) and not gateway_id.startswith(("vgw-", "vpce-"))


def _flow_logs(stack: Stack) -> Iterable[tuple[str, str]]:
    for vpc in stack.of_type(*VPC):
        def check(vpc=vpc) -> Iterable[str]:
            logs = stack.attached(vpc, FLOW_LOG, "vpcId")
            if not any(log.props.get("trafficType") == "ALL" for log in logs):
                yield "Attach a FlowLog with trafficType ALL to this VPC."
        yield from stack.judge(vpc, check)


def _default_sg_adopted(stack: Stack) -> Iterable[tuple[str, str]]:
    for vpc in stack.of_type(*VPC):
        def check(vpc=vpc) -> Iterable[str]:
            if not stack.attached(vpc, DEFAULT_SG, "vpcId"):
                yield "Adopt this VPC's default security group with a DefaultSecurityGroup that has no rules."
        yield from stack.judge(vpc, check)


def _default_sg_rule_resources(stack: Stack) -> Iterable[tuple[str, str]]:
    """Rules added to a default security group through separate rule resources, which the
    DefaultSecurityGroup's own (empty) rule lists do not show. The rule's securityGroupId is unknown
    at preview, so the group is found by property dependency: a DefaultSecurityGroup's id, or a VPC's
    output (the only security group a VPC outputs is its default one, defaultSecurityGroupId; a group
    looked up by the VPC's id through an invoke carries the same dependency and is taken for it)."""
    for rule in stack.of_type(*SG_RULE, *INGRESS_RULE, *EGRESS_RULE):
        def check(rule=rule) -> Iterable[str]:
            groups = rule.property_dependencies.get("securityGroupId", [])
            if any(g.type in DEFAULT_SG + VPC for g in groups):
                yield ("Remove this rule: the default security group must have no rules; put it on a "
                       "security group of its own.")
            elif not groups:
                # An id unknown at preview that no resource of this stack provides cannot be told
                # apart from a default group's: reading it marks the rule not judged.
                rule.props.get("securityGroupId")
        yield from stack.judge(rule, check)


def _public_route_tables(stack: Stack) -> Iterable[tuple[str, str]]:
    wanted = stack.config.get("publicTierTags") or {}

    def is_public(table: Resource) -> bool:
        return bool(wanted) and all(table.tags.get(k) == v for k, v in wanted.items())

    for route in stack.of_type(*ROUTE):
        def check(route=route) -> Iterable[str]:
            to_world = route.props.get("destinationCidrBlock") in WORLD or \
                route.props.get("destinationIpv6CidrBlock") in WORLD
            if not (to_world and (route.props.is_unknown("gatewayId")
                                  or _internet_gateway(route.props.get("gatewayId")))):
                return
            tables = [d for d in route.property_dependencies.get("routeTableId", []) if d.type in ROUTE_TABLE]
            if not tables or not all(is_public(t) for t in tables):
                yield (f"Route 0.0.0.0/0 to an internet gateway only from route tables tagged {wanted}; "
                       "private tiers leave through NAT or not at all.")
        yield from stack.judge(route, check)
    for table in stack.of_type(*ROUTE_TABLE):
        def check_inline(table=table) -> Iterable[str]:
            for inline in table.props.each("routes"):
                to_world = inline.get("cidrBlock") in WORLD or inline.get("ipv6CidrBlock") in WORLD
                if to_world and _internet_gateway(inline.get("gatewayId")) and not is_public(table):
                    yield f"Route 0.0.0.0/0 to an internet gateway only from route tables tagged {wanted}."
        yield from stack.judge(table, check_inline)


POLICIES = [
    resource_policy(_meta("aws-ec2-subnet-no-public-ip-on-launch", "Subnets must not assign public IPs automatically.",
                          ACCESS_CONTROL, "Set mapPublicIpOnLaunch=false.",
                          ["subnet-auto-assign-public-ip-disabled"]), SUBNET, _subnet),
    resource_policy(_meta("aws-ec2-default-security-group-closed", "Default security groups must have no rules.",
                          ACCESS_CONTROL, "Declare DefaultSecurityGroup with no ingress or egress.",
                          ["vpc-default-security-group-closed"]), DEFAULT_SG, _default_sg),
    resource_policy(_meta("aws-ec2-sg-no-internet-admin-ports", "Security groups must not open administrative or database ports to the internet.",
                          ACCESS_CONTROL, "Remove 0.0.0.0/0 and ::/0 ingress on those ports.",
                          ["restricted-ssh", "restricted-common-ports"],
                          config={"blockedPorts": {"type": "array", "items": {"type": "integer"},
                                                   "default": [20, 21, 22, 3389, 3306, 4333, 5432, 1433, 1521, 6379, 27017],
                                                   "description": "Ports never open to the internet."}}),
                    SECURITY_GROUP + SG_RULE + INGRESS_RULE, _admin_ports),
    resource_policy(_meta("aws-ec2-sg-internet-ingress-authorized-ports", "Internet ingress is allowed only on authorized ports (the load balancer's HTTPS).",
                          ACCESS_CONTROL, "Open only allowedPublicPorts to 0.0.0.0/0; everything else comes from a security group.",
                          ["vpc-sg-open-only-to-authorized-ports"],
                          config={"allowedPublicPorts": {"type": "array", "items": {"type": "integer"}, "default": [443],
                                                         "description": "Ports load balancers may open to the internet."}}),
                    SECURITY_GROUP + SG_RULE + INGRESS_RULE, _authorized_ports),
    stack_policy(_meta("aws-ec2-vpc-flow-logs", "Every VPC must record ALL traffic in flow logs.",
                       AUDIT_CONTROLS, "Attach aws.ec2.FlowLog(vpc_id=..., traffic_type='ALL').",
                       ["vpc-flow-logs-enabled"]), _flow_logs),
    stack_policy(_meta("aws-ec2-vpc-default-security-group-adopted", "Every VPC's default security group must be adopted and closed.",
                       ACCESS_CONTROL, "Declare DefaultSecurityGroup(vpc_id=...) with no rules.",
                       ["vpc-default-security-group-closed"]), _default_sg_adopted),
    stack_policy(_meta("aws-ec2-default-security-group-no-rule-resources",
                       "No separate rule resource may add rules to a default security group.",
                       ACCESS_CONTROL, "Attach the rule to a security group of its own; the default group stays empty.",
                       ["vpc-default-security-group-closed"]), _default_sg_rule_resources),
    stack_policy(_meta("aws-ec2-internet-routes-only-public-tier", "Only public-tier route tables may route to an internet gateway.",
                       ACCESS_CONTROL, "Route private tiers through NAT (app) or nowhere (data).",
                       ["no-unrestricted-route-to-igw"],
                       config={"publicTierTags": {"type": "object", "additionalProperties": {"type": "string"},
                                                  "default": {"Tier": "public"},
                                                  "description": "Tags that mark a public-tier route table."}}),
                 _public_route_tables),
]

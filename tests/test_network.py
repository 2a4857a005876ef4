"""Network: three tiers, the data tier unreachable from and to the internet, flow logs kept six years."""

from __future__ import annotations

import ipaddress

import pytest

from tests.conftest import arn_of, client_cidrs_of, id_of, region_of

SUBNET = "aws:ec2/subnet:Subnet"
ROUTE = "aws:ec2/route:Route"
RTA = "aws:ec2/routeTableAssociation:RouteTableAssociation"
SG_IN = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
SG_OUT = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"


def subnet_ids(run, tier):
    return {r.id for r in run.of_type(SUBNET) if r.inputs["tags"]["Tier"] == tier}


def route_tables_of(run, ids):
    return {r.inputs["routeTableId"] for r in run.of_type(RTA) if r.inputs["subnetId"] in ids}


def test_subnets_per_tier_per_az_inside_the_vpc_without_overlap(any_stack):
    azs = 3 if any_stack.stack == "prod" else 2
    vpc = ipaddress.ip_network(any_stack.named("hipaa-network", "aws:ec2/vpc:Vpc").inputs["cidrBlock"])
    cidrs = [ipaddress.ip_network(r.inputs["cidrBlock"]) for r in any_stack.of_type(SUBNET)]
    assert len(cidrs) == 3 * azs
    assert all(c.subnet_of(vpc) for c in cidrs)
    assert all(not a.overlaps(b) for i, a in enumerate(cidrs) for b in cidrs[i + 1:])
    for tier in ("public", "app", "data"):
        zones = {r.inputs["availabilityZone"] for r in any_stack.of_type(SUBNET)
                 if r.inputs["tags"]["Tier"] == tier}
        assert len(zones) == azs


def test_no_subnet_assigns_public_ips(any_stack):
    assert all(r.inputs["mapPublicIpOnLaunch"] is False for r in any_stack.of_type(SUBNET))


def test_data_subnets_have_no_route_to_an_internet_or_nat_gateway(any_stack):
    data_tables = route_tables_of(any_stack, subnet_ids(any_stack, "data"))
    assert data_tables
    routes = [r for r in any_stack.of_type(ROUTE) if r.inputs["routeTableId"] in data_tables]
    assert routes == []
    for table in any_stack.of_type("aws:ec2/routeTable:RouteTable"):
        if table.id in data_tables:
            assert not table.inputs.get("routes")


def test_app_subnets_reach_out_only_through_nat(any_stack):
    nat_ids = {r.id for r in any_stack.of_type("aws:ec2/natGateway:NatGateway")}
    for table in route_tables_of(any_stack, subnet_ids(any_stack, "app")):
        routes = [r for r in any_stack.of_type(ROUTE) if r.inputs["routeTableId"] == table]
        assert [r.inputs.get("natGatewayId") in nat_ids for r in routes] == [True]
        assert all("gatewayId" not in r.inputs for r in routes)


def test_nat_gateways_sit_in_public_subnets(any_stack):
    nats = any_stack.of_type("aws:ec2/natGateway:NatGateway")
    assert len(nats) == (3 if any_stack.stack == "prod" else 1)
    assert {n.inputs["subnetId"] for n in nats} <= subnet_ids(any_stack, "public")


def test_default_security_group_has_no_rules(any_stack):
    (default,) = any_stack.of_type("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup")
    assert not default.inputs.get("ingress") and not default.inputs.get("egress")


def test_flow_logs_capture_all_traffic_into_an_encrypted_six_year_log_group(any_stack):
    (flow_log,) = any_stack.of_type("aws:ec2/flowLog:FlowLog")
    assert flow_log.inputs["trafficType"] == "ALL"
    assert flow_log.inputs["vpcId"] == id_of(any_stack, "hipaa-network", "aws:ec2/vpc:Vpc")
    group = any_stack.named("hipaa-network-flow-logs", "aws:cloudwatch/logGroup:LogGroup")
    assert flow_log.inputs["logDestination"] == group.outputs["arn"]
    assert group.inputs["retentionInDays"] == 2192
    assert group.inputs["kmsKeyId"] == arn_of(any_stack, "hipaa-keys-logs", "aws:kms/key:Key")


def test_aws_api_calls_stay_on_private_endpoints(any_stack):
    endpoints = {r.inputs["serviceName"].rsplit(".", 1)[1]: r
                 for r in any_stack.of_type("aws:ec2/vpcEndpoint:VpcEndpoint")}
    # ssm and ssmmessages come with the application tier's operator access (Session Manager).
    assert set(endpoints) == {"s3", "kms", "secretsmanager", "logs", "sts", "ssm", "ssmmessages"}
    s3 = endpoints.pop("s3")
    assert s3.inputs["vpcEndpointType"] == "Gateway"
    private_tables = route_tables_of(any_stack, subnet_ids(any_stack, "app") | subnet_ids(any_stack, "data"))
    assert set(s3.inputs["routeTableIds"]) == private_tables
    for endpoint in endpoints.values():
        assert endpoint.inputs["vpcEndpointType"] == "Interface"
        assert endpoint.inputs["privateDnsEnabled"] is True
        assert set(endpoint.inputs["subnetIds"]) == subnet_ids(any_stack, "app")
        assert endpoint.inputs["serviceName"].startswith(f"com.amazonaws.{region_of(any_stack.stack)}.")


def _rules(run, type_token, group_name):
    group_id = id_of(run, group_name, "aws:ec2/securityGroup:SecurityGroup")
    return [r.inputs for r in run.of_type(type_token) if r.inputs["securityGroupId"] == group_id]


def test_only_the_load_balancer_accepts_internet_traffic_and_only_https(any_stack):
    clients = client_cidrs_of(any_stack.stack)
    outside = [r.inputs for r in any_stack.of_type(SG_IN) if "cidrIpv4" in r.inputs]
    lb_id = id_of(any_stack, "hipaa-network-lb", "aws:ec2/securityGroup:SecurityGroup")
    # HTTPS, and port 80 whose listener only redirects to HTTPS (test_application_tier.py).
    assert sorted((r["securityGroupId"], r["cidrIpv4"], r["fromPort"], r["toPort"]) for r in outside) == sorted(
        (lb_id, cidr, port, port) for cidr in clients for port in (443, 80))


@pytest.mark.parametrize("group,source,port", [
    ("hipaa-network-app", "hipaa-network-lb", 8443),
    ("hipaa-network-db", "hipaa-network-app", 5432),
    ("hipaa-network-endpoints", "hipaa-network-app", 443),
])
def test_tiers_accept_only_the_tier_in_front(any_stack, group, source, port):
    source_id = id_of(any_stack, source, "aws:ec2/securityGroup:SecurityGroup")
    rules = _rules(any_stack, SG_IN, group)
    assert [(r["referencedSecurityGroupId"], r["fromPort"], r["toPort"], r["ipProtocol"])
            for r in rules] == [(source_id, port, port, "tcp")]


def test_database_tier_initiates_nothing(any_stack):
    assert _rules(any_stack, SG_OUT, "hipaa-network-db") == []

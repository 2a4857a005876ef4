"""EMR: Kerberos, security configurations, private subnets, block public access."""

from __future__ import annotations

from collections.abc import Iterable

from .framework import ACCESS_CONTROL, AUTHENTICATION, Metadata, Resource, resource_policy

EMR_CLUSTER = ("aws:emr/cluster:Cluster",)
EMR_BLOCK_PUBLIC = ("aws:emr/blockPublicAccessConfiguration:BlockPublicAccessConfiguration",)


def _emr(r: Resource) -> Iterable[str]:
    if not r.props.is_set("kerberosAttributes"):
        yield "Set kerberosAttributes to authenticate cluster users with Kerberos."
    if not r.props.is_set("securityConfiguration"):
        yield "Set securityConfiguration with at-rest and in-transit encryption."
    if not (r.props.is_set("ec2Attributes", "subnetId") or r.props.size("ec2Attributes", "subnetIds")):
        yield "Set ec2Attributes.subnetId to a private subnet."


def _emr_block_public(r: Resource) -> Iterable[str]:
    if r.props.bool("blockPublicSecurityGroupRules") is not True:
        yield "Set blockPublicSecurityGroupRules to true."


POLICIES = [
    resource_policy(Metadata("aws-emr-cluster-secure", "EMR clusters must use Kerberos, a security configuration and private subnets.",
                             AUTHENTICATION, "Set kerberosAttributes, securityConfiguration and ec2Attributes.subnetId.",
                             config_rules=("emr-kerberos-enabled", "emr-master-no-public-ip"), service="emr"),
                    EMR_CLUSTER, _emr),
    resource_policy(Metadata("aws-emr-block-public-access", "EMR block public access must stay on.",
                             ACCESS_CONTROL, "Set blockPublicSecurityGroupRules=true.",
                             config_rules=("emr-master-no-public-ip",), service="emr"), EMR_BLOCK_PUBLIC, _emr_block_public),
]

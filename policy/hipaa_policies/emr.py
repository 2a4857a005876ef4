"""EMR: Kerberos, security configurations, private subnets, block public access."""

from __future__ import annotations

import re
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
    # Step and cluster logs copied to logUri are encrypted with SSE-S3 unless logEncryptionKmsKeyId
    # names a key, which EMR accepts from release 5.30.0 on, except 6.0.0 (pulumi-aws emr.Cluster docstring).
    if r.props.is_set("logUri") and _log_key_supported(r.props.str("releaseLabel")) \
            and not r.props.customer_key("logEncryptionKmsKeyId"):
        yield "Set logEncryptionKmsKeyId to a customer-managed key: cluster logs in logUri may hold data."


def _log_key_supported(release: str | None) -> bool:
    match = re.fullmatch(r"emr-(\d+)\.(\d+)\.(\d+)", (release or "").strip())
    if match is None:
        return True  # an unknown or future label: judged as a current release
    version = tuple(int(part) for part in match.groups())
    return version >= (5, 30, 0) and version != (6, 0, 0)


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

"""Issue 12, gaps the pack never looked at, as stack policies see them over the Analyzer protocol:
rules added to a default security group through separate rule resources, and a bucket policy
given inline on the bucket."""

from __future__ import annotations

import pytest
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE as UNKNOWN

from preflight.policy_pack_client import stack_resource as res
from tests.policy_cases import PUBLIC_POLICY, SCOPED, TLS_POLICY
from tests.test_policy_pack_stack import bucket_with, messages

DEFAULT_SG_RULES = "aws-ec2-default-security-group-no-rule-resources"
DEFAULT_SG_MESSAGE = ("Remove this rule: the default security group must have no rules; put it on a "
                      "security group of its own.")
TLS_ONLY = "aws-s3-bucket-has-tls-only-policy"
TLS_MESSAGE = "Attach a BucketPolicy that denies requests without TLS."
RULE_TYPES = {
    "ingress": ("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
                {"securityGroupId": UNKNOWN, "ipProtocol": "tcp", "fromPort": 443, "toPort": 443,
                 "referencedSecurityGroupId": UNKNOWN}),
    "egress": ("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
               {"securityGroupId": UNKNOWN, "ipProtocol": "-1", "cidrIpv4": "0.0.0.0/0"}),
    "rule": ("aws:ec2/securityGroupRule:SecurityGroupRule",
             {"securityGroupId": UNKNOWN, "type": "ingress", "protocol": "tcp", "fromPort": 443,
              "toPort": 443, "self": True}),
}


def network(group: str, rule_kind: str, security_group_id=UNKNOWN):
    """A VPC, its adopted default group, a group of its own, and one rule on `group`."""
    vpc = res("aws:ec2/vpc:Vpc", "vpc", {"cidrBlock": "10.0.0.0/16"})
    default = res("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup", "default", {"vpcId": UNKNOWN},
                  property_dependencies={"vpcId": [vpc.urn]})
    own = res("aws:ec2/securityGroup:SecurityGroup", "app", {"vpcId": UNKNOWN, "description": "app"},
              property_dependencies={"vpcId": [vpc.urn]})
    targets = {"default": [default.urn], "vpc-default": [vpc.urn], "own": [own.urn], "elsewhere": []}
    type_, props = RULE_TYPES[rule_kind]
    rule = res(type_, f"{rule_kind}-on-{group}", {**props, "securityGroupId": security_group_id},
               property_dependencies={"securityGroupId": targets[group],
                                      # the source group of a rule on the group of its own is not judged
                                      "referencedSecurityGroupId": [default.urn]})
    return [vpc, default, own, rule]


@pytest.mark.parametrize("rule_kind", sorted(RULE_TYPES))
@pytest.mark.parametrize("group", ["default", "vpc-default"])
def test_a_rule_resource_on_a_default_security_group_is_blocked(pack, rule_kind, group):
    pack.configure({})
    verdict = pack.analyze_stack(network(group, rule_kind))
    assert messages(verdict, DEFAULT_SG_RULES) == [(DEFAULT_SG_MESSAGE, f"{rule_kind}-on-{group}")]
    (diagnostic,) = [d for d in verdict.violations if d.policy == DEFAULT_SG_RULES]
    assert diagnostic.enforcement == "mandatory"


@pytest.mark.parametrize("rule_kind", sorted(RULE_TYPES))
def test_a_rule_resource_on_a_group_of_its_own_passes(pack, rule_kind):
    pack.configure({})
    verdict = pack.analyze_stack(network("own", rule_kind))
    assert messages(verdict, DEFAULT_SG_RULES) == []
    assert DEFAULT_SG_RULES not in [d.policy for d in verdict.not_judged]


def test_an_existing_group_named_by_its_id_passes(pack):
    pack.configure({})
    verdict = pack.analyze_stack(network("elsewhere", "ingress", security_group_id="sg-0123456789abcdef0"))
    assert messages(verdict, DEFAULT_SG_RULES) == []
    assert DEFAULT_SG_RULES not in [d.policy for d in verdict.not_judged]


def test_a_rule_on_a_group_no_resource_of_the_stack_provides_is_not_judged(pack):
    pack.configure({})
    verdict = pack.analyze_stack(network("elsewhere", "egress"))
    assert messages(verdict, DEFAULT_SG_RULES) == []
    assert DEFAULT_SG_RULES in [d.policy for d in verdict.not_judged]


def bucket_with_inline(policy, skip=("policy",)):
    resources = bucket_with(skip=skip)
    resources[0].properties.update({"policy": policy})
    return resources


def test_an_inline_tls_only_bucket_policy_counts(pack):
    pack.configure({})
    verdict = pack.analyze_stack(bucket_with_inline(TLS_POLICY))
    assert messages(verdict, TLS_ONLY) == []
    assert TLS_ONLY not in [d.policy for d in verdict.not_judged]


@pytest.mark.parametrize("policy", [SCOPED, PUBLIC_POLICY, "{not json"])
def test_an_inline_bucket_policy_without_the_tls_deny_is_blocked(pack, policy):
    pack.configure({})
    verdict = pack.analyze_stack(bucket_with_inline(policy))
    assert messages(verdict, TLS_ONLY) == [(TLS_MESSAGE, "docs")]


def test_an_unknown_inline_bucket_policy_is_not_judged(pack):
    pack.configure({})
    verdict = pack.analyze_stack(bucket_with_inline(UNKNOWN))
    assert messages(verdict, TLS_ONLY) == []
    assert TLS_ONLY in [d.policy for d in verdict.not_judged]


def test_a_tls_only_bucket_policy_resource_still_counts_beside_an_unknown_inline_one(pack):
    pack.configure({})
    verdict = pack.analyze_stack(bucket_with_inline(UNKNOWN, skip=()))
    assert messages(verdict, TLS_ONLY) == []
    assert TLS_ONLY not in [d.policy for d in verdict.not_judged]


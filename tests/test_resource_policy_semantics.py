"""Who a resource-based policy grants: everyone, unless a condition narrows it with a positive match.

One reading of policy documents (policy/hipaa_policies/documents.py) serves every policy that judges
a resource-based policy (S3 bucket policies, KMS key policies, role trust policies and the generic
aws-resource-policy-not-public over every service with a policy document), so its condition semantics
are tested here once, through two of those policies over the Analyzer protocol. The semantics are
IAM's ("IAM JSON policy elements: Condition operators", "...: NotPrincipal"):
- a negated operator (StringNotEquals, ArnNotLike, NotIpAddress) grants everyone outside the set;
- an ...IfExists operator passes requests that lack the key (a request from the internet has no
  aws:SourceVpce), and ForAllValues passes when the key is absent;
- an Allow with NotPrincipal grants every principal except the ones named;
- a Deny for everyone, covering the Allow's actions and resources, that refuses every request
  outside a VPC endpoint, organization or address range narrows the Allow (the pattern AWS documents
  for private API Gateway APIs: "Allow *" plus "Deny unless aws:SourceVpce").
"""

from __future__ import annotations

import json

import pytest

ORG = "o-a1b2c3d4e5"


def _with_deny(deny_condition, deny_actions="s3:*", deny_resources="arn:aws:s3:::b/*"):
    allow = json.loads(_statement())["Statement"][0]
    deny = {"Effect": "Deny", "Principal": "*", "Action": deny_actions, "Resource": deny_resources,
            "Condition": deny_condition}
    return json.dumps({"Version": "2012-10-17", "Statement": [allow, deny]})


def _statement(condition=None, principal="*", not_principal=None):
    statement = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}
    if not_principal is not None:
        statement["NotPrincipal"] = not_principal
    else:
        statement["Principal"] = principal
    if condition is not None:
        statement["Condition"] = condition
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


PUBLIC = [
    ("no condition", _statement()),
    ("AWS *", _statement(principal={"AWS": "*"})),
    ("AWS list with *", _statement(principal={"AWS": ["arn:aws:iam::123456789012:root", "*"]})),
    ("negated org", _statement({"StringNotEquals": {"aws:PrincipalOrgID": ORG}})),
    ("IfExists vpce", _statement({"StringEqualsIfExists": {"aws:SourceVpce": "vpce-0abc"}})),
    ("ForAllValues org paths", _statement({"ForAllValues:StringLike": {"aws:PrincipalOrgPaths": [f"{ORG}/*"]}})),
    ("wildcard account", _statement({"StringLike": {"aws:PrincipalAccount": "*"}})),
    ("any-account ARN", _statement({"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:root"}})),
    ("TLS only", _statement({"Bool": {"aws:SecureTransport": "true"}})),
    ("Null test", _statement({"Null": {"aws:PrincipalOrgID": "false"}})),
    ("NotPrincipal allow", _statement(not_principal={"AWS": "arn:aws:iam::123456789012:root"})),
    ("whole internet", _statement({"IpAddress": {"aws:SourceIp": "0.0.0.0/0"}})),
    ("deny of other actions only", _with_deny({"StringNotEquals": {"aws:SourceVpce": "vpce-0abc"}}, "s3:PutObject")),
    ("deny of another bucket", _with_deny({"StringNotEquals": {"aws:SourceVpce": "vpce-0abc"}},
                                          deny_resources="arn:aws:s3:::other/*")),
    ("deny with a positive condition", _with_deny({"StringEquals": {"aws:SourceVpce": "vpce-0abc"}})),
    # Keys inside one operator are ANDed: a caller with the tag escapes the Deny.
    ("deny with a caller-chosen key", _with_deny({"StringNotEquals": {"aws:SourceVpce": "vpce-0abc",
                                                                      "aws:PrincipalTag/team": "records"}})),
    ("any bucket of any account", _statement({"ArnLike": {"aws:SourceArn": "arn:aws:s3:::*"}})),
]
NARROWED = [
    ("org id", _statement({"StringEquals": {"aws:PrincipalOrgID": ORG}})),
    ("source account", _statement({"StringEquals": {"aws:SourceAccount": "123456789012"}})),
    ("source arn", _statement({"ArnLike": {"aws:SourceArn": "arn:aws:cloudtrail:us-east-1:123456789012:trail/t"}})),
    ("vpce", _statement({"StringEquals": {"aws:SourceVpce": "vpce-0abc"}})),
    ("org paths any value", _statement({"ForAnyValue:StringLike": {"aws:PrincipalOrgPaths": [f"{ORG}/r-ab12/*"]}})),
    ("one account principal", _statement(principal={"AWS": "arn:aws:iam::123456789012:root"})),
    ("service principal", _statement(principal={"Service": "cloudtrail.amazonaws.com"})),
    ("address range", _statement({"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}})),
    ("deny outside the endpoint", _with_deny({"StringNotEquals": {"aws:SourceVpce": "vpce-0abc"}})),
    ("deny outside the organization", _with_deny({"StringNotEqualsIfExists": {"aws:PrincipalOrgID": ORG}}, "*", "*")),
]
POLICIES = {"aws-s3-bucket-policy-not-public": ("aws:s3/bucketPolicy:BucketPolicy", {"bucket": "b"}),
            "aws-kms-key-policy-not-public": ("aws:kms/key:Key", {"enableKeyRotation": True})}


@pytest.mark.parametrize("policy", sorted(POLICIES))
@pytest.mark.parametrize("label,document", PUBLIC, ids=[p[0] for p in PUBLIC])
def test_statements_that_grant_everyone_are_refused(pack, policy, label, document):
    type_, props = POLICIES[policy]
    verdict = pack.analyze(type_, {**props, "policy": document})
    assert policy in [d.policy for d in verdict.violations], label


@pytest.mark.parametrize("policy", sorted(POLICIES))
@pytest.mark.parametrize("label,document", NARROWED, ids=[n[0] for n in NARROWED])
def test_statements_narrowed_by_a_positive_match_pass(pack, policy, label, document):
    type_, props = POLICIES[policy]
    verdict = pack.analyze(type_, {**props, "policy": document})
    assert policy not in [d.policy for d in verdict.violations], label

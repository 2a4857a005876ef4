"""A customer-managed key is a key the stack creates or a key the pack config approves by ARN.

An AWS-managed key reaches the pack in more forms than its alias: the alias ARN, and the key ARN a
data source resolves at preview (`aws.kms.get_key(key_id="alias/aws/s3").arn`). The resource
policies refuse the alias forms by value; only the key's source tells a key ARN apart. These cases
go over the Analyzer protocol to the pack process (AnalyzeStack, as the engine sends it).
"""

from __future__ import annotations

import pytest
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE as UNKNOWN

from preflight.policy_pack_client import stack_resource as res

POLICY = "aws-kms-key-is-customer-managed"
# The ARN of AWS's own aws/sqs key in an account, as `aws.kms.get_key("alias/aws/sqs")` returns it.
AWS_MANAGED_KEY_ARN = "arn:aws:kms:us-east-1:123456789012:key/0d8a3b5e-1111-2222-3333-444455556666"
ORG_KEY_ARN = "arn:aws:kms:us-east-1:702345678901:key/9f1c2d3e-aaaa-bbbb-cccc-ddddeeeeffff"


def _key(name="data"):
    return res("aws:kms/key:Key", name, {"arn": UNKNOWN, "enableKeyRotation": True})


def _queue(key_value, depends_on=(), name="jobs"):
    deps = {"kmsMasterKeyId": [r.urn for r in depends_on]} if depends_on else None
    return res("aws:sqs/queue:Queue", name, {"kmsMasterKeyId": key_value}, property_dependencies=deps)


def _messages(pack, resources, config=None):
    pack.configure({POLICY: config} if config else {})
    try:
        verdict = pack.analyze_stack(resources)
    finally:
        pack.configure({})
    return [(d.violation, d.urn.rsplit("::", 1)[-1]) for d in verdict.violations if d.policy == POLICY], \
        [d for d in verdict.diagnostics if d.policy == POLICY and "can't run policy" in d.violation]


def test_a_key_the_stack_creates_passes_whether_known_or_not(pack):
    key = _key()
    for value in (UNKNOWN, AWS_MANAGED_KEY_ARN.replace("0d8a", "1e9b")):  # first preview; later previews
        assert _messages(pack, [key, _queue(value, [key])]) == ([], [])


def test_an_alias_of_a_key_the_stack_creates_passes(pack):
    key = _key()
    alias = res("aws:kms/alias:Alias", "data", {"name": "alias/hipaa-data", "targetKeyId": UNKNOWN},
                property_dependencies={"targetKeyId": [key.urn]})
    assert _messages(pack, [key, alias, _queue("alias/hipaa-data", [alias])]) == ([], [])


@pytest.mark.parametrize("value", [AWS_MANAGED_KEY_ARN, ORG_KEY_ARN, "alias/aws/sqs",
                                   "arn:aws:kms:us-east-1:123456789012:alias/aws/sqs"])
def test_a_key_arn_from_anywhere_else_is_refused(pack, value):
    violations, _ = _messages(pack, [_queue(value)])
    assert len(violations) == 1 and value in violations[0][0] and violations[0][1] == "jobs"


def test_an_approved_external_key_passes(pack):
    assert _messages(pack, [_queue(ORG_KEY_ARN)], {"approvedExternalKeys": [ORG_KEY_ARN]}) == ([], [])


def test_a_nested_key_input_is_followed_through_its_top_level_dependency(pack):
    key = _key()
    table = res("aws:dynamodb/table:Table", "t", {"serverSideEncryption": {"enabled": True, "kmsKeyArn": UNKNOWN}},
                property_dependencies={"serverSideEncryption": [key.urn]})
    assert _messages(pack, [key, table]) == ([], [])
    literal = res("aws:dynamodb/table:Table", "t", {"serverSideEncryption": {"enabled": True, "kmsKeyArn": AWS_MANAGED_KEY_ARN}})
    violations, _ = _messages(pack, [literal])
    assert [urn for _, urn in violations] == ["t"] and "serverSideEncryption.kmsKeyArn" in violations[0][0]


def test_an_unknown_key_from_a_stack_reference_is_not_judged(pack):
    ref = res("pulumi:pulumi:StackReference", "org", {"outputs": UNKNOWN})
    violations, unjudged = _messages(pack, [ref, _queue(UNKNOWN, [ref])])
    assert violations == [] and len(unjudged) == 1


def test_a_computed_key_output_nobody_set_is_left_to_the_resource_policies(pack):
    # The provider reports the key AWS chose as an unknown output at preview; the missing input is
    # aws-sqs-queue-customer-key's to refuse, not a key of unknown origin.
    assert _messages(pack, [_queue(UNKNOWN)]) == ([], [])


def test_a_known_arn_of_a_key_the_stack_creates_passes_without_a_dependency(pack):
    # After the first `up`, outputs such as an RDS instance's masterUserSecrets[].kmsKeyId carry the
    # key's ARN and no property dependency.
    key_arn = "arn:aws:kms:us-east-1:123456789012:key/2b3c4d5e-0000-1111-2222-333344445555"
    key = res("aws:kms/key:Key", "secrets", {"arn": key_arn, "keyId": key_arn.rsplit("/", 1)[-1]})
    db = res("aws:rds/instance:Instance", "db", {"masterUserSecrets": [{"kmsKeyId": key_arn, "secretArn": "x"}]})
    assert _messages(pack, [key, db]) == ([], [])
    assert len(_messages(pack, [db])[0]) == 1  # without the key in the stack: whose key is it?

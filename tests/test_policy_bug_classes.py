"""Classes of wrong verdicts an independent suite found, each fixed once for every policy and pinned
here over the Analyzer protocol: blank values taken as set, AWS-managed keys taken as customer
keys, a bare "*" action on a narrowed resource, and conditions judged by key name instead of value."""

from __future__ import annotations

import json

import pytest

from policy.hipaa_policies.framework import AWS_MANAGED_KEY

RDS = "aws:rds/instance:Instance"
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
IAM_POLICY = "aws:iam/policy:Policy"
CUSTOMER_KEY = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"


@pytest.fixture
def configured(pack):
    pack.configure({})
    yield pack


def _rds(key):
    return {"engine": "postgres", "storageEncrypted": True, "kmsKeyId": key}


@pytest.mark.parametrize("key", ["", "   "])
def test_a_blank_key_is_not_a_key(configured, key):
    assert configured.analyze(RDS, _rds(key)).messages("aws-rds-storage-encrypted") == [
        "Set kmsKeyId to a customer-managed key."]


@pytest.mark.parametrize("type_,props,policy", [
    (RDS, _rds("alias/aws/rds"), "aws-rds-storage-encrypted"),
    (RDS, _rds("arn:aws:kms:us-east-1:123456789012:alias/aws/rds"), "aws-rds-storage-encrypted"),
    ("aws:sns/topic:Topic", {"kmsMasterKeyId": "alias/aws/sns"}, "aws-sns-topic-customer-key"),
    ("aws:cloudwatch/logGroup:LogGroup", {"kmsKeyId": "ALIAS/AWS/logs", "retentionInDays": 2192},
     "aws-cloudwatch-log-group-encrypted"),
    ("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
     {"rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms",
                                                         "kmsMasterKeyId": "alias/aws/s3"}}]},
     "aws-s3-sse-customer-managed-key"),
])
def test_an_aws_managed_key_never_passes_for_a_customer_managed_one(configured, type_, props, policy):
    assert configured.analyze(type_, props).messages(policy), f"{policy} accepted {props}"


def test_a_customer_key_and_an_unknown_key_pass(configured):
    from pulumi_policy.proxy import UNKNOWN_STRING_VALUE
    assert configured.analyze(RDS, _rds(CUSTOMER_KEY)).messages("aws-rds-storage-encrypted") == []
    assert configured.analyze(RDS, _rds("alias/hipaa-aws-prod-database")).messages("aws-rds-storage-encrypted") == []
    verdict = configured.analyze(RDS, _rds(UNKNOWN_STRING_VALUE))  # another resource's key
    assert verdict.messages("aws-rds-storage-encrypted") == []


def test_the_aws_managed_key_pattern():
    assert AWS_MANAGED_KEY.match("alias/aws/ebs") and AWS_MANAGED_KEY.match(
        "arn:aws-us-gov:kms:us-gov-west-1:123456789012:alias/aws/s3")
    assert not AWS_MANAGED_KEY.match("alias/awsome") and not AWS_MANAGED_KEY.match(CUSTOMER_KEY)


def _policy(action, resource="arn:aws:s3:::hipaa-aws-prod-phi-documents-123456789012/*"):
    return {"policy": json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": action, "Resource": resource}]})}


def test_a_bare_star_action_on_a_narrowed_resource_is_full_access(configured):
    assert configured.analyze(IAM_POLICY, _policy("*")).messages("aws-iam-no-admin-or-full-service-access") == [
        "Replace full-service actions * with the specific actions needed."]
    assert configured.analyze(IAM_POLICY, _policy(["s3:GetObject"])).messages(
        "aws-iam-no-admin-or-full-service-access") == []


def _public_read(condition):
    statement = {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                 "Resource": "arn:aws:s3:::b/*"}
    if condition is not None:
        statement["Condition"] = condition
    return {"bucket": "b", "policy": json.dumps({"Version": "2012-10-17", "Statement": [statement]})}


@pytest.mark.parametrize("condition", [
    None,
    {"StringLike": {"aws:PrincipalArn": "*"}},
    {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:root"}},
    {"ArnLike": {"aws:SourceArn": "arn:aws:*:*:*:*"}},
    {"StringEquals": {"aws:SourceAccount": ""}},
    {"StringLike": {"aws:PrincipalOrgID": ["o-abc123", "*"]}},  # one value matches anyone
], ids=["no-condition", "any-principal", "any-account-root", "any-arn", "blank", "list-with-star"])
def test_a_condition_whose_value_matches_anyone_narrows_nothing(configured, condition):
    assert configured.analyze(BUCKET_POLICY, _public_read(condition)).messages("aws-s3-bucket-policy-not-public")


@pytest.mark.parametrize("condition", [
    {"StringEquals": {"aws:SourceAccount": "123456789012"}},
    {"StringEquals": {"aws:VpceAccount": "123456789012"}},
    {"StringEquals": {"aws:PrincipalOrgID": "o-abc123"}},
    {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::123456789012:role/*"}},
], ids=["source-account", "vpce-account", "org", "account-roles"])
def test_a_condition_naming_something_specific_narrows(configured, condition):
    assert configured.analyze(BUCKET_POLICY, _public_read(condition)).messages("aws-s3-bucket-policy-not-public") == []


# Gaps the pack did not look at.

def test_an_alarm_with_actions_disabled_notifies_nobody(configured):
    topic = "arn:aws:sns:us-east-1:123456789012:alerts"
    alarm = {"alarmActions": [topic], "insufficientDataActions": [topic]}
    assert configured.analyze("aws:cloudwatch/metricAlarm:MetricAlarm", {**alarm, "actionsEnabled": False}).messages(
        "aws-cloudwatch-alarm-has-action") == ["Set actionsEnabled to true: with actions disabled the alarm notifies nobody."]
    assert configured.analyze("aws:cloudwatch/metricAlarm:MetricAlarm", alarm).messages(
        "aws-cloudwatch-alarm-has-action") == []


@pytest.mark.parametrize("props,expected", [
    ({"policyArn": "arn:aws:iam::aws:policy/ReadOnlyAccess", "users": ["bob"]},
     ["Attach policies to roles only: remove users and groups from this PolicyAttachment."]),
    ({"policyArn": "arn:aws:iam::aws:policy/ReadOnlyAccess", "groups": ["ops"]},
     ["Attach policies to roles only: remove users and groups from this PolicyAttachment."]),
    ({"policyArn": "arn:aws:iam::aws:policy/ReadOnlyAccess", "roles": ["app"]}, []),
])
def test_policy_attachments_reach_roles_only(configured, props, expected):
    assert configured.analyze("aws:iam/policyAttachment:PolicyAttachment", props).messages("aws-iam-no-users") == expected


def _secret_with_rotation(rules):
    from preflight.policy_pack_client import stack_resource as res
    secret = res("aws:secretsmanager/secret:Secret", "db", {"kmsKeyId": CUSTOMER_KEY})
    rotation = res("aws:secretsmanager/secretRotation:SecretRotation", "db", {"secretId": "x", "rotationRules": rules},
                   property_dependencies={"secretId": [secret.urn]})
    return [secret, rotation]


@pytest.mark.parametrize("rules,config,expected", [
    ({"automaticallyAfterDays": 30}, {}, []),
    ({"automaticallyAfterDays": 180}, {}, ["Rotate at least every 90 days (rotationRules)."]),
    ({"scheduleExpression": "rate(120 days)"}, {}, ["Rotate at least every 90 days (rotationRules)."]),
    ({"scheduleExpression": "rate(12 hours)"}, {}, []),
    ({"automaticallyAfterDays": 180}, {"aws-secretsmanager-secret-rotated": {"maximumRotationDays": 365}}, []),
])
def test_secret_rotation_is_at_most_the_configured_interval(pack, rules, config, expected):
    pack.configure(config)
    verdict = pack.analyze_stack(_secret_with_rotation(rules))
    assert [d.violation for d in verdict.violations if d.policy == "aws-secretsmanager-secret-rotated"] == expected
    pack.configure({})

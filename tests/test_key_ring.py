"""KeyRing: each purpose has its own rotating key; named roles administer it, and each AWS service
gets exactly the key-policy statements its AWS guide documents for that use."""

from __future__ import annotations

import json

import pytest

from components.key_ring import (
    ACCOUNT_KEY_PURPOSES, ADMIN_ACTIONS, KEY_PURPOSES, USE_ACTIONS, KeyScope, key_policy, purpose,
)
from components.aws_context import AwsContext
from tests.conftest import account_of, run_stack

KEY = "aws:kms/key:Key"
ALIAS = "aws:kms/alias:Alias"
ACCOUNT = "123456789012"
PURPOSES = [p.name for p in KEY_PURPOSES] + ["sessions"]  # both stacks run the application tier
ACCOUNT_PURPOSES = [p.name for p in ACCOUNT_KEY_PURPOSES]
LOGS_KEY_ACTIONS = ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"]


def _via(*services: str, region: str) -> dict:
    """Any principal of the account, only through these services (each service's KMS guide)."""
    return {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
            "Action": USE_ACTIONS + ["kms:CreateGrant"], "Resource": "*",
            "Condition": {"StringEquals": {
                "kms:ViaService": [f"{s}.{region}.amazonaws.com" for s in services],
                "kms:CallerAccount": ACCOUNT}}}


def _direct(region: str) -> dict:
    return {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
            "Action": ["kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"], "Resource": "*",
            "Condition": {"StringEquals": {"kms:CallerAccount": ACCOUNT}}}


def _log_groups(pattern: str, region: str) -> dict:
    """CloudWatch Logs guide, "Encrypt log data in CloudWatch Logs using AWS KMS"."""
    return {"Effect": "Allow", "Principal": {"Service": f"logs.{region}.amazonaws.com"},
            "Action": LOGS_KEY_ACTIONS, "Resource": "*",
            "Condition": {"ArnLike": {"kms:EncryptionContext:aws:logs:arn":
                                      f"arn:aws:logs:{region}:{ACCOUNT}:log-group:{pattern}"}}}


def expected_statements(name: str, stack: str, region: str) -> list[tuple[str, dict]]:
    """(the AWS guide that documents it, the statement) for each use of a purpose's key."""
    trail = f"arn:aws:cloudtrail:{region}:{ACCOUNT}:trail/hipaa-aws-{stack}"
    trail_context = {"kms:EncryptionContext:aws:cloudtrail:arn": f"arn:aws:cloudtrail:*:{ACCOUNT}:trail/*"}
    auto_scaling = f"arn:aws:iam::{ACCOUNT}:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling"
    guide = {
        "database": [
            ("RDS guide, Encrypting Amazon RDS resources (kms:ViaService)", _via("rds", region=region)),
            ("CloudWatch Logs guide, Encrypt log data using AWS KMS",
             _log_groups(f"/aws/rds/instance/hipaa-aws-{stack}/*", region)),
        ],
        "storage": [("S3 guide, SSE-KMS; ECR guide, Encryption at rest (kms:ViaService); botocore firehose "
                     "StartDeliveryStreamEncryption (Firehose creates a grant on a CUSTOMER_MANAGED_CMK)",
                     _via("s3", "ecr", "firehose", region=region))],
        "secrets": [("Secrets Manager guide, Secret encryption (kms:ViaService)",
                     _via("secretsmanager", region=region))],
        "backup": [("AWS Backup guide, Encryption for backups; RDS re-encrypts snapshot copies",
                    _via("backup", "rds", region=region))],
        "logs": [
            ("S3 guide, SSE-KMS with an S3 Bucket Key (trail log files)", _via("s3", region=region)),
            ("CloudWatch Logs guide, Encrypt log data using AWS KMS (and WAF's aws-waf-logs- group)",
             {**_log_groups("", region), "Condition": {"ArnLike": {"kms:EncryptionContext:aws:logs:arn": [
                 f"arn:aws:logs:{region}:{ACCOUNT}:log-group:/hipaa-aws/{stack}/*",
                 f"arn:aws:logs:{region}:{ACCOUNT}:log-group:aws-waf-logs-hipaa-aws-{stack}"]}}}),
            *[("CloudWatch Logs guide, Encrypt an anomaly detector and its results with AWS KMS",
               {**_log_groups("", region), "Condition": {"ArnLike": {
                   context: f"arn:aws:logs:{region}:{ACCOUNT}:anomaly-detector:*"}}})
              for context in ("kms:EncryptionContext:aws:logs:arn",
                              "kms:EncryptionContext:aws-crypto-ec:aws:logs:arn")],
            ("CloudTrail guide, Configure AWS KMS key policies for CloudTrail: encrypt",
             {"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
              "Action": "kms:GenerateDataKey*", "Resource": "*",
              "Condition": {"StringEquals": {"aws:SourceArn": trail}, "StringLike": trail_context}}),
            ("CloudTrail guide: describe key",
             {"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
              "Action": "kms:DescribeKey", "Resource": "*",
              "Condition": {"StringEquals": {"aws:SourceArn": trail}}}),
            ("CloudTrail guide: kms:Decrypt is required with an S3 Bucket Key",
             {"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
              "Action": "kms:Decrypt", "Resource": "*"}),
            ("CloudTrail guide: principals of the account decrypt log files",
             {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
              "Action": ["kms:Decrypt", "kms:ReEncryptFrom"], "Resource": "*",
              "Condition": {"StringEquals": {"kms:CallerAccount": ACCOUNT}, "StringLike": trail_context}}),
        ],
        "alerting": [
            ("SNS guide, Key management (kms:ViaService)", _via("sns", region=region)),
            ("SNS guide: CloudWatch alarms to an encrypted topic",
             {"Effect": "Allow", "Principal": {"Service": "cloudwatch.amazonaws.com"},
              "Action": ["kms:Decrypt", "kms:GenerateDataKey*"], "Resource": "*",
              "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT}}}),
            ("SNS guide: EventBridge cannot satisfy source conditions in a key policy",
             {"Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
              "Action": ["kms:Decrypt", "kms:GenerateDataKey*"], "Resource": "*"}),
        ],
        "ebs-default": [
            ("EBS guide, Requirements for Amazon EBS encryption (kms:ViaService)", _via("ec2", region=region)),
            ("EC2 Auto Scaling guide, Required AWS KMS key policy for use with encrypted volumes: use",
             {"Effect": "Allow", "Principal": {"AWS": auto_scaling},
              "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*",
                         "kms:DescribeKey"], "Resource": "*"}),
            ("EC2 Auto Scaling guide: attachment of persistent resources",
             {"Effect": "Allow", "Principal": {"AWS": auto_scaling}, "Action": "kms:CreateGrant",
              "Resource": "*", "Condition": {"Bool": {"kms:GrantIsForAWSResource": True}}}),
        ],
        "sessions": [("Session Manager guide, Turn on KMS key encryption of session data (the client "
                      "and the agent call KMS themselves, as their IAM policies allow)", _direct(region))],
        "cache": [("ElastiCache guide, At-rest encryption (kms:ViaService)", _via("elasticache", region=region))],
        "session-manager": [
            ("Session Manager guide, Turn on KMS key encryption of session data", _direct(region)),
            ("CloudWatch Logs guide, Encrypt log data using AWS KMS",
             _log_groups("/hipaa-aws/account/session-manager", region)),
        ],
        "config": [
            ("S3 guide, SSE-KMS (delivered snapshots)", _via("s3", region=region)),
            ("AWS Config guide, Permissions for the KMS key",
             {"Effect": "Allow", "Principal": {"Service": "config.amazonaws.com"},
              "Action": ["kms:Decrypt", "kms:GenerateDataKey"], "Resource": "*",
              "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT}}}),
        ],
    }
    return guide[name]


def _without_sid(statement: dict) -> dict:
    return {k: v for k, v in statement.items() if k != "Sid"}


def _in_account(statement: dict, account: str) -> dict:
    """An expected statement (written for ACCOUNT) for a stack pinned to `account`."""
    return json.loads(json.dumps(statement).replace(ACCOUNT, account))


def test_every_purpose_has_its_guide_statements():
    for name in PURPOSES + ACCOUNT_PURPOSES + ["cache"]:
        assert expected_statements(name, "s", "us-east-1")


@pytest.mark.parametrize("key_purpose", PURPOSES)
def test_each_key_rotates_yearly_with_an_alias(any_stack, key_purpose):
    key = any_stack.named(f"hipaa-keys-{key_purpose}", KEY)
    assert key.inputs["enableKeyRotation"] is True
    assert key.inputs["rotationPeriodInDays"] == 365
    alias = any_stack.named(f"hipaa-keys-{key_purpose}", ALIAS)
    assert alias.inputs["name"] == f"alias/hipaa-aws-{any_stack.stack}-{key_purpose}"
    assert alias.inputs["targetKeyId"] == key.outputs["keyId"]


@pytest.mark.parametrize("stack", ["prod", "staging"])
def test_each_service_gets_exactly_what_its_guide_documents(stack):
    region = "eu-central-1"  # not the stack default: proves nothing is hard-coded
    account = account_of(stack)
    certificate = f"arn:aws:acm:{region}:{account}:certificate/0b5a4f34-1c7e-4d6b-9a1f-3e2d5c6b7a80"
    run = run_stack(stack, overrides={"aws:region": region, **(
        {"app": {"certificateArn": certificate}} if stack == "staging" else {})})
    names = [(f"hipaa-keys-{p}", p) for p in PURPOSES]
    # Each stack owns its account's layer (organization member accounts), so it has the layer's keys.
    assert run.stack_outputs["accountBaseline"] == "organization"
    names += [(f"hipaa-account-keys-{p}", p) for p in ACCOUNT_PURPOSES]
    for resource_name, key_purpose in names:
        policy = json.loads(run.named(resource_name, KEY).inputs["policy"])
        uses = [_without_sid(s) for s in policy["Statement"][1:]]
        expected = [(source, _in_account(statement, account))
                    for source, statement in expected_statements(key_purpose, stack, region)]
        for source, statement in expected:
            assert statement in uses, f"{resource_name}: missing what {source} documents"
        assert len(uses) == len(expected), f"{resource_name}: statements no guide documents: " + \
            json.dumps([u for u in uses if u not in [s for _, s in expected]])
        assert "us-east-1" not in json.dumps(policy)


def test_without_key_administrators_the_deploy_role_administers():
    run = run_stack("staging", removed=("keyAdministrators",))
    admin = json.loads(run.named("hipaa-keys-storage", KEY).inputs["policy"])["Statement"][0]
    assert admin["Principal"] == {
        "AWS": [f"arn:aws:iam::{account_of('staging')}:role/hipaa-aws/ci/hipaa-aws-staging-deploy"]}


@pytest.mark.parametrize("stack", ["prod", "staging"])
def test_named_roles_administer_every_key_never_the_whole_account(stack):
    """Whoever may put a key policy or create grants can give itself use: so the administrators
    are named roles (the stack's CI deploy role by default), never the account root."""
    run = run_stack(stack)
    account = account_of(stack)
    deploy_role = f"arn:aws:iam::{account}:role/hipaa-aws/ci/hipaa-aws-{stack}-deploy"
    platform_admin = f"arn:aws:iam::{account}:role/hipaa-aws-platform-admin"
    for key in run.of_type(KEY):
        admin = json.loads(key.inputs["policy"])["Statement"][0]
        assert admin["Sid"] == "KeyAdministrators"
        assert admin["Principal"] == {"AWS": [deploy_role, platform_admin]}, key.name
        assert admin["Action"] == ADMIN_ACTIONS
        assert not {"kms:Decrypt", "kms:Encrypt", "kms:*", "kms:GenerateDataKey*"} & set(admin["Action"])
        grants_to_root = [s for s in json.loads(key.inputs["policy"])["Statement"]
                          if s["Principal"] == {"AWS": f"arn:aws:iam::{account}:root"}]
        assert all("Condition" in s for s in grants_to_root), key.name


def test_key_administrators_come_from_settings():
    account = account_of("staging")
    admins = [f"arn:aws:iam::{account}:role/hipaa-aws/ci/hipaa-aws-staging-deploy",
              f"arn:aws:iam::{account}:role/BreakGlassAdmin", f"arn:aws:iam::{account}:role/Recovery"]
    run = run_stack("staging", overrides={"keyAdministrators": admins})
    for key in run.of_type(KEY):
        assert json.loads(key.inputs["policy"])["Statement"][0]["Principal"] == {"AWS": admins}


def test_a_key_policy_without_administrators_is_refused():
    with pytest.raises(ValueError, match="administrator"):
        key_policy(KeyScope(AwsContext(ACCOUNT, "us-east-1", "aws", "amazonaws.com"), "s"),
                   purpose("storage"), [])


def test_phi_keys_keep_a_30_day_window_and_synthetic_keys_the_7_day_minimum(prod, staging):
    assert {k.inputs["deletionWindowInDays"] for k in prod.of_type(KEY)} == {30}
    def environment_keys(run):
        return [k for k in run.of_type(KEY) if not k.name.startswith("hipaa-account-keys-")]
    assert {k.inputs["deletionWindowInDays"] for k in environment_keys(staging)} == {7}
    # The account layer's keys outlive any stack (kept on delete): the longest window wherever they are.
    account_keys = [k for k in staging.of_type(KEY) if k.name.startswith("hipaa-account-keys-")]
    assert account_keys and {k.inputs["deletionWindowInDays"] for k in account_keys} == {30}

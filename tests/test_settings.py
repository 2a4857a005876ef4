"""Stack settings: every bad value is refused, with the stack, key, value and what is allowed,
all at once, before anything is created."""

from __future__ import annotations

import json

import pulumi
import pytest
import yaml

from components.settings import Settings, parse_settings
from preflight.program_runner import ProgramError
from preflight.stack_config import PROJECT_DIR
from tests.conftest import run_stack, stack_config


def config_error(stack: str, overrides=None, removed=()) -> str:
    """Run the real program with a modified stack config; return the RunError it stops with."""
    with pytest.raises(ProgramError) as failure:
        run_stack(stack, overrides=overrides, removed=removed)
    assert isinstance(failure.value.cause, pulumi.RunError), failure.value.cause
    assert failure.value.run.resources == [], "resources were registered despite bad settings"
    return str(failure.value.cause)


@pytest.mark.parametrize("stack", ["prod", "staging"])
def test_both_stack_files_load(stack):
    raw = {k.split(":", 1)[1]: v for k, v in stack_config(stack).values.items()
           if k.startswith("hipaa-aws:")}
    settings = parse_settings(stack, raw)
    assert settings.holds_phi is (stack == "prod")


def test_prod_holds_phi_with_the_documented_resilience(prod):
    settings = parse_settings("prod", {k.split(":", 1)[1]: v for k, v in
                                       stack_config("prod").values.items() if k.startswith("hipaa-aws:")})
    assert settings.availability_zone_count == 3 and settings.nat_gateway_per_az
    assert settings.database.multi_az and settings.database.deletion_protection
    assert settings.database.backup_retention_days == 35


REJECTIONS = [
    # (stack, overrides, the key in the message, the value shown, words of what is allowed)
    ("staging", {"vpcCidr": "10.20.0.0/33"}, "vpcCidr", "'10.20.0.0/33'", "CIDR form"),
    ("staging", {"vpcCidr": "banana"}, "vpcCidr", "'banana'", "CIDR form"),
    ("staging", {"vpcCidr": "10.20.0.1/16"}, "vpcCidr", "'10.20.0.1/16'", "host bits set"),
    ("staging", {"vpcCidr": "10.20.0.0/24"}, "vpcCidr", "'10.20.0.0/24'", "must be /16 to /21"),
    ("staging", {"vpcCidr": "10.0.0.0/8"}, "vpcCidr", "'10.0.0.0/8'", "must be /16 to /21"),
    ("staging", {"vpcCidr": "52.1.0.0/16"}, "vpcCidr", "'52.1.0.0/16'", "RFC 1918"),
    ("staging", {"availabilityZoneCount": 1}, "availabilityZoneCount", "'1'", "greater than or equal to 2"),
    ("staging", {"availabilityZoneCount": 7}, "availabilityZoneCount", "'7'", "less than or equal to 6"),
    ("prod", {"availabilityZoneCount": 2}, "availabilityZoneCount", "'2'", "between 3 and 6 in a stack that holds PHI"),
    ("staging", {"database": {"backupRetentionDays": 0}}, "database.backupRetentionDays", "0", "greater than or equal to 1"),
    ("staging", {"database": {"backupRetentionDays": 36}}, "database.backupRetentionDays", "36", "less than or equal to 35"),
    ("prod", {"database": {"backupRetentionDays": 5}}, "database.backupRetentionDays", "5", "between 7 and 35 in a stack that holds PHI"),
    ("staging", {"auditLogRetentionDays": 2000}, "auditLogRetentionDays", "'2000'", "one of 2192, 2557, 2922, 3288, 3653"),
    ("staging", {"auditLogRetentionDays": 365}, "auditLogRetentionDays", "'365'", "at least six years"),
    ("staging", {"vpcCdir": "10.20.0.0/16"}, "vpcCdir", "'10.20.0.0/16'", "unknown key; allowed keys are"),
    ("staging", {"database": {"multiAZ": True}}, "database.multiAZ", "true",
     "unknown key (did you mean multiAz?); allowed keys are allocatedStorageGb, backupRetentionDays, "
     "deletionProtection, engineVersion, instanceClass, maxAllocatedStorageGb, multiAz, restoreFromInstance, "
     "snapshotIdentifier"),
    ("staging", {"app": {"cpus": 512}}, "app.cpus", "512", "unknown key (did you mean cpu?); allowed keys are "),
    ("prod", {"database": {"multiAz": False}}, "database.multiAz", "false", "must be true in a stack that holds PHI"),
    ("prod", {"database": {"deletionProtection": False}}, "database.deletionProtection", "false", "must be true in a stack that holds PHI"),
    ("staging", {"database": {"snapshotIdentifier": "prod-final"}}, "database.snapshotIdentifier", "'prod-final'", "must not be set in a stack without PHI"),
    ("staging", {"database": {"restoreFromInstance": "hipaa-aws-prod"}}, "database.restoreFromInstance", "'hipaa-aws-prod'", "must not be set in a stack without PHI"),
    ("staging", {"dataClassification": "public"}, "dataClassification", "'public'", "'phi' or 'synthetic'"),
    ("staging", {"owner": "nobody"}, "owner", "'nobody'", "should match pattern"),
    ("staging", {"database": {"engineVersion": "12"}}, "database.engineVersion", "'12'", "14, 15, 16, 17"),
    ("prod", {"backupCopyRegion": "us-east-1"}, "backupCopyRegion", "'us-east-1'", "other than the stack's own"),
    # Regions: botocore's partitions.json (components/aws_regions.py).
    ("prod", {"backupCopyRegion": "mars-1"}, "backupCopyRegion", "'mars-1'", "not an AWS region"),
    ("prod", {"backupCopyRegion": "us-north-9"}, "backupCopyRegion", "'us-north-9'",
     "not an AWS region; use a region of partition aws: af-south-1, "),
    # AWS Backup copies between regions of one partition (Amazon Backup in China: "Cross Region Backups
    # are only allowed between the Beijing Region and the Ningxia Region").
    ("prod", {"backupCopyRegion": "us-gov-west-1"}, "backupCopyRegion", "'us-gov-west-1'",
     "must be a region of the stack's partition (aws, aws:region us-east-1); us-gov-west-1 is in "
     "aws-us-gov, and AWS Backup copies within a partition only"),
    ("staging", {"alertEmail": "security"}, "alertEmail", "'security'", "should match pattern"),
    ("staging", {"phiReadAlarmThreshold": 0}, "phiReadAlarmThreshold", "'0'", "greater than or equal to 1"),
    ("staging", {"database": "{not json"}, "database", "'{not json'", "not a valid object"),
    ("staging", {"accountBaseline": "mine"}, "accountBaseline", "'mine'",
     "'owned', 'organization' or 'external'"),
    ("staging", {"keyAdministrators": ["arn:aws:iam::210987654321:user/bob"]}, "keyAdministrators",
     '["arn:aws:iam::210987654321:user/bob"]', "is not an IAM role ARN"),
    ("staging", {"keyAdministrators": ["arn:aws:iam::999999999999:role/x"]}, "keyAdministrators",
     '["arn:aws:iam::999999999999:role/x"]',
     "not of this stack's account (210987654321, aws:allowedAccountIds)"),
    ("staging", {"keyAdministrators": []}, "keyAdministrators", "[]", "at least 1 item"),
    ("staging", {"keyAdministrators": ["arn:aws:iam::210987654321:role/admin"]}, "keyAdministrators",
     '["arn:aws:iam::210987654321:role/admin"]', "must include the stack's CI deploy role"),
    ("staging", {"keyAdministrators": ["arn:aws:iam::210987654321:role/hipaa-aws/ci/hipaa-aws-staging-deploy"]
                 + [f"arn:aws:iam::210987654321:role/people/platform-administrator-{i}" for i in range(9)]},
     "keyAdministrators", '["arn:aws:iam::210987654321:role/hipaa-aws/ci/hipaa-aws-staging-deploy", "arn...',
     "too many or too long for the alarm"),
]


@pytest.mark.parametrize("stack,overrides,key,shown,allowed", REJECTIONS,
                         ids=[f"{r[0]}-{r[2]}-{r[3]}" for r in REJECTIONS])
def test_each_bad_value_is_refused_with_stack_key_value_and_what_is_allowed(
        stack, overrides, key, shown, allowed):
    message = config_error(stack, overrides)
    assert f"stack '{stack}'" in message
    line = next((l for l in message.splitlines() if f"hipaa-aws:{key} " in l), None)
    assert line is not None, message
    assert f"hipaa-aws:{key} = {shown}:" in line, line
    assert allowed in line, line


def test_all_problems_are_reported_at_once():
    message = config_error("prod", {
        "vpcCidr": "10.10.0.0/24", "availabilityZoneCount": 2, "auditLogRetentionDays": 30,
        "database": {"multiAz": False, "backupRetentionDays": 3}, "vpcCdir": "x",
    })
    assert "has 6 invalid setting(s)" in message
    for key in ("vpcCidr", "availabilityZoneCount", "auditLogRetentionDays",
                "database.multiAz", "database.backupRetentionDays", "vpcCdir"):
        assert f"hipaa-aws:{key} " in message


def test_a_required_key_missing_is_named():
    message = config_error("staging", removed=("owner",))
    assert "hipaa-aws:owner: required but not set" in message


def test_a_phi_stack_may_restore_its_own_snapshot():
    raw = {k.split(":", 1)[1]: v for k, v in stack_config(
        "prod", {"database": {"snapshotIdentifier": "hipaa-aws-prod-2026-11-01"}}).values.items()
        if k.startswith("hipaa-aws:")}
    assert parse_settings("prod", raw).database.snapshot_identifier == "hipaa-aws-prod-2026-11-01"


def test_settings_are_immutable():
    settings = parse_settings("staging", {"dataClassification": "synthetic",
                                          "owner": "a@b.co", "costCenter": "x",
                                          "alertEmail": "sec@b.co", "accountBaseline": "external"})
    with pytest.raises(Exception):
        settings.vpc_cidr = "10.1.0.0/16"  # type: ignore[misc]


def test_pulumi_yaml_defaults_match_the_settings_defaults():
    """The CLI applies Pulumi.yaml defaults; the program's own defaults must agree."""
    declared = yaml.safe_load((PROJECT_DIR / "Pulumi.yaml").read_text())["config"]
    fields = {f.alias: f for f in Settings.model_fields.values() if f.alias}
    for key, declaration in declared.items():
        assert key in fields, f"Pulumi.yaml declares {key}, which settings do not know"
        if "default" in declaration:
            assert fields[key].default == declaration["default"], key
        else:
            assert fields[key].is_required(), f"{key} has a program default but none in Pulumi.yaml"


def test_a_stack_that_does_not_pin_its_account_is_refused():
    message = config_error("staging", removed=("allowedAccountIds",))
    assert "aws:allowedAccountIds: required but not set" in message


def test_a_stack_must_say_who_owns_the_account_layer():
    message = config_error("staging", removed=("accountBaseline",))
    assert "hipaa-aws:accountBaseline: required but not set" in message


@pytest.mark.parametrize("stack", ["Prod", "prod_1", "1prod", "a-very-long-stack", "fourteen-chars"])
def test_a_stack_name_that_cannot_name_its_resources_is_refused(stack):
    """The stack name is part of bucket, role, database-user and permission-set names; the tightest
    is `hipaa-<stack>-phi-operator`, an Identity Center permission set name of at most 32 characters
    (botocore `sso-admin` model, shape PermissionSetName: max 32)."""
    with pytest.raises(pulumi.RunError) as refused:
        parse_settings(stack, {"dataClassification": "synthetic", "owner": "a@b.co", "costCenter": "x",
                               "alertEmail": "sec@b.co", "accountBaseline": "external"})
    assert f"stack name {stack!r} ({len(stack)} characters): a stack name must have 1 to 13 characters, " \
           "a lower-case letter first" in str(refused.value)
    assert "hipaa-aws:stack" not in str(refused.value)


def test_the_longest_stack_name_fits_every_permission_set_name():
    from components.application.workforce_access import PERMISSION_SETS, permission_set_name

    longest = "a" * 13
    parse_settings(longest, {"dataClassification": "synthetic", "owner": "a@b.co", "costCenter": "x",
                             "alertEmail": "sec@b.co", "accountBaseline": "external"})
    assert max(len(permission_set_name(longest, key)) for key in PERMISSION_SETS) == 32


def test_a_refused_stack_name_is_reported_once_and_no_arn_is_built_from_it():
    """The stack's real settings (key administrators included) under a name that is too long: one
    line, naming the stack; no `None` in a role ARN of a second message."""
    raw = {k.split(":", 1)[1]: v for k, v in stack_config("staging").values.items()
           if k.startswith("hipaa-aws:")}
    with pytest.raises(pulumi.RunError) as refused:
        parse_settings("a-very-long-stack-name", raw)
    message = str(refused.value)
    assert "has 1 invalid setting(s)" in message and "stack name 'a-very-long-stack-name'" in message
    assert "None" not in message


PROVIDER_REJECTIONS = [
    # (overrides, removed, the line expected)
    ({"aws:region": "us-east-7"}, (), "aws:region = 'us-east-7': not an AWS region; use a region of partition "
                                      "aws: af-south-1, "),
    ({"aws:region": "moon-base-1"}, (), "aws:region = 'moon-base-1': not an AWS region"),
    ({}, ("region",), "aws:region: required but not set; pin the stack's region"),
    ({"aws:allowedAccountIds": "123456789012"}, (),
     "aws:allowedAccountIds = '123456789012': must be a list of exactly one 12-digit account id in quotes"),
    ({"aws:allowedAccountIds": '["123456789012", "210987654321"]'}, (),
     """aws:allowedAccountIds = '["123456789012", "210987654321"]': must be a list of exactly one"""),
    ({"aws:allowedAccountIds": "[123456789012]"}, (),
     "aws:allowedAccountIds = '[123456789012]': must be a list of exactly one 12-digit account id in quotes"),
    ({"aws:allowedAccountIds": '["12345678901"]'}, (), "must be a list of exactly one 12-digit account id"),
    ({"aws:allowedAccountIds": "[]"}, (), "aws:allowedAccountIds = '[]': must be a list of exactly one"),
]


@pytest.mark.parametrize("overrides,removed,expected", PROVIDER_REJECTIONS,
                         ids=[f"{i}-{next(iter(r[0].values()), r[1])}" for i, r in enumerate(PROVIDER_REJECTIONS)])
def test_the_stack_is_pinned_to_one_real_region_and_one_account(overrides, removed, expected):
    """Regions: botocore's partitions.json, the partition list every AWS SDK resolves endpoints with.
    One account: the stack's key policies, role ARNs and account layer are those of one account."""
    message = config_error("staging", overrides, removed)
    assert "stack 'staging'" in message
    assert any(expected in line for line in message.splitlines()), message


@pytest.mark.parametrize("region", ["us-gov-west-1", "cn-north-1", "eu-central-2", "ap-southeast-5"])
def test_every_region_of_every_partition_is_accepted(region):
    from components.settings import _provider_config

    problems: list[str] = []
    assert _provider_config({"region": region, "allowedAccountIds": '["012345678901"]'}, problems) == (
        region, ("012345678901",))
    assert problems == []


def test_a_member_account_stack_leaves_its_permission_sets_to_the_organization():
    """Identity Center user guide, "Delegated administration": permission sets are created from the
    management account (or a delegated administrator), never from a member account."""
    import pulumi
    from components.settings import parse_settings
    from preflight.stack_config import load_stack_config
    config = load_stack_config("staging")
    raw = {k.split(":", 1)[1]: v for k, v in config.values.items() if k.startswith("hipaa-aws:")}
    identity = json.loads(raw["identityCenter"])
    assert identity["managedBy"] == "organization" and raw["accountBaseline"] == "organization"
    with pytest.raises(pulumi.RunError, match="identityCenter = .*managedBy must be organization"):
        parse_settings("staging", {**raw, "identityCenter": {**identity, "managedBy": "stack"}},
                       region="us-east-1", allowed_accounts=tuple(config.allowed_account_ids))

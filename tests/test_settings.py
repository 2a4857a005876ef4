"""Stack settings: every bad value is refused, with the stack, key, value and what is allowed,
all at once, before anything is created."""

from __future__ import annotations

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
    ("staging", {"database": {"multiAZ": True}}, "database.multiAZ", "true", "Extra inputs are not permitted"),
    ("prod", {"database": {"multiAz": False}}, "database.multiAz", "false", "must be true in a stack that holds PHI"),
    ("prod", {"database": {"deletionProtection": False}}, "database.deletionProtection", "false", "must be true in a stack that holds PHI"),
    ("staging", {"database": {"snapshotIdentifier": "prod-final"}}, "database.snapshotIdentifier", "'prod-final'", "must not be set in a stack without PHI"),
    ("staging", {"database": {"restoreFromInstance": "hipaa-aws-prod"}}, "database.restoreFromInstance", "'hipaa-aws-prod'", "must not be set in a stack without PHI"),
    ("staging", {"dataClassification": "public"}, "dataClassification", "'public'", "'phi' or 'synthetic'"),
    ("staging", {"owner": "nobody"}, "owner", "'nobody'", "should match pattern"),
    ("staging", {"database": {"engineVersion": "12"}}, "database.engineVersion", "'12'", "14, 15, 16, 17"),
    ("prod", {"backupCopyRegion": "us-east-1"}, "backupCopyRegion", "'us-east-1'", "other than the stack's own"),
    ("prod", {"backupCopyRegion": "mars-1"}, "backupCopyRegion", "'mars-1'", "should match pattern"),
    ("staging", {"alertEmail": "security"}, "alertEmail", "'security'", "should match pattern"),
    ("staging", {"phiReadAlarmThreshold": 0}, "phiReadAlarmThreshold", "'0'", "greater than or equal to 1"),
    ("staging", {"database": "{not json"}, "database", "'{not json'", "not a valid object"),
    ("staging", {"accountBaseline": "mine"}, "accountBaseline", "'mine'", "'owned' or 'external'"),
    ("staging", {"keyAdministrators": ["arn:aws:iam::123456789012:user/bob"]}, "keyAdministrators",
     '["arn:aws:iam::123456789012:user/bob"]', "is not an IAM role ARN"),
    ("staging", {"keyAdministrators": ["arn:aws:iam::999999999999:role/x"]}, "keyAdministrators",
     '["arn:aws:iam::999999999999:role/x"]', "not of this stack's account (123456789012, aws:allowedAccountIds)"),
    ("staging", {"keyAdministrators": []}, "keyAdministrators", "[]", "at least 1 item"),
    ("staging", {"keyAdministrators": ["arn:aws:iam::123456789012:role/admin"]}, "keyAdministrators",
     '["arn:aws:iam::123456789012:role/admin"]', "must include the stack's CI deploy role"),
    ("staging", {"keyAdministrators": ["arn:aws:iam::123456789012:role/hipaa-aws/ci/hipaa-aws-staging-deploy"]
                 + [f"arn:aws:iam::123456789012:role/people/platform-administrator-{i}" for i in range(9)]},
     "keyAdministrators", '["arn:aws:iam::123456789012:role/hipaa-aws/ci/hipaa-aws-staging-deploy", "arn...',
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


@pytest.mark.parametrize("stack", ["Prod", "prod_1", "1prod", "a-very-long-stack"])
def test_a_stack_name_that_cannot_name_its_resources_is_refused(stack):
    """The stack name is part of bucket, role, database-user and permission-set names."""
    with pytest.raises(pulumi.RunError, match="the stack name must start with a letter"):
        parse_settings(stack, {"dataClassification": "synthetic", "owner": "a@b.co", "costCenter": "x",
                               "alertEmail": "sec@b.co", "accountBaseline": "external"})

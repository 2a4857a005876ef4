"""KeyRing: each purpose has its own rotating key that only that purpose's services can use."""

from __future__ import annotations

import json

import pytest

from components.key_ring import ADMIN_ACTIONS, KEY_PURPOSES
from tests.conftest import run_stack

KEY = "aws:kms/key:Key"
ALIAS = "aws:kms/alias:Alias"
PURPOSES = [p.name for p in KEY_PURPOSES]
# The service each purpose's key may be used through (kms:ViaService or service principal).
EXPECTED_USERS = {
    "database": {"via": ["rds"]},
    "storage": {"via": ["s3"]},
    "secrets": {"via": ["secretsmanager"]},
    "backup": {"via": ["backup", "ec2"]},
    "logs": {"via": ["s3"], "services": {"logs.{region}.amazonaws.com", "cloudtrail.amazonaws.com",
                                         "config.amazonaws.com"}},
    "alerting": {"via": ["sns"], "services": {"cloudwatch.amazonaws.com", "events.amazonaws.com"}},
}


def test_six_purposes():
    assert sorted(PURPOSES) == sorted(EXPECTED_USERS)


@pytest.mark.parametrize("purpose", PURPOSES)
def test_each_key_rotates_yearly_with_a_30_day_deletion_window_and_an_alias(any_stack, purpose):
    key = any_stack.named(f"hipaa-keys-{purpose}", KEY)
    assert key.inputs["enableKeyRotation"] is True
    assert key.inputs["rotationPeriodInDays"] == 365
    assert key.inputs["deletionWindowInDays"] == 30
    alias = any_stack.named(f"hipaa-keys-{purpose}", ALIAS)
    assert alias.inputs["name"] == f"alias/hipaa-aws-{any_stack.stack}-{purpose}"
    assert alias.inputs["targetKeyId"] == key.outputs["keyId"]


@pytest.mark.parametrize("purpose", PURPOSES)
def test_root_administers_but_only_the_purposes_services_use_the_key(purpose):
    region = "eu-central-1"  # not the stack default: proves nothing is hard-coded
    run = run_stack("staging", overrides={"aws:region": region})
    policy = json.loads(run.named(f"hipaa-keys-{purpose}", KEY).inputs["policy"])
    statements = policy["Statement"]
    admin = statements[0]
    assert admin["Principal"] == {"AWS": "arn:aws:iam::123456789012:root"}
    assert admin["Action"] == ADMIN_ACTIONS
    assert not any(a in ADMIN_ACTIONS for a in ("kms:Decrypt", "kms:Encrypt", "kms:*"))
    assert "Condition" not in admin

    vias, services = set(), set()
    for statement in statements[1:]:
        assert statement["Effect"] == "Allow"
        assert "Condition" in statement, f"unconditioned use grant: {statement}"
        principal = statement["Principal"]
        if "AWS" in principal:
            conditions = statement["Condition"]["StringEquals"]
            assert conditions.get("kms:CallerAccount") == "123456789012"
            vias.update(conditions.get("kms:ViaService", []))
            if "kms:ViaService" not in conditions:
                # the only other account grant: reading trail logs, bound to CloudTrail's context
                assert "kms:EncryptionContext:aws:cloudtrail:arn" in statement["Condition"]["StringLike"]
        else:
            names = principal["Service"]
            services.update([names] if isinstance(names, str) else names)
    expected = EXPECTED_USERS[purpose]
    assert vias == {f"{s}.{region}.amazonaws.com" for s in expected["via"]}
    assert services == {s.format(region=region) for s in expected.get("services", set())}
    assert "us-east-1" not in json.dumps(policy)


def test_log_service_grant_is_bound_to_this_accounts_log_groups():
    run = run_stack("staging", overrides={"aws:region": "ap-southeast-2"})
    policy = json.loads(run.named("hipaa-keys-logs", KEY).inputs["policy"])
    logs = next(s for s in policy["Statement"]
                if s["Principal"].get("Service") == "logs.ap-southeast-2.amazonaws.com")
    assert logs["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"] == \
        "arn:aws:logs:ap-southeast-2:123456789012:log-group:*"

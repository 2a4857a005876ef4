"""Account baseline, the least-privilege workload role, and backups."""

from __future__ import annotations

import json

from components.backup import MANAGED_POLICIES
from tests.conftest import arn_of


def test_password_policy_matches_the_hipaa_pack(prod):
    any_stack = prod
    (policy,) = any_stack.of_type("aws:iam/accountPasswordPolicy:AccountPasswordPolicy")
    inputs = policy.inputs
    assert inputs["minimumPasswordLength"] >= 14
    assert inputs["passwordReusePrevention"] >= 24
    assert inputs["maxPasswordAge"] <= 90
    assert all(inputs[k] for k in ("requireLowercaseCharacters", "requireUppercaseCharacters",
                                   "requireNumbers", "requireSymbols"))


def test_account_guardrails(prod):
    any_stack = prod
    (ebs,) = any_stack.of_type("aws:ebs/encryptionByDefault:EncryptionByDefault")
    assert ebs.inputs["enabled"] is True
    (default_key,) = any_stack.of_type("aws:ebs/defaultKmsKey:DefaultKmsKey")
    # The account layer's own key: it outlives any stack, and Auto Scaling may use it.
    key = any_stack.named("hipaa-account-keys-ebs-default", "aws:kms/key:Key")
    assert default_key.inputs["keyArn"] == key.outputs["arn"]
    (slr,) = any_stack.of_type("aws:iam/serviceLinkedRole:ServiceLinkedRole")
    assert slr.inputs["awsServiceName"] == "autoscaling.amazonaws.com"
    assert slr.urn in key.dependencies  # a key policy naming a missing role is rejected
    (block,) = any_stack.of_type("aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock")
    assert all(block.inputs[k] for k in ("blockPublicAcls", "blockPublicPolicy",
                                         "ignorePublicAcls", "restrictPublicBuckets"))
    (analyzer,) = any_stack.of_type("aws:accessanalyzer/analyzer:Analyzer")
    assert analyzer.inputs["type"] == "ACCOUNT"


def test_no_iam_users_or_access_keys_anywhere(any_stack):
    types = {r.type for r in any_stack.resources}
    assert not types & {"aws:iam/user:User", "aws:iam/accessKey:AccessKey",
                        "aws:iam/userPolicy:UserPolicy", "aws:iam/userLoginProfile:UserLoginProfile"}


def test_no_inline_role_policies_which_the_hipaa_pack_flags(any_stack):
    assert any_stack.of_type("aws:iam/rolePolicy:RolePolicy") == []
    assert all(not r.inputs.get("inlinePolicies") for r in any_stack.of_type("aws:iam/role:Role"))


def _statements(run, name):
    return json.loads(run.named(name, "aws:iam/policy:Policy").inputs["policy"])["Statement"]


def test_workload_role_has_no_wildcard_action_and_names_only_this_stacks_resources(any_stack):
    statements = _statements(any_stack, "hipaa-workload")
    actions = [a for s in statements for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])]
    assert not any("*" in a for a in actions)
    bucket = any_stack.named("hipaa-phi-documents", "aws:s3/bucket:Bucket").outputs["arn"]
    stack = any_stack.stack
    by_sid = {s["Sid"]: s for s in statements}
    assert by_sid["PhiObjects"]["Resource"] == f"{bucket}/*"
    assert all(a.startswith("s3:") and "Object" in a for a in by_sid["PhiObjects"]["Action"])
    assert by_sid["PhiKeys"]["Action"] == ["kms:Decrypt", "kms:GenerateDataKey"]
    # Keys by alias and the database user by its stack-specific name: judged at preview.
    assert by_sid["PhiKeys"]["Condition"] == {"ForAnyValue:StringEquals": {"kms:ResourceAliases": [
        f"alias/hipaa-aws-{stack}-storage", f"alias/hipaa-aws-{stack}-database"]}}
    assert by_sid["DatabaseIamAuth"]["Resource"] == f"arn:aws:rds-db:us-east-1:123456789012:dbuser:*/app_{stack}"
    # The application connects as its own database role; it never reads the master secret.
    assert set(by_sid) == {"PhiObjects", "PhiKeys", "DatabaseIamAuth"}
    assert "secretsmanager" not in json.dumps(statements)


def test_only_the_break_glass_role_may_read_the_master_secret(any_stack):
    """The RDS-managed secret is the rds_superuser credential: break-glass only, with MFA, for
    an hour, alarmed."""
    secret = any_stack.named("hipaa-db", "aws:rds/instance:Instance").outputs["masterUserSecrets"][0]["secretArn"]
    readers = [p.name for p in any_stack.of_type("aws:iam/policy:Policy")
               if "secretsmanager:GetSecretValue" in p.inputs["policy"]
               and '"Effect": "Allow"' in p.inputs["policy"]]
    assert sorted(readers) == ["hipaa-break-glass", "hipaa-workforce-break-glass"]
    assert secret.startswith("arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!db-")
    stack = any_stack.stack
    for policy in ("hipaa-break-glass", "hipaa-workforce-break-glass"):
        by_sid = {s["Sid"]: s for s in _statements(any_stack, policy)}
        # Named before the secret exists: RDS tags its managed secret with the instance's ARN.
        assert by_sid["MasterSecret"]["Resource"] == "arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!db-*"
        assert by_sid["MasterSecret"]["Condition"] == {"StringEquals": {
            "aws:ResourceTag/aws:rds:primaryDBInstanceArn": f"arn:aws:rds:us-east-1:123456789012:db:hipaa-aws-{stack}"}}
        assert by_sid["MasterSecretKey"]["Condition"] == {
            "ForAnyValue:StringEquals": {"kms:ResourceAliases": f"alias/hipaa-aws-{stack}-secrets"},
            "StringEquals": {"kms:ViaService": "secretsmanager.us-east-1.amazonaws.com"}}
    role = any_stack.named("hipaa-break-glass", "aws:iam/role:Role").inputs
    assert role["maxSessionDuration"] == 3600
    (trust,) = json.loads(role["assumeRolePolicy"])["Statement"]
    assert trust["Condition"]["ArnLike"]["aws:PrincipalArn"] == [
        f"arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_hipaa-{stack}-break-glass_*",
        f"arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/*/AWSReservedSSO_hipaa-{stack}-break-glass_*"]
    assert any_stack.stack_outputs["databaseIamUser"] == f"app_{stack}"


def test_backup_vault_is_encrypted_locked_and_the_phi_stores_are_selected(any_stack):
    vault = any_stack.named("hipaa-backup", "aws:backup/vault:Vault")
    assert vault.inputs["kmsKeyArn"] == arn_of(any_stack, "hipaa-keys-backup", "aws:kms/key:Key")
    lock = any_stack.named("hipaa-backup", "aws:backup/vaultLockConfiguration:VaultLockConfiguration")
    assert lock.inputs["backupVaultName"] == vault.outputs["name"]
    assert lock.inputs["minRetentionDays"] >= 7
    assert ("changeableForDays" in lock.inputs) is (any_stack.stack == "prod")  # COMPLIANCE mode
    assert bool(vault.inputs.get("forceDestroy")) is (any_stack.stack != "prod")
    (selection,) = any_stack.of_type("aws:backup/selection:Selection")
    assert set(selection.inputs["resources"]) == {
        any_stack.named("hipaa-db", "aws:rds/instance:Instance").outputs["arn"],
        any_stack.named("hipaa-phi-documents", "aws:s3/bucket:Bucket").outputs["arn"]}
    role = any_stack.named("hipaa-backup-service", "aws:iam/role:Role")
    assert selection.inputs["iamRoleArn"] == role.outputs["arn"]
    attached = {a.inputs["policyArn"].removeprefix("arn:aws:iam::aws:policy/") for a in any_stack.of_type(
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment") if a.inputs["role"] == role.outputs["name"]}
    assert attached == set(MANAGED_POLICIES)


def test_plan_keeps_daily_35_days_and_monthly_a_year(any_stack):
    rules = {r["ruleName"]: r for r in any_stack.named("hipaa-backup", "aws:backup/plan:Plan").inputs["rules"]}
    assert rules["daily"]["lifecycle"]["deleteAfter"] == 35
    assert rules["monthly"]["lifecycle"]["deleteAfter"] == 365


def test_prod_copies_backups_to_a_vault_in_the_second_region(prod, staging):
    daily = next(r for r in prod.named("hipaa-backup", "aws:backup/plan:Plan").inputs["rules"]
                 if r["ruleName"] == "daily")
    copy_vault = prod.named("hipaa-backup-copy", "aws:backup/vault:Vault")
    assert copy_vault.inputs["region"] == "us-west-2"
    assert daily["copyActions"][0]["destinationVaultArn"] == copy_vault.outputs["arn"]
    copy_key = prod.named("hipaa-backup-copy", "aws:kms/key:Key")
    assert copy_vault.inputs["kmsKeyArn"] == copy_key.outputs["arn"]
    assert copy_key.inputs["region"] == "us-west-2" and copy_key.inputs["enableKeyRotation"] is True
    # RDS re-encrypts a snapshot copy in the destination region through the copy vault's key.
    assert "backup.us-west-2.amazonaws.com" in copy_key.inputs["policy"]
    assert "rds.us-west-2.amazonaws.com" in copy_key.inputs["policy"]
    staging_daily = next(r for r in staging.named("hipaa-backup", "aws:backup/plan:Plan").inputs["rules"]
                         if r["ruleName"] == "daily")
    assert not staging_daily.get("copyActions")

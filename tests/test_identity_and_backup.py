"""Account baseline, the least-privilege workload role, and backups."""

from __future__ import annotations

import json

from components.application.workforce_access import BREAK_GLASS
from components.environment.backup import MANAGED_POLICIES
from tests.aws_reference import moto_data_module
from tests.conftest import account_of, arn_of, owned_run, region_of
from tests.test_workforce_access import (
    ACCOUNT,
    _action_matches,
    _listed,
    allowed,
    grants,
    master_secret_of,
    matches,
    role_arn,
)

IAM_POLICY, ROLE = "aws:iam/policy:Policy", "aws:iam/role:Role"
ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
SSO_MANAGED_ATTACHMENT = "aws:ssoadmin/managedPolicyAttachment:ManagedPolicyAttachment"
METRIC_FILTER = "aws:cloudwatch/logMetricFilter:LogMetricFilter"


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
    """prod is an organization member: it sets the account's EBS, S3 and Auto Scaling defaults, while
    IAM Access Analyzer is the organization's analyzer; an owner (single account) has its own."""
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
    assert any_stack.of_type("aws:accessanalyzer/analyzer:Analyzer") == []
    (analyzer,) = owned_run("prod").of_type("aws:accessanalyzer/analyzer:Analyzer")
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
    actions = [a for s in statements for a in _listed(s["Action"])]
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
    assert by_sid["DatabaseIamAuth"]["Resource"] == (
        f"arn:aws:rds-db:{region_of(stack)}:{account_of(stack)}:dbuser:*/app_{stack}")
    # The application connects as its own database role; it never reads the master secret.
    assert set(by_sid) == {"PhiObjects", "PhiKeys", "DatabaseIamAuth"}
    assert "secretsmanager" not in json.dumps(statements)


def _could_allow(document: dict, action: str, resource: str, context: dict) -> bool:
    """Whether this document alone allows the request: its statements about other actions left out
    (they cannot decide it, and may use conditions the evaluator does not read)."""
    statements = [s for s in _listed(document["Statement"])
                  if "Action" not in s or _action_matches(s["Action"], action)]
    return allowed([{"Statement": statements}], action, resource, context)


def test_only_the_break_glass_role_may_read_the_master_secret(any_stack):
    """The RDS-managed secret is the rds_superuser credential. Every identity policy the stack creates
    (the Identity Center permission sets' included) and every AWS managed policy it attaches (moto's
    copy of AWS's list), evaluated on a request for this database's master secret: only the
    break-glass role's policy allows it, attached to that role only."""
    stack = any_stack.stack
    database = any_stack.named("hipaa-db", "aws:rds/instance:Instance")
    secret = database.outputs["masterUserSecrets"][0]["secretArn"]
    account = account_of(stack)
    assert secret.startswith(f"arn:aws:secretsmanager:{region_of(stack)}:{account}:secret:rds!db-")
    # RDS tags the secret it manages with its instance's ARN.
    this = master_secret_of(f"arn:aws:rds:{region_of(stack)}:{account}:db:{database.inputs['identifier']}")
    documents = {p.name: json.loads(p.inputs["policy"]) for p in any_stack.of_type(IAM_POLICY)}
    managed = json.loads(moto_data_module("iam/aws_managed_policies.py").aws_managed_policies_data)
    arns = {a.inputs["policyArn"] for a in any_stack.of_type(ATTACHMENT)} | {
        a.inputs["managedPolicyArn"] for a in any_stack.of_type(SSO_MANAGED_ATTACHMENT)}
    aws_managed = sorted(arn for arn in arns if arn.startswith("arn:aws:iam::aws:policy/"))
    assert aws_managed, "the stack attaches AWS managed policies: they are candidates too"
    documents |= {arn: managed[arn.rsplit("/", 1)[1]]["Document"] for arn in aws_managed}
    # The value, not its metadata: AWS Config's role (AWS_ConfigRole) describes every secret it records.
    readers = sorted(name for name, document in documents.items()
                     if _could_allow(document, "secretsmanager:GetSecretValue", secret, this))
    assert readers == ["hipaa-break-glass"]
    policy = any_stack.named("hipaa-break-glass", IAM_POLICY)
    role = any_stack.named("hipaa-break-glass", ROLE)
    assert [a.inputs["role"] for a in any_stack.of_type(ATTACHMENT)
            if a.inputs["policyArn"] == policy.outputs["arn"]] == [role.outputs["name"]]
    assert role.inputs["maxSessionDuration"] == 3600
    assert any_stack.stack_outputs["databaseIamUser"] == f"app_{stack}"


def test_the_break_glass_set_may_assume_the_role_whose_trust_admits_only_that_set(any_stack):
    """A trust naming the account delegates to the account's IAM: the caller still needs sts:AssumeRole
    on the role (IAM "Policy elements: Principal"). The break-glass permission set has it, no other set
    does, and the trust admits the role Identity Center provisions for that set only (aws:PrincipalArn
    of an assumed-role session is its role's ARN, path included: IAM "AWS global condition context
    keys"; Identity Center's roles live under aws-reserved/sso.amazonaws.com/, with a region for
    instances outside us-east-1)."""
    stack = any_stack.stack
    account = account_of(stack)
    run = owned_run(stack)  # the single-account shape, where the stack creates its own sets
    role = run.named("hipaa-break-glass", ROLE)
    arn = role_arn(role).replace(f"::{ACCOUNT}:", f"::{account}:")  # role_arn names prod's account
    assert arn == f"arn:aws:iam::{account}:role/hipaa-aws/{stack}/hipaa-aws-{stack}-db-break-glass"
    sets = grants(run, stack)
    assert {key for key, docs in sets.items() if allowed(docs, "sts:AssumeRole", arn)} == {BREAK_GLASS}

    trust = json.loads(role.inputs["assumeRolePolicy"])
    assert [s["Principal"] for s in trust["Statement"]] == [{"AWS": f"arn:aws:iam::{account}:root"}]
    sso = f"arn:aws:iam::{account}:role/aws-reserved/sso.amazonaws.com"
    for admitted in (f"{sso}/AWSReservedSSO_hipaa-{stack}-break-glass_7243976e43c75fc5",
                     f"{sso}/eu-west-1/AWSReservedSSO_hipaa-{stack}-break-glass_7243976e43c75fc5"):
        assert allowed([trust], "sts:AssumeRole", arn, {"aws:PrincipalArn": admitted}), admitted
    other = "staging" if stack == "prod" else "prod"
    for refused in (f"{sso}/AWSReservedSSO_hipaa-{stack}-read-only_7243976e43c75fc5",
                    f"{sso}/AWSReservedSSO_hipaa-{stack}-phi-operator_7243976e43c75fc5",
                    f"{sso}/AWSReservedSSO_hipaa-{other}-break-glass_7243976e43c75fc5",
                    f"arn:aws:iam::{account}:role/hipaa-aws/{stack}/"
                    f"AWSReservedSSO_hipaa-{stack}-break-glass_x",
                    f"arn:aws:iam::999999999999:role/aws-reserved/sso.amazonaws.com/"
                    f"AWSReservedSSO_hipaa-{stack}-break-glass_x",
                    f"arn:aws:iam::{account}:role/hipaa-aws/ci/hipaa-aws-{stack}-deploy"):
        assert not allowed([trust], "sts:AssumeRole", arn, {"aws:PrincipalArn": refused}), refused
    assert not allowed([trust], "sts:AssumeRole", arn)  # no principal ARN: nothing admitted


def test_the_alarm_fires_when_the_break_glass_set_assumes_the_role():
    """The one path to the secret is the role's assumption: the alarm's filter matches the AssumeRole
    event CloudTrail records when the set's session assumes the role (event shape: CloudTrail user
    guide, "Logging IAM and AWS STS API calls with AWS CloudTrail", AssumeRole example), refused
    attempts included, and not the assumption of another role. The alarm reads management events: it is
    the account owner's (single account); in an organization member it belongs on the organization
    trail's log group."""
    prod = owned_run("prod")
    pattern = prod.named("hipaa-alarms-database-break-glass-used", METRIC_FILTER).inputs["pattern"]
    sso_role = "AWSReservedSSO_hipaa-prod-break-glass_7243976e43c75fc5"

    def assume(role: str) -> dict:
        return {"eventSource": "sts.amazonaws.com", "eventName": "AssumeRole",
                "userIdentity": {
                    "type": "AssumedRole",
                    "arn": f"arn:aws:sts::123456789012:assumed-role/{sso_role}/alice@example.com",
                    "sessionContext": {"sessionIssuer": {
                        "type": "Role", "userName": sso_role,
                        "arn": f"arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/{sso_role}"}}},
                "requestParameters": {"roleArn": role, "roleSessionName": "alice"}}

    role = role_arn(prod.named("hipaa-break-glass", ROLE))
    assert matches(pattern, assume(role))
    assert matches(pattern, {**assume(role), "errorCode": "AccessDenied"})
    for other in ("arn:aws:iam::123456789012:role/hipaa-aws/prod/hipaa-aws-prod-db-access-task",
                  "arn:aws:iam::123456789012:role/hipaa-aws/ci/hipaa-aws-prod-deploy"):
        assert not matches(pattern, assume(other)), other
    assert not matches(pattern, {**assume(role), "eventName": "GetSecretValue"})


def test_backup_vault_is_encrypted_locked_and_the_phi_stores_are_selected(any_stack):
    vault = any_stack.named("hipaa-backup", "aws:backup/vault:Vault")
    assert vault.inputs["kmsKeyArn"] == arn_of(any_stack, "hipaa-keys-backup", "aws:kms/key:Key")
    lock = any_stack.named("hipaa-backup", "aws:backup/vaultLockConfiguration:VaultLockConfiguration")
    assert lock.inputs["backupVaultName"] == vault.outputs["name"]
    assert lock.inputs["minRetentionDays"] >= 7
    assert ("changeableForDays" in lock.inputs) is (any_stack.stack == "prod")  # COMPLIANCE mode
    assert bool(vault.inputs.get("forceDestroy")) is (any_stack.stack != "prod")
    # The application audit archive has its own selection in this plan (tests/test_app_audit_trail.py).
    selection = any_stack.named("hipaa-backup", "aws:backup/selection:Selection")
    assert set(selection.inputs["resources"]) == {
        any_stack.named("hipaa-db", "aws:rds/instance:Instance").outputs["arn"],
        any_stack.named("hipaa-phi-documents", "aws:s3/bucket:Bucket").outputs["arn"]}
    role = any_stack.named("hipaa-backup-service", "aws:iam/role:Role")
    assert selection.inputs["iamRoleArn"] == role.outputs["arn"]
    attached = {a.inputs["policyArn"].removeprefix("arn:aws:iam::aws:policy/") for a in any_stack.of_type(
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment") if a.inputs["role"] == role.outputs["name"]}
    assert attached == set(MANAGED_POLICIES)


def test_plan_keeps_daily_35_days_and_monthly_a_year(any_stack):
    plan = any_stack.named("hipaa-backup", "aws:backup/plan:Plan")
    rules = {r["ruleName"]: r for r in plan.inputs["rules"]}
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

"""AWS Backup: a locked, KMS-encrypted vault, daily and monthly plans, optional copy to a second region."""

from __future__ import annotations

import json
from dataclasses import dataclass
from collections.abc import Sequence
from typing import Optional

import pulumi
import pulumi_aws as aws

from components.aws_context import AwsContext

from components.key_ring import ROTATION_PERIOD_DAYS, KeyScope, key_policy, purpose
from components.policy_documents import service_trust_policy
from components.role_policy import iam_path

DAILY_RETENTION_DAYS = 35
MONTHLY_RETENTION_DAYS = 365
# Recovery points cannot be deleted before this, nor kept past the maximum, once locked.
LOCK_MIN_RETENTION_DAYS = 7
LOCK_MAX_RETENTION_DAYS = 400
# After this many days the COMPLIANCE lock is immutable (nobody, root included, can remove it).
LOCK_GRACE_DAYS = 3
# AWS's managed policies are not all under one path: the S3 ones are at the top level
# (tests check every managed ARN against AWS's list as shipped by moto).
MANAGED_POLICIES = (
    "service-role/AWSBackupServiceRolePolicyForBackup",
    "service-role/AWSBackupServiceRolePolicyForRestores",
    "AWSBackupServiceRolePolicyForS3Backup",
    "AWSBackupServiceRolePolicyForS3Restore",
)


@dataclass(frozen=True)
class BackupArgs:
    stack: str
    aws: AwsContext
    backup_key_arn: pulumi.Input[str]
    resource_arns: list[pulumi.Input[str]]
    """The PHI stores to back up (database, PHI bucket)."""
    holds_phi: bool
    key_administrators: Sequence[str]
    key_deletion_window_days: int
    copy_region: Optional[str] = None


class Backup(pulumi.ComponentResource):
    vault_name: pulumi.Output[str]
    """The locked primary vault."""
    plan_id: pulumi.Output[str]
    """The daily and monthly plan (a later layer's PHI store adds its own selection to it)."""
    role_arn: pulumi.Output[str]
    """The AWS Backup service role the plan's selections use."""

    def __init__(self, name: str, args: BackupArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("hipaa:components:Backup", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        ctx = args.aws

        vault = self._locked_vault(name, f"hipaa-aws-{args.stack}", args.backup_key_arn, args, None)
        self.vault_name = vault.name

        copy_actions = None
        if args.copy_region:
            copy_ctx = AwsContext(ctx.account_id, args.copy_region, ctx.partition, ctx.dns_suffix)
            copy_key = aws.kms.Key(
                f"{name}-copy", region=args.copy_region,
                description=f"hipaa-aws {args.stack}: AWS Backup copies in {args.copy_region}",
                enable_key_rotation=True, rotation_period_in_days=ROTATION_PERIOD_DAYS,
                deletion_window_in_days=args.key_deletion_window_days,
                policy=json.dumps(key_policy(KeyScope(copy_ctx, args.stack), purpose("backup"),
                                             args.key_administrators)), opts=child)
            copy_vault = self._locked_vault(f"{name}-copy", f"hipaa-aws-{args.stack}-copy",
                                            copy_key.arn, args, args.copy_region)
            copy_actions = [aws.backup.PlanRuleCopyActionArgs(
                destination_vault_arn=copy_vault.arn,
                lifecycle=aws.backup.PlanRuleCopyActionLifecycleArgs(delete_after=DAILY_RETENTION_DAYS))]

        plan = aws.backup.Plan(name, name=f"hipaa-aws-{args.stack}", rules=[
            aws.backup.PlanRuleArgs(
                rule_name="daily", target_vault_name=vault.name,
                schedule="cron(0 5 ? * * *)", start_window=60, completion_window=360,
                lifecycle=aws.backup.PlanRuleLifecycleArgs(delete_after=DAILY_RETENTION_DAYS),
                copy_actions=copy_actions),
            aws.backup.PlanRuleArgs(
                rule_name="monthly", target_vault_name=vault.name,
                schedule="cron(0 6 1 * ? *)", start_window=60, completion_window=720,
                lifecycle=aws.backup.PlanRuleLifecycleArgs(delete_after=MONTHLY_RETENTION_DAYS)),
        ], opts=child)

        role = aws.iam.Role(f"{name}-service", description="AWS Backup service role",
                            path=iam_path(args.stack),
                            assume_role_policy=service_trust_policy("backup.amazonaws.com", ctx),
                            opts=child)
        attachments = [aws.iam.RolePolicyAttachment(
            f"{name}-{policy.rsplit('/', 1)[-1]}", role=role.name,
            policy_arn=f"arn:{ctx.partition}:iam::aws:policy/{policy}", opts=child)
            for policy in MANAGED_POLICIES]
        # Every argument of a selection is create-only (AWS Backup has no UpdateBackupSelection):
        # adding a store replaces it under the same name (AlreadyExistsException). It holds no
        # data, only the assignment, so the old one goes first (the gap is seconds between two
        # daily or monthly jobs), and it is not protected with the rest of a PHI stack's backup:
        # Pulumi refuses to replace a protected resource, and adding a PHI store must not fail.
        self.plan_id, self.role_arn = plan.id, role.arn
        aws.backup.Selection(
            name, name=f"hipaa-aws-{args.stack}-phi-stores", plan_id=plan.id,
            iam_role_arn=role.arn, resources=args.resource_arns,
            opts=pulumi.ResourceOptions(parent=self, depends_on=attachments, protect=False,
                                        delete_before_replace=True))
        self.register_outputs({"vault_name": self.vault_name})

    def _locked_vault(self, name: str, vault_name: str, key_arn: pulumi.Input[str],
                      args: BackupArgs, region: Optional[str]) -> aws.backup.Vault:
        child = pulumi.ResourceOptions(parent=self)
        # A synthetic stack's vault is emptied by `pulumi destroy` (its lock is GOVERNANCE and
        # is removed first); a PHI stack's vault is protected and COMPLIANCE-locked.
        # The key is create-only (CreateBackupVault EncryptionKeyArn; no update call takes it) and
        # the plan names the vault: a new key replaces the vault under the same name, so the old
        # one goes first (AlreadyExistsException otherwise). Only where its recovery points are
        # synthetic; a PHI stack's vault is protected, and Pulumi refuses to replace it at all.
        vault = aws.backup.Vault(name, name=vault_name, kms_key_arn=key_arn, region=region,
                                 force_destroy=not args.holds_phi,
                                 opts=pulumi.ResourceOptions(parent=self,
                                                             delete_before_replace=not args.holds_phi))
        aws.backup.VaultLockConfiguration(
            name, backup_vault_name=vault.name, region=region,
            min_retention_days=LOCK_MIN_RETENTION_DAYS, max_retention_days=LOCK_MAX_RETENTION_DAYS,
            # COMPLIANCE mode (immutable after the grace period) where PHI is held;
            # GOVERNANCE mode elsewhere so a synthetic vault can still be retired.
            changeable_for_days=LOCK_GRACE_DAYS if args.holds_phi else None,
            opts=child)
        return vault

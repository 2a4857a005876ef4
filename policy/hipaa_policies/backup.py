"""AWS Backup: encrypted, locked vaults; plans with enough retention; every PHI store in a plan."""

from __future__ import annotations

from collections.abc import Iterable

from .framework import (
    DATA_BACKUP, ENCRYPTION_AT_REST, INTEGRITY, Metadata, Resource, Stack,
    is_unknown, resource_policy, stack_policy,
)
from .phi_stores import BACKUP_SUPPORTED, PHI_STORE_SCHEMA, holds_phi, phi_stores

VAULT = ("aws:backup/vault:Vault",)
LOCK = ("aws:backup/vaultLockConfiguration:VaultLockConfiguration",)
PLAN = ("aws:backup/plan:Plan",)
SELECTION = ("aws:backup/selection:Selection",)
# AWS Config rules of the HIPAA conformance pack that a PHI store outside every backup plan breaks.
BACKUP_RULES = ("rds-in-backup-plan", "aurora-resources-protected-by-backup-plan", "dynamodb-in-backup-plan",
                "efs-in-backup-plan", "ebs-in-backup-plan", "ec2-resources-protected-by-backup-plan")


def _vault(r: Resource) -> Iterable[str]:
    if not r.props.customer_key("kmsKeyArn"):
        yield "Set kmsKeyArn to the backup key."


def _plan(r: Resource) -> Iterable[str]:
    minimum = r.config["minimumRetentionDays"]
    rules = list(r.props.each("rules"))
    # A rule without lifecycle.deleteAfter keeps its recovery points forever.
    if not any(not rule.is_set("lifecycle", "deleteAfter") or (rule.number("lifecycle", "deleteAfter") or 0) >= minimum
               for rule in rules):
        yield f"Keep at least one rule's recovery points {minimum} days or more (lifecycle.deleteAfter)."


def _locked(stack: Stack) -> Iterable[tuple[str, str]]:
    for vault in stack.of_type(*VAULT):
        def check(vault=vault) -> Iterable[str]:
            if not stack.attached(vault, LOCK, "backupVaultName", literal=vault.props.get("name")):
                yield "Attach a VaultLockConfiguration so recovery points cannot be deleted early."
        yield from stack.judge(vault, check)


def _selects_everything(selection: Resource) -> bool:
    """A selection of resources ["*"] (narrowed by conditions) covers every supported resource."""
    if selection.props.is_unknown("resources"):
        return False
    return "*" in [r for r in (selection.props.get("resources") or []) if not is_unknown(r)]


def _selected(stack: Stack) -> Iterable[tuple[str, str]]:
    """Every PHI store AWS Backup can protect is in a selection: by its ARN (a dependency or the
    known ARN), by every resource ("*"), or by tags it carries."""
    selections = stack.of_type(*SELECTION)
    for store in phi_stores(stack, BACKUP_SUPPORTED):
        def check(store=store) -> Iterable[str]:
            if not holds_phi(stack, store):
                return
            arn = store.props.get("arn") if not store.props.is_unknown("arn") else None
            for selection in selections:
                if selection.depends_on(store, "resources") or _selects_everything(selection):
                    return
                if arn and arn in [r for r in (selection.props.get("resources") or []) if not is_unknown(r)]:
                    return
                wanted = {t.get("key"): t.get("value") for t in selection.props.each("selectionTags")}
                if wanted and all(store.tags.get(k) == v for k, v in wanted.items()):
                    return
            yield (f"Add this PHI data store to an AWS Backup selection (AWS Backup protects "
                   f"{BACKUP_SUPPORTED[store.type]}), or name it in notPhiStores with the reason it holds no PHI.")
        yield from stack.judge(store, check)


POLICIES = [
    resource_policy(Metadata("aws-backup-vault-customer-key", "Backup vaults must encrypt recovery points with a customer-managed key.",
                             ENCRYPTION_AT_REST, "Set kmsKeyArn to the backup key.",
                             config_rules=("backup-recovery-point-encrypted",), service="backup"), VAULT, _vault),
    resource_policy(Metadata("aws-backup-plan-retention", "Backup plans must keep recovery points long enough.",
                             DATA_BACKUP, "Add a daily rule with lifecycle.deleteAfter of 35 days or more.",
                             config_rules=("backup-plan-min-frequency-and-min-retention-check",), service="backup",
                             config={"minimumRetentionDays": {"type": "integer", "minimum": 1, "default": 35,
                                                              "description": "Longest rule retention must reach this."}}),
                    PLAN, _plan),
    stack_policy(Metadata("aws-backup-vault-locked", "Backup vaults must be locked against early deletion.",
                          INTEGRITY, "Attach aws.backup.VaultLockConfiguration.",
                          config_rules=("backup-recovery-point-manual-deletion-disabled",), service="backup"), _locked),
    stack_policy(Metadata("aws-backup-phi-store-in-plan", "Every PHI data store must be in a backup plan.",
                          DATA_BACKUP, "Select the resource in an aws.backup.Selection (by ARN or tags).",
                          config_rules=BACKUP_RULES, config=PHI_STORE_SCHEMA,
                          service="backup"), _selected),
]

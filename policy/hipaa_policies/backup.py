"""AWS Backup: encrypted, locked vaults; plans with enough retention; every PHI store in a plan."""

from __future__ import annotations

from collections.abc import Iterable

from .framework import (
    DATA_BACKUP, ENCRYPTION_AT_REST, HOLDS_PHI_SCHEMA, INTEGRITY, Metadata, Resource, Stack,
    is_unknown, resource_policy, stack_policy,
)

VAULT = ("aws:backup/vault:Vault",)
LOCK = ("aws:backup/vaultLockConfiguration:VaultLockConfiguration",)
PLAN = ("aws:backup/plan:Plan",)
SELECTION = ("aws:backup/selection:Selection",)
DATA_STORES = {
    "aws:rds/instance:Instance": "rds-in-backup-plan",
    "aws:rds/cluster:Cluster": "aurora-resources-protected-by-backup-plan",
    "aws:dynamodb/table:Table": "dynamodb-in-backup-plan",
    "aws:efs/fileSystem:FileSystem": "efs-in-backup-plan",
    "aws:ebs/volume:Volume": "ebs-in-backup-plan",
    "aws:ec2/instance:Instance": "ec2-resources-protected-by-backup-plan",
    "aws:s3/bucket:Bucket": None,
}


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
    selections = stack.of_type(*SELECTION)
    for store in stack.of_type(*DATA_STORES):
        def check(store=store) -> Iterable[str]:
            tags = store.tags
            if not (stack.holds_phi or str(tags.get("DataClassification")) == "phi"):
                return
            if store.type == "aws:s3/bucket:Bucket" and tags.get("Purpose") not in (None, "phi-documents"):
                return  # log and evidence buckets are WORM or replaceable; PHI buckets are backed up
            for selection in selections:
                if selection.depends_on(store, "resources") or _selects_everything(selection):
                    return
                wanted = {t.get("key"): t.get("value") for t in selection.props.each("selectionTags")}
                if wanted and all(store.tags.get(k) == v for k, v in wanted.items()):
                    return
            yield "Add this PHI data store to an AWS Backup selection."
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
                          config_rules=tuple(r for r in DATA_STORES.values() if r), config=HOLDS_PHI_SCHEMA,
                          service="backup"), _selected),
]

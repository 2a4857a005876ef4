"""ElastiCache: encrypted at rest and in transit; Redis/Valkey snapshots kept."""

from __future__ import annotations

from collections.abc import Iterable

from .framework import DATA_BACKUP, ENCRYPTION_AT_REST, Resource, resource_policy, policy_meta

REPLICATION_GROUP = ("aws:elasticache/replicationGroup:ReplicationGroup",)
CACHE_CLUSTER = ("aws:elasticache/cluster:Cluster",)


def _elasticache(r: Resource) -> Iterable[str]:
    if r.props.bool("atRestEncryptionEnabled") is not True:
        yield "Set atRestEncryptionEnabled to true."
    if not r.props.customer_key("kmsKeyId"):
        yield "Set kmsKeyId to a customer-managed key."
    if r.props.bool("transitEncryptionEnabled") is not True:
        yield "Set transitEncryptionEnabled to true."
    # "preferred" accepts unencrypted connections too; it exists only to migrate clients (SDK docstring).
    if r.props.str("transitEncryptionMode") == "preferred":
        yield "Set transitEncryptionMode to required (preferred also accepts unencrypted connections)."


def _cache_backups(r: Resource) -> Iterable[str]:
    engine = r.props.get("engine")
    if r.type in CACHE_CLUSTER and engine not in ("redis", "valkey"):
        return
    minimum = r.config["minimumSnapshotRetentionDays"]
    days = r.props.number("snapshotRetentionLimit")
    if days is None or days < minimum:
        yield f"Set snapshotRetentionLimit to at least {minimum}."


POLICIES = [
    resource_policy(policy_meta("aws-elasticache-encrypted", "ElastiCache replication groups must encrypt at rest (customer key) and in transit.",
                          ENCRYPTION_AT_REST, "Set atRestEncryptionEnabled, kmsKeyId and transitEncryptionEnabled.",
                          "elasticache"), REPLICATION_GROUP, _elasticache),
    resource_policy(policy_meta("aws-elasticache-redis-backups", "Redis/Valkey caches must keep automatic snapshots.",
                          DATA_BACKUP, "Set snapshotRetentionLimit.", "elasticache",
                          ["elasticache-redis-cluster-automatic-backup-check"],
                          config={"minimumSnapshotRetentionDays": {"type": "integer", "minimum": 1, "default": 7,
                                                                   "description": "Shortest snapshot retention."}}),
                    REPLICATION_GROUP + CACHE_CLUSTER, _cache_backups),
]

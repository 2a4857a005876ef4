"""The PHI boundary. Whether a stack may hold PHI comes from its pack config file (holdsPhi),
never from resource tags alone: a synthetic stack refuses anything classified PHI and every
path that copies data in from elsewhere; a PHI stack protects its stateful PHI stores."""

from __future__ import annotations

from collections.abc import Iterable

from . import documents as doc
from .framework import (
    ACCESS_CONTROL, DISASTER_RECOVERY, HOLDS_PHI_SCHEMA, INFORMATION_ACCESS, Metadata, Resource,
    resource_policy,
)

# internal: operational data that is neither PHI nor test data (e.g. the Pulumi state backend).
CLASSIFICATIONS = ("phi", "synthetic", "internal")
STATEFUL_STORES = ("aws:rds/instance:Instance", "aws:rds/cluster:Cluster", "aws:s3/bucket:Bucket",
                   "aws:s3/bucketV2:BucketV2", "aws:dynamodb/table:Table", "aws:efs/fileSystem:FileSystem",
                   "aws:ebs/volume:Volume", "aws:backup/vault:Vault", "aws:redshift/cluster:Cluster",
                   "aws:opensearch/domain:Domain", "aws:elasticache/replicationGroup:ReplicationGroup")
# Inputs that fill a new store from existing data, which in a synthetic stack may be PHI.
COPY_INPUTS = {
    "aws:rds/instance:Instance": ("snapshotIdentifier", "restoreToPointInTime", "replicateSourceDb", "s3Import"),
    "aws:rds/cluster:Cluster": ("snapshotIdentifier", "restoreToPointInTime", "replicationSourceIdentifier", "s3Import"),
    "aws:dynamodb/table:Table": ("restoreSourceName", "restoreSourceTableArn", "importTable"),
    "aws:ebs/volume:Volume": ("snapshotId",),
    "aws:elasticache/replicationGroup:ReplicationGroup": ("snapshotName", "snapshotArns"),
    "aws:elasticache/cluster:Cluster": ("snapshotName", "snapshotArns"),
    "aws:redshift/cluster:Cluster": ("snapshotIdentifier", "snapshotClusterIdentifier"),
    "aws:docdb/cluster:Cluster": ("snapshotIdentifier", "restoreToPointInTime"),
    "aws:neptune/cluster:Cluster": ("snapshotIdentifier",),
}
# Resources whose only job is to copy data between places.
COPY_RESOURCES = ("aws:s3/bucketReplicationConfig:BucketReplicationConfig",
                  "aws:rds/snapshotCopy:SnapshotCopy", "aws:rds/clusterSnapshotCopy:ClusterSnapshotCopy",
                  "aws:ebs/snapshotCopy:SnapshotCopy", "aws:ebs/snapshotImport:SnapshotImport",
                  "aws:dms/replicationTask:ReplicationTask", "aws:datasync/task:Task",
                  "aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication")
POLICY_BEARERS = {"aws:s3/bucketPolicy:BucketPolicy": "policy", "aws:iam/policy:Policy": "policy",
                  "aws:iam/rolePolicy:RolePolicy": "policy", "aws:kms/key:Key": "policy",
                  "aws:sns/topicPolicy:TopicPolicy": "policy", "aws:sqs/queuePolicy:QueuePolicy": "policy"}
PHI_PATTERNS = {"phiResourcePatterns": {
    "type": "array", "items": {"type": "string"}, "default": [],
    "description": "ARN patterns (fnmatch) of PHI environments that a synthetic stack must never reference.",
}}


def _meta(name, description, control, remediation, config, **kw) -> Metadata:
    return Metadata(name, description, control, remediation, config=config, service="phi", **kw)


def _no_phi_here(r: Resource) -> Iterable[str]:
    if r.holds_phi:
        return
    if str(r.props.map("tags").get("DataClassification", "")).lower() == "phi":
        yield ("Remove this PHI-classified resource: this stack's pack config says it holds no PHI "
               "(holdsPhi is false).")


def _classified(r: Resource) -> Iterable[str]:
    if not r.props.is_set("tags"):
        if r.type in STATEFUL_STORES:
            yield "Tag this data store with DataClassification phi, synthetic or internal."
        return
    value = r.props.map("tags").get("DataClassification")
    if value not in CLASSIFICATIONS:
        yield "Set tags.DataClassification to phi, synthetic or internal."


def _no_copy_in(r: Resource) -> Iterable[str]:
    if r.holds_phi:
        return
    if r.type in COPY_RESOURCES:
        yield "Remove this copy or replication: a stack without PHI is filled with synthetic data only."
        return
    for key in COPY_INPUTS.get(r.type, ()):
        if r.props.is_set(key):
            yield f"Remove {key}: a stack without PHI must not restore or import data from elsewhere."


def _no_reach(r: Resource) -> Iterable[str]:
    if r.holds_phi:
        return
    document = r.props.document(POLICY_BEARERS[r.type])
    hits = [p for p in r.config.get("phiResourcePatterns") or [] if doc.mentions(document, p)]
    if hits:
        yield f"Remove references to PHI resources ({', '.join(hits)}) from this policy."


def _protected(r: Resource) -> Iterable[str]:
    if not r.holds_phi:
        return
    if r.protect is not True:
        yield "Set protect=True on this stateful PHI store (ResourceOptions(protect=True))."


POLICIES = [
    resource_policy(_meta("hipaa-no-phi-in-synthetic-stack", "A stack configured without PHI must not contain resources classified PHI.",
                          INFORMATION_ACCESS, "Deploy PHI resources only to a stack whose pack config sets holdsPhi=true.",
                          HOLDS_PHI_SCHEMA), None, _no_phi_here),
    resource_policy(_meta("hipaa-data-classification-tagged", "Data stores must say whether they hold PHI (DataClassification tag).",
                          INFORMATION_ACCESS, "Tag with DataClassification=phi, synthetic or internal (the stack transform does this).", {}),
                    STATEFUL_STORES, _classified),
    resource_policy(_meta("hipaa-no-data-copied-into-synthetic-stack", "A stack without PHI must not restore, replicate or import data from elsewhere.",
                          INFORMATION_ACCESS, "Seed synthetic data; restores and replication belong to PHI stacks.",
                          HOLDS_PHI_SCHEMA), tuple(COPY_INPUTS) + COPY_RESOURCES, _no_copy_in),
    resource_policy(_meta("hipaa-no-phi-access-from-synthetic-stack", "Policies in a stack without PHI must not reference PHI environments.",
                          ACCESS_CONTROL, "Remove the reference; synthetic environments never reach PHI resources.",
                          {**HOLDS_PHI_SCHEMA, **PHI_PATTERNS}), tuple(POLICY_BEARERS), _no_reach),
    resource_policy(_meta("hipaa-phi-store-protected", "Stateful PHI stores in a PHI stack must be protected from deletion by Pulumi.",
                          DISASTER_RECOVERY, "Pass opts=ResourceOptions(protect=True) (the environment does this for PHI stores).",
                          HOLDS_PHI_SCHEMA), STATEFUL_STORES, _protected),
]

"""Every PHI store of the stack, not only the ones this project ships, is backed up and audited.

Which resources hold PHI: in a stack whose pack config says it holds PHI, every resource that keeps
data; elsewhere, any resource tagged `DataClassification=phi` (which a synthetic stack refuses
anyway). The exceptions are declared by logical name in the pack config (`notPhiStores`, each with a
reason: the log and evidence buckets), never inferred from a tag such as `Purpose`, which anyone
who can edit the program can set on a PHI bucket.

Which resources keep data, for backups: the types AWS Backup protects (GetSupportedResourceTypes:
Aurora, DocumentDB, DynamoDB, EBS, EC2, EFS, EKS, FSx, Neptune, RDS, Redshift, S3, Storage
Gateway, Timestream; CloudFormation stacks, SAP HANA and VMware machines are not pulumi-aws data
stores), mapped to the pulumi-aws types that hold the data. A PHI store AWS Backup cannot protect
(ElastiCache, OpenSearch, queues...) is judged by its own backup rule (aws-data-backup-enabled).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from .framework import HOLDS_PHI_SCHEMA, Resource, Stack, is_unknown

# https://docs.aws.amazon.com/aws-backup/latest/devguide/API_GetSupportedResourceTypes.html
BACKUP_SUPPORTED = {
    "aws:rds/instance:Instance": "RDS",
    "aws:rds/cluster:Cluster": "Aurora",
    "aws:docdb/cluster:Cluster": "DocumentDB",
    "aws:neptune/cluster:Cluster": "Neptune",
    "aws:dynamodb/table:Table": "DynamoDB",
    "aws:ebs/volume:Volume": "EBS",
    "aws:ec2/instance:Instance": "EC2",
    "aws:efs/fileSystem:FileSystem": "EFS",
    "aws:eks/cluster:Cluster": "EKS",
    "aws:fsx/lustreFileSystem:LustreFileSystem": "FSx",
    "aws:fsx/windowsFileSystem:WindowsFileSystem": "FSx",
    "aws:fsx/openZfsFileSystem:OpenZfsFileSystem": "FSx",
    "aws:fsx/ontapVolume:OntapVolume": "FSx",
    "aws:redshift/cluster:Cluster": "Redshift",
    "aws:s3/bucket:Bucket": "S3",
    "aws:s3/bucketV2:BucketV2": "S3",
    "aws:storagegateway/cachesIscsiVolume:CachesIscsiVolume": "Storage Gateway",
    "aws:storagegateway/storedIscsiVolume:StoredIscsiVolume": "Storage Gateway",
    "aws:timestreamwrite/table:Table": "Timestream",
}
BUCKETS = ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2")

NOT_PHI_SCHEMA = {"notPhiStores": {
    "type": "array", "default": [],
    "items": {"type": "object", "required": ["name", "reason"],
              "properties": {"name": {"type": "string", "minLength": 1},
                             "reason": {"type": "string", "minLength": 1}}},
    "description": "Data stores of a PHI stack that hold no PHI, by logical (Pulumi) name, each with the "
                   "reason: the log and evidence buckets. Everything else that keeps data is PHI.",
}}
PHI_STORE_SCHEMA = {**HOLDS_PHI_SCHEMA, **NOT_PHI_SCHEMA}


def declared_not_phi(config: Mapping[str, Any]) -> frozenset[str]:
    entries = config.get("notPhiStores") or []
    return frozenset(str(e.get("name")) for e in entries if isinstance(e, Mapping) and e.get("name"))


def holds_phi(stack: Stack, store: Resource) -> bool:
    """Whether `store` is a PHI store (raises UnknownValueError on an unknown tag outside a PHI stack)."""
    if store.name in declared_not_phi(stack.config):
        return False
    if stack.holds_phi:
        return True
    return str(store.tags.get("DataClassification")) == "phi"


def phi_stores(stack: Stack, types: Iterable[str]) -> list[Resource]:
    """The resources of `types` to judge: in a PHI stack all but the declared ones; elsewhere all
    (the tag is read inside each resource's judgement, so an unknown tag leaves it unjudged)."""
    exempt = declared_not_phi(stack.config)
    return [r for r in stack.of_type(*types) if r.name not in exempt]


def literal_names(value: Any) -> list[str]:
    """Known strings inside a (possibly nested) value; unknowns are skipped."""
    if isinstance(value, str):
        return [] if is_unknown(value) else [value]
    if isinstance(value, Mapping):
        return [s for v in value.values() for s in literal_names(v)]
    if isinstance(value, list):
        return [s for v in value for s in literal_names(v)]
    return []

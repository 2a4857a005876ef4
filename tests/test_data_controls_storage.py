"""The control-family rules of the storage services (policy/hipaa_policies/data/controls/storage.json),
driven over the Analyzer protocol: S3 side resources, S3 Tables and Vectors, EBS snapshots, EC2 images
and spot requests, EFS, FSx, AWS Backup, Glacier, Storage Gateway, DataSync, Transfer Family, DLM, DRS.

For each type with rules: the compliant form of every variant botocore's model lists passes; each rule,
read from the JSON, has a violating mutation that reports the rule's own fix text; an unknown value at
each rule's path leaves the policy "not judged"; and what AWS does when an input is absent is pinned
below by hand, with its source. The compliant forms are written by hand: they are the claim.

Sources of the AWS facts pinned here:
- botocore `fsx`: CreateFileSystem{Lustre,Ontap,OpenZFS,Windows}Configuration.DeploymentType enums;
  AutomaticBackupRetentionDays "The default is 0" (Lustre) / "The default is 30" (ONTAP, OpenZFS,
  Windows); WindowsAuditLogCreateConfiguration levels (DISABLED, SUCCESS_ONLY, FAILURE_ONLY,
  SUCCESS_AND_FAILURE); CreateFileCacheRequest.KmsKeyId "If a KmsKeyId isn't specified, the Amazon
  FSx-managed KMS key for your account is used". pulumi-aws `fsx.WindowsFileSystem` docstring
  (automatic_backup_retention_days "Defaults to 7"), `fsx.LustreFileSystem` (kms_key_id "applicable for
  PERSISTENT_1 and PERSISTENT_2 ... Defaults to an AWS managed KMS Key"). AWS "Data encryption in
  Amazon FSx for Lustre": scratch file systems are encrypted with keys managed by Amazon FSx
  (https://docs.aws.amazon.com/fsx/latest/LustreGuide/encryption-fsxl.html).
- botocore `datasync` EfsInTransitEncryption (NONE, TLS1_2); `transfer` EndpointType (PUBLIC, VPC,
  VPC_ENDPOINT) and Protocol (SFTP, FTP, FTPS, AS2); pulumi-aws `transfer.Server` docstring
  (endpoint_type "Defaults to PUBLIC", protocols "defaults to SFTP", FTP "unencrypted file transfer").
- botocore `drs` ReplicationConfigurationEbsEncryption (DEFAULT, CUSTOM, NONE).
- pulumi-aws `ec2.AmiCopy` (encrypted "Defaults to false"; kms_key_id "If not specified, then the
  default AWS KMS Key will be used"), `ebs.SnapshotImport` ("The default KMS key for EBS is used
  unless you specify a non-default KMS key"), `storagegateway.NfsFileShare` (kms_encrypted "Defaults
  to false", false = "a key managed by Amazon S3").
- AWS "Specifying server-side encryption with AWS KMS keys (SSE-KMS) in table buckets": SSE-S3 is the
  default of every table bucket (https://docs.aws.amazon.com/AmazonS3/latest/userguide/s3-tables-kms-specify.html);
  S3 Vectors EncryptionConfiguration: SSE-S3 (AES256) by default, an index may override its bucket's
  (https://docs.aws.amazon.com/AmazonS3/latest/API/API_S3VectorBuckets_EncryptionConfiguration.html).
- AWS "Website endpoints": S3 website endpoints do not support HTTPS
  (https://docs.aws.amazon.com/AmazonS3/latest/userguide/WebsiteEndpoints.html).
- AWS "Control access to VPC endpoints" is not used here: endpoint policies are explained, not judged
  (docs/coverage/not_applicable/storage.yaml).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.data_controls_harness import DELETE, POLICY, policy_document, rule_tests, rules_of, set_path
from tests.policy_cases import KEY_ARN

RULES = rules_of("storage")
AWS_MANAGED_KEY = "arn:aws:kms:us-east-1:123456789012:alias/aws/fsx"
ACCOUNT_POLICY = policy_document({"AWS": "arn:aws:iam::123456789012:role/app"})
ORG_POLICY = policy_document("*", condition={"StringEquals": {"aws:PrincipalOrgID": "o-abc123def4"}})
LOG_GROUP = "arn:aws:logs:us-east-1:123456789012:log-group:/aws/fsx/windows:*"
ROLE = "arn:aws:iam::123456789012:role/transfer-logging"
DEVICE = {"deviceName": "/dev/sdf", "encrypted": True, "kmsKeyId": KEY_ARN}
ROOT = {"encrypted": True, "kmsKeyId": KEY_ARN}
KMS_ON = {"sseAlgorithm": "aws:kms", "kmsKeyArn": KEY_ARN}
PAB = {
    "blockPublicAcls": True,
    "blockPublicPolicy": True,
    "ignorePublicAcls": True,
    "restrictPublicBuckets": True,
}


def _fsx(extra: dict) -> dict:
    return {"subnetIds": ["subnet-1"], "storageCapacity": 1200, "kmsKeyId": KEY_ARN, **extra}


# The compliant form of every type with rules, one entry per variant its `when` switches (or botocore
# enumerates); a variant that cannot have a control passes without it.
COMPLIANT: dict[str, list[tuple[str, dict]]] = {
    "aws:backup/logicallyAirGappedVault:LogicallyAirGappedVault": [
        ("customer-key", {"minRetentionDays": 7, "maxRetentionDays": 2192, "encryptionKeyArn": KEY_ARN})
    ],
    "aws:backup/vaultPolicy:VaultPolicy": [
        ("account", {"backupVaultName": "v", "policy": ACCOUNT_POLICY}),
        ("organization", {"backupVaultName": "v", "policy": ORG_POLICY}),
    ],
    "aws:datasync/efsLocation:EfsLocation": [
        (
            "tls",
            {
                "efsFileSystemArn": "arn:aws:elasticfilesystem:us-east-1:123456789012:file-system/fs-1",
                "inTransitEncryption": "TLS1_2",
                "ec2Config": {"subnetArn": "s", "securityGroupArns": ["g"]},
            },
        )
    ],
    "aws:dlm/lifecyclePolicy:LifecyclePolicy": [
        (
            "snapshot-schedule",
            {
                "executionRoleArn": ROLE,
                "description": "d",
                "policyDetails": {
                    "resourceTypes": ["VOLUME"],
                    "schedules": [
                        {
                            "name": "daily",
                            "createRule": {"interval": 24},
                            "retainRule": {"count": 14},
                            "crossRegionCopyRules": [
                                {"target": "us-west-2", "encrypted": True, "cmkArn": KEY_ARN}
                            ],
                        }
                    ],
                },
            },
        ),
        (
            "event-based",
            {
                "executionRoleArn": ROLE,
                "description": "d",
                "policyDetails": {
                    "policyType": "EVENT_BASED_POLICY",
                    "action": {
                        "name": "copy",
                        "crossRegionCopies": [
                            {
                                "target": "us-west-2",
                                "encryptionConfiguration": {"encrypted": True, "cmkArn": KEY_ARN},
                            }
                        ],
                    },
                },
            },
        ),
        (
            "no-cross-region-copy",
            {
                "executionRoleArn": ROLE,
                "description": "d",
                "policyDetails": {
                    "resourceTypes": ["VOLUME"],
                    "schedules": [
                        {"name": "daily", "createRule": {"interval": 24}, "retainRule": {"count": 14}}
                    ],
                },
            },
        ),
    ],
    "aws:drs/replicationConfigurationTemplate:ReplicationConfigurationTemplate": [
        ("custom-key", {"ebsEncryption": "CUSTOM", "ebsEncryptionKeyArn": KEY_ARN, "createPublicIp": False})
    ],
    "aws:ebs/snapshotImport:SnapshotImport": [
        ("customer-key", {"diskContainer": {"format": "VHD"}, "encrypted": True, "kmsKeyId": KEY_ARN})
    ],
    "aws:ec2/amiCopy:AmiCopy": [
        (
            "customer-key",
            {"sourceAmiId": "ami-1", "sourceAmiRegion": "us-west-2", "encrypted": True, "kmsKeyId": KEY_ARN},
        )
    ],
    "aws:ec2/ami:Ami": [
        (
            "from-snapshots",
            {
                "name": "a",
                "rootDeviceName": "/dev/xvda",
                "ebsBlockDevices": [
                    {"deviceName": "/dev/xvda", "snapshotId": "snap-1"},
                    {"deviceName": "/dev/sdf", "encrypted": True, "volumeSize": 8},
                ],
            },
        ),
        # A blank device left unset is encrypted by EBS encryption by default
        # (judged on aws:ebs/encryptionByDefault).
        (
            "blank-device-default",
            {
                "name": "a",
                "rootDeviceName": "/dev/xvda",
                "ebsBlockDevices": [
                    {"deviceName": "/dev/xvda", "snapshotId": "snap-1"},
                    {"deviceName": "/dev/sdf", "volumeSize": 8},
                ],
            },
        ),
    ],
    "aws:ec2/defaultSubnet:DefaultSubnet": [
        ("private", {"availabilityZone": "us-east-1a", "mapPublicIpOnLaunch": False})
    ],
    "aws:ec2/spotInstanceRequest:SpotInstanceRequest": [
        (
            "devices",
            {
                "ami": "ami-1",
                "instanceType": "t3.micro",
                "associatePublicIpAddress": False,
                "rootBlockDevice": ROOT,
                "ebsBlockDevices": [DEVICE],
            },
        ),
        ("root-only", {"ami": "ami-1", "instanceType": "t3.micro", "rootBlockDevice": ROOT}),
        # A device restored from a snapshot takes the snapshot's encryption; AWS refuses an encryption
        # value beside a snapshot ID (EC2 API, SpotFleetLaunchSpecification.BlockDeviceMappings).
        (
            "device-from-snapshot",
            {
                "ami": "ami-1",
                "instanceType": "t3.micro",
                "rootBlockDevice": ROOT,
                "ebsBlockDevices": [DEVICE, {"deviceName": "/dev/sdg", "snapshotId": "snap-1"}],
            },
        ),
    ],
    "aws:ec2/spotFleetRequest:SpotFleetRequest": [
        (
            "launch-specifications",
            {
                "iamFleetRole": ROLE,
                "targetCapacity": 1,
                "launchSpecifications": [
                    {
                        "ami": "ami-1",
                        "instanceType": "t3.micro",
                        "associatePublicIpAddress": False,
                        "rootBlockDevices": [ROOT],
                        "ebsBlockDevices": [DEVICE],
                    }
                ],
            },
        ),
        (
            "launch-template",
            {
                "iamFleetRole": ROLE,
                "targetCapacity": 1,
                "launchTemplateConfigs": [{"launchTemplateSpecification": {"id": "lt-1", "version": "1"}}],
            },
        ),
    ],
    "aws:efs/backupPolicy:BackupPolicy": [
        ("enabled", {"fileSystemId": "fs-1", "backupPolicy": {"status": "ENABLED"}})
    ],
    "aws:efs/fileSystemPolicy:FileSystemPolicy": [
        ("account", {"fileSystemId": "fs-1", "policy": ACCOUNT_POLICY})
    ],
    "aws:efs/replicationConfiguration:ReplicationConfiguration": [
        (
            "new-replica",
            {"sourceFileSystemId": "fs-1", "destination": {"region": "us-west-2", "kmsKeyId": KEY_ARN}},
        ),
        (
            "existing-file-system",
            {"sourceFileSystemId": "fs-1", "destination": {"fileSystemId": "fs-2", "region": "us-west-2"}},
        ),
    ],
    "aws:fsx/lustreFileSystem:LustreFileSystem": [
        (
            "PERSISTENT_1",
            _fsx(
                {
                    "deploymentType": "PERSISTENT_1",
                    "perUnitStorageThroughput": 50,
                    "automaticBackupRetentionDays": 7,
                }
            ),
        ),
        (
            "PERSISTENT_2",
            _fsx(
                {
                    "deploymentType": "PERSISTENT_2",
                    "perUnitStorageThroughput": 125,
                    "automaticBackupRetentionDays": 7,
                }
            ),
        ),
        # Scratch file systems take no customer key and no automatic backups (FSx-managed keys, botocore).
        ("SCRATCH_1", {"subnetIds": ["subnet-1"], "storageCapacity": 1200, "deploymentType": "SCRATCH_1"}),
        ("SCRATCH_2", {"subnetIds": ["subnet-1"], "storageCapacity": 1200, "deploymentType": "SCRATCH_2"}),
        ("deployment-type-unset", {"subnetIds": ["subnet-1"], "storageCapacity": 1200}),
    ],
    "aws:fsx/ontapFileSystem:OntapFileSystem": [
        (d, _fsx({"deploymentType": d, "throughputCapacity": 128, "automaticBackupRetentionDays": 30}))
        for d in ("MULTI_AZ_1", "SINGLE_AZ_1", "SINGLE_AZ_2", "MULTI_AZ_2")
    ]
    + [("retention-unset", _fsx({"deploymentType": "SINGLE_AZ_1", "throughputCapacity": 128}))],
    "aws:fsx/openZfsFileSystem:OpenZfsFileSystem": [
        (d, _fsx({"deploymentType": d, "throughputCapacity": 160, "automaticBackupRetentionDays": 30}))
        for d in ("SINGLE_AZ_1", "SINGLE_AZ_2", "SINGLE_AZ_HA_1", "SINGLE_AZ_HA_2", "MULTI_AZ_1")
    ],
    "aws:fsx/windowsFileSystem:WindowsFileSystem": [
        (
            d,
            _fsx(
                {
                    "deploymentType": d,
                    "throughputCapacity": 32,
                    "automaticBackupRetentionDays": 35,
                    "auditLogConfiguration": {
                        "fileAccessAuditLogLevel": "SUCCESS_AND_FAILURE",
                        "fileShareAccessAuditLogLevel": "SUCCESS_AND_FAILURE",
                        "auditLogDestination": LOG_GROUP,
                    },
                }
            ),
        )
        for d in ("MULTI_AZ_1", "SINGLE_AZ_1", "SINGLE_AZ_2")
    ],
    "aws:fsx/fileCache:FileCache": [
        (
            "customer-key",
            {
                "fileCacheType": "LUSTRE",
                "fileCacheTypeVersion": "2.12",
                "storageCapacity": 1200,
                "subnetIds": ["subnet-1"],
                "kmsKeyId": KEY_ARN,
            },
        )
    ],
    "aws:glacier/vault:Vault": [
        ("account", {"name": "v", "accessPolicy": ACCOUNT_POLICY}),
        ("no-policy", {"name": "v"}),
    ],
    "aws:glacier/vaultLock:VaultLock": [
        (
            "deny-delete",
            {
                "vaultName": "v",
                "completeLock": True,
                "policy": json.dumps(
                    {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Effect": "Deny",
                                "Principal": "*",
                                "Action": "glacier:DeleteArchive",
                                "Resource": "*",
                                "Condition": {"NumericLessThanEquals": {"glacier:ArchiveAgeinDays": "2192"}},
                            }
                        ],
                    }
                ),
            },
        )
    ],
    "aws:s3/accessPoint:AccessPoint": [
        ("blocked", {"bucket": "b", "policy": ACCOUNT_POLICY, "publicAccessBlockConfiguration": PAB}),
        # Access points block all public access unless told otherwise (pulumi-aws docstring, default true).
        ("defaults", {"bucket": "b", "vpcConfiguration": {"vpcId": "vpc-1"}}),
    ],
    "aws:s3control/multiRegionAccessPoint:MultiRegionAccessPoint": [
        ("blocked", {"details": {"name": "m", "regions": [{"bucket": "b"}], "publicAccessBlock": PAB}}),
        ("defaults", {"details": {"name": "m", "regions": [{"bucket": "b"}]}}),
    ],
    "aws:s3/bucketObject:BucketObject": [
        ("sse-kms", {"bucket": "b", "key": "k", "serverSideEncryption": "aws:kms", "kmsKeyId": KEY_ARN}),
        (
            "dsse-kms",
            {"bucket": "b", "key": "k", "serverSideEncryption": "aws:kms:dsse", "kmsKeyId": KEY_ARN},
        ),
        ("bucket-default", {"bucket": "b", "key": "k"}),
    ],
    "aws:s3/bucketObjectv2:BucketObjectv2": [
        ("sse-kms", {"bucket": "b", "key": "k", "serverSideEncryption": "aws:kms", "kmsKeyId": KEY_ARN}),
        ("bucket-default", {"bucket": "b", "key": "k"}),
    ],
    "aws:s3/objectCopy:ObjectCopy": [
        (
            "sse-kms",
            {
                "bucket": "b",
                "key": "k",
                "source": "s/k",
                "serverSideEncryption": "aws:kms",
                "kmsKeyId": KEY_ARN,
            },
        ),
        ("bucket-default", {"bucket": "b", "key": "k", "source": "s/k"}),
    ],
    "aws:s3/bucketReplicationConfig:BucketReplicationConfig": [
        (
            "sse-kms-replicas",
            {
                "bucket": "b",
                "role": ROLE,
                "rules": [
                    {
                        "status": "Enabled",
                        "destination": {
                            "bucket": "arn:aws:s3:::dst",
                            "encryptionConfiguration": {"replicaKmsKeyId": KEY_ARN},
                        },
                        "sourceSelectionCriteria": {"sseKmsEncryptedObjects": {"status": "Enabled"}},
                    }
                ],
            },
        )
    ],
    "aws:s3/bucketMetadataConfiguration:BucketMetadataConfiguration": [
        (
            "journal-and-inventory",
            {
                "bucket": "b",
                "metadataConfiguration": {
                    "journalTableConfiguration": {
                        "recordExpiration": {"expiration": "ENABLED", "days": 2192},
                        "encryptionConfiguration": KMS_ON,
                    },
                    "inventoryTableConfiguration": {
                        "configurationState": "ENABLED",
                        "encryptionConfiguration": KMS_ON,
                    },
                },
            },
        ),
        (
            "journal-only",
            {
                "bucket": "b",
                "metadataConfiguration": {
                    "journalTableConfiguration": {
                        "recordExpiration": {"expiration": "DISABLED"},
                        "encryptionConfiguration": KMS_ON,
                    },
                    "inventoryTableConfiguration": {"configurationState": "DISABLED"},
                },
            },
        ),
    ],
    "aws:s3/inventory:Inventory": [
        (
            "sse-kms",
            {
                "bucket": "b",
                "name": "i",
                "includedObjectVersions": "Current",
                "schedule": {"frequency": "Daily"},
                "destination": {
                    "bucket": {
                        "bucketArn": "arn:aws:s3:::inv",
                        "format": "CSV",
                        "encryption": {"sseKms": {"keyId": KEY_ARN}},
                    }
                },
            },
        ),
        (
            "destination-bucket-default",
            {
                "bucket": "b",
                "name": "i",
                "includedObjectVersions": "Current",
                "schedule": {"frequency": "Daily"},
                "destination": {"bucket": {"bucketArn": "arn:aws:s3:::inv", "format": "CSV"}},
            },
        ),
    ],
    "aws:s3/bucketWebsiteConfiguration:BucketWebsiteConfiguration": [
        (
            "redirect-to-https",
            {"bucket": "b", "redirectAllRequestsTo": {"hostName": "example.org", "protocol": "https"}},
        )
    ],
    "aws:s3/bucketWebsiteConfigurationV2:BucketWebsiteConfigurationV2": [
        (
            "redirect-to-https",
            {"bucket": "b", "redirectAllRequestsTo": {"hostName": "example.org", "protocol": "https"}},
        )
    ],
    "aws:s3/filesFileSystem:FilesFileSystem": [
        ("customer-key", {"bucket": "arn:aws:s3:::b", "roleArn": ROLE, "kmsKeyId": KEY_ARN})
    ],
    "aws:s3/filesFileSystemPolicy:FilesFileSystemPolicy": [
        ("account", {"fileSystemId": "f", "policy": ACCOUNT_POLICY})
    ],
    "aws:s3/vectorsVectorBucket:VectorsVectorBucket": [
        (
            "sse-kms",
            {
                "vectorBucketName": "v",
                "encryptionConfigurations": [{"sseType": "aws:kms", "kmsKeyArn": KEY_ARN}],
            },
        )
    ],
    "aws:s3/vectorsIndex:VectorsIndex": [
        (
            "sse-kms",
            {
                "vectorBucketName": "v",
                "indexName": "i",
                "dataType": "float32",
                "dimension": 3,
                "distanceMetric": "cosine",
                "encryptionConfigurations": [{"sseType": "aws:kms", "kmsKeyArn": KEY_ARN}],
            },
        ),
        (
            "bucket-encryption",
            {
                "vectorBucketName": "v",
                "indexName": "i",
                "dataType": "float32",
                "dimension": 3,
                "distanceMetric": "cosine",
            },
        ),
    ],
    "aws:s3/vectorsVectorBucketPolicy:VectorsVectorBucketPolicy": [
        ("account", {"vectorBucketArn": "a", "policy": ACCOUNT_POLICY})
    ],
    "aws:s3control/accessGrantsInstanceResourcePolicy:AccessGrantsInstanceResourcePolicy": [
        ("account", {"policy": ACCOUNT_POLICY})
    ],
    "aws:s3control/accessPointPolicy:AccessPointPolicy": [
        ("account", {"accessPointArn": "a", "policy": ACCOUNT_POLICY})
    ],
    "aws:s3control/bucketPolicy:BucketPolicy": [("organization", {"bucket": "a", "policy": ORG_POLICY})],
    "aws:s3control/objectLambdaAccessPointPolicy:ObjectLambdaAccessPointPolicy": [
        ("account", {"name": "o", "policy": ACCOUNT_POLICY})
    ],
    "aws:s3tables/tableBucket:TableBucket": [("sse-kms", {"name": "t", "encryptionConfiguration": KMS_ON})],
    "aws:s3tables/table:Table": [
        (
            "sse-kms",
            {
                "name": "t",
                "namespace": "n",
                "format": "ICEBERG",
                "tableBucketArn": "a",
                "encryptionConfiguration": KMS_ON,
            },
        ),
        ("bucket-encryption", {"name": "t", "namespace": "n", "format": "ICEBERG", "tableBucketArn": "a"}),
    ],
    "aws:s3tables/tableBucketPolicy:TableBucketPolicy": [
        ("account", {"tableBucketArn": "a", "resourcePolicy": ACCOUNT_POLICY})
    ],
    "aws:s3tables/tablePolicy:TablePolicy": [
        ("account", {"name": "t", "namespace": "n", "tableBucketArn": "a", "resourcePolicy": ACCOUNT_POLICY})
    ],
    "aws:storagegateway/cachesIscsiVolume:CachesIscsiVolume": [
        (
            "customer-key",
            {
                "gatewayArn": "g",
                "networkInterfaceId": "10.0.0.1",
                "targetName": "t",
                "volumeSizeInBytes": 1,
                "kmsEncrypted": True,
                "kmsKey": KEY_ARN,
            },
        )
    ],
    "aws:storagegateway/storedIscsiVolume:StoredIscsiVolume": [
        (
            "customer-key",
            {
                "gatewayArn": "g",
                "networkInterfaceId": "10.0.0.1",
                "targetName": "t",
                "diskId": "d",
                "preserveExistingData": False,
                "kmsEncrypted": True,
                "kmsKey": KEY_ARN,
            },
        )
    ],
    "aws:storagegateway/nfsFileShare:NfsFileShare": [
        (
            "customer-key",
            {
                "gatewayArn": "g",
                "locationArn": "arn:aws:s3:::b",
                "roleArn": ROLE,
                "clientLists": ["10.0.0.0/16"],
                "kmsEncrypted": True,
                "kmsKeyArn": KEY_ARN,
            },
        )
    ],
    "aws:storagegateway/smbFileShare:SmbFileShare": [
        (
            "customer-key",
            {
                "gatewayArn": "g",
                "locationArn": "arn:aws:s3:::b",
                "roleArn": ROLE,
                "kmsEncrypted": True,
                "kmsKeyArn": KEY_ARN,
            },
        )
    ],
    "aws:transfer/server:Server": [
        (
            "sftp-vpc",
            {
                "endpointType": "VPC",
                "endpointDetails": {"vpcId": "vpc-1", "subnetIds": ["subnet-1"]},
                "protocols": ["SFTP"],
                "loggingRole": ROLE,
            },
        ),
        (
            "ftps-as2-structured-logs",
            {
                "endpointType": "VPC",
                "protocols": ["FTPS", "AS2"],
                "certificate": "c",
                "structuredLogDestinations": [LOG_GROUP],
            },
        ),
        ("protocols-unset", {"endpointType": "VPC", "loggingRole": ROLE}),
    ],
    "aws:transfer/connector:Connector": [
        ("sftp", {"accessRole": ROLE, "url": "sftp://partner.example.org", "loggingRole": ROLE})
    ],
}

# What AWS (or the provider) does when the input is absent: the claim each rule's "default" makes.
# (type, dotted path, the family flags the absence?) with the source in the comment.
ABSENT = [
    (
        "aws:datasync/efsLocation:EfsLocation",
        "inTransitEncryption",
        True,
    ),  # botocore: NONE | TLS1_2; no TLS unless asked
    (
        "aws:fsx/lustreFileSystem:LustreFileSystem",
        "kmsKeyId",
        True,
    ),  # SDK: "Defaults to an AWS managed KMS Key"
    (
        "aws:fsx/lustreFileSystem:LustreFileSystem",
        "automaticBackupRetentionDays",
        True,
    ),  # botocore: "The default is 0"
    (
        "aws:fsx/ontapFileSystem:OntapFileSystem",
        "automaticBackupRetentionDays",
        False,
    ),  # botocore: "The default is 30"
    (
        "aws:fsx/openZfsFileSystem:OpenZfsFileSystem",
        "automaticBackupRetentionDays",
        False,
    ),  # botocore: "The default is 30"
    (
        "aws:fsx/windowsFileSystem:WindowsFileSystem",
        "automaticBackupRetentionDays",
        False,
    ),  # SDK: "Defaults to 7"
    (
        "aws:fsx/windowsFileSystem:WindowsFileSystem",
        "auditLogConfiguration",
        True,
    ),  # botocore: audit levels DISABLED unless set
    ("aws:fsx/fileCache:FileCache", "kmsKeyId", True),  # botocore: the Amazon FSx-managed key
    (
        "aws:ec2/defaultSubnet:DefaultSubnet",
        "mapPublicIpOnLaunch",
        True,
    ),  # AWS default subnets assign public IPv4
    ("aws:ec2/amiCopy:AmiCopy", "encrypted", True),  # SDK: "Defaults to false"
    ("aws:ebs/snapshotImport:SnapshotImport", "kmsKeyId", True),  # SDK: the default KMS key for EBS
    (
        "aws:s3/accessPoint:AccessPoint",
        "publicAccessBlockConfiguration",
        False,
    ),  # access points block public access by default
    (
        "aws:s3/bucketObject:BucketObject",
        "serverSideEncryption",
        False,
    ),  # the bucket's default encryption applies
    ("aws:s3/bucketObject:BucketObject", "kmsKeyId", True),  # with aws:kms and no key id S3 uses aws/s3
    (
        "aws:s3/inventory:Inventory",
        "destination.bucket.encryption",
        False,
    ),  # the destination bucket's default encryption
    (
        "aws:s3tables/tableBucket:TableBucket",
        "encryptionConfiguration",
        True,
    ),  # SSE-S3 is every table bucket's default
    ("aws:s3tables/table:Table", "encryptionConfiguration", False),  # a table takes its bucket's encryption
    (
        "aws:s3/vectorsVectorBucket:VectorsVectorBucket",
        "encryptionConfigurations",
        True,
    ),  # SSE-S3 (AES256) by default
    (
        "aws:s3/vectorsIndex:VectorsIndex",
        "encryptionConfigurations",
        False,
    ),  # an index takes its bucket's unless overridden
    (
        "aws:storagegateway/nfsFileShare:NfsFileShare",
        "kmsEncrypted",
        True,
    ),  # SDK: false = a key managed by Amazon S3
    ("aws:transfer/server:Server", "endpointType", True),  # SDK: "Defaults to PUBLIC"
    ("aws:transfer/server:Server", "protocols", False),  # SDK: "This defaults to SFTP"
    (
        "aws:transfer/server:Server",
        "loggingRole",
        True,
    ),  # no CloudWatch logging without a role or destination
    (
        "aws:drs/replicationConfigurationTemplate:ReplicationConfigurationTemplate",
        "ebsEncryptionKeyArn",
        True,
    ),
    (
        "aws:backup/logicallyAirGappedVault:LogicallyAirGappedVault",
        "encryptionKeyArn",
        True,
    ),  # AWS-owned key otherwise
]

# Defects where the one derived from the rule would not be realistic (a value AWS takes that the rule
# refuses) or would not break every option of an anyOf: (type, family, index) -> patch.
HAND: dict[tuple[str, str, int], dict[str, Any]] = {
    ("aws:datasync/efsLocation:EfsLocation", "in-transit", 0): {"inTransitEncryption": "NONE"},
    ("aws:drs/replicationConfigurationTemplate:ReplicationConfigurationTemplate", "at-rest", 0): {
        "ebsEncryption": "DEFAULT"
    },
    ("aws:transfer/server:Server", "network", 0): {"endpointType": "PUBLIC"},
    ("aws:efs/backupPolicy:BackupPolicy", "backup", 0): {"backupPolicy.status": "DISABLED"},
    **{
        (t, "in-transit", i): {path: "http"}
        for t in (
            "aws:s3/bucketWebsiteConfiguration:BucketWebsiteConfiguration",
            "aws:s3/bucketWebsiteConfigurationV2:BucketWebsiteConfigurationV2",
        )
        for i, path in enumerate(("redirectAllRequestsTo.protocol", "routingRules.[].redirect.protocol"))
    },
    # SSE-S3 (AES256): what S3 uses when no key is asked for.
    **{
        (type_, "at-rest", index): {path: "AES256"}
        for type_, index, path in (
            ("aws:s3/bucketMetadataConfiguration:BucketMetadataConfiguration", 0,
             "metadataConfiguration.journalTableConfiguration.encryptionConfiguration.sseAlgorithm"),
            ("aws:s3/bucketMetadataConfiguration:BucketMetadataConfiguration", 2,
             "metadataConfiguration.inventoryTableConfiguration.encryptionConfiguration.sseAlgorithm"),
            ("aws:s3/vectorsVectorBucket:VectorsVectorBucket", 1, "encryptionConfigurations.[].sseType"),
            ("aws:s3tables/tableBucket:TableBucket", 1, "encryptionConfiguration.sseAlgorithm"),
        )
    },
    ("aws:efs/replicationConfiguration:ReplicationConfiguration", "at-rest", 0): {
        "destination.kmsKeyId": "arn:aws:kms:us-west-2:123456789012:alias/aws/elasticfilesystem"
    },
    ("aws:s3/inventory:Inventory", "at-rest", 0): {"destination.bucket.encryption": {"sseS3": {}}},
}

globals().update(rule_tests("storage", COMPLIANT, hand_defects=HAND))


def _applies(rule: dict, props: dict) -> bool:
    """Whether the rule's `when` holds for this compliant form."""
    when = rule.get("when")
    if not when:
        return True
    node: Any = props
    for part in when["path"]:
        if part == "[]":
            node = node[0] if isinstance(node, list) and node else None
        else:
            node = node.get(part) if isinstance(node, dict) else None
    return (when.get("default") if node is None else node) in when["oneOf"]


@pytest.mark.parametrize("type_,dotted,flagged", ABSENT, ids=[f"{t.split(':')[1]}-{p}" for t, p, _ in ABSENT])
def test_an_absent_input_means_what_aws_does(pack, type_, dotted, flagged):
    props = next(
        set_path(p, dotted, DELETE)
        for _, p in COMPLIANT[type_]
        if all(_applies(r, p) for rules in RULES[type_].values() for r in rules if "path" in r)
    )
    verdict = pack.analyze(type_, props)
    raised = any(verdict.messages(POLICY[f]) for f in RULES[type_])
    assert raised is flagged, [m for f in RULES[type_] for m in verdict.messages(POLICY[f])]


def test_a_scratch_lustre_file_system_is_not_asked_for_a_key_it_cannot_have(pack):
    """Scratch file systems are encrypted with keys Amazon FSx manages (AWS "Data encryption in Amazon
    FSx for Lustre"), and take no automatic backups: a persistent one without them fails."""
    scratch = {"subnetIds": ["subnet-1"], "storageCapacity": 1200, "deploymentType": "SCRATCH_2"}
    assert (
        pack.analyze("aws:fsx/lustreFileSystem:LustreFileSystem", scratch).messages(POLICY["at-rest"]) == []
    )
    persistent = {**scratch, "deploymentType": "PERSISTENT_2"}
    verdict = pack.analyze("aws:fsx/lustreFileSystem:LustreFileSystem", persistent)
    assert verdict.messages(POLICY["at-rest"]) and verdict.messages(POLICY["backup"])


def test_an_aws_managed_key_alias_is_not_a_customer_key(pack):
    props = {
        "sourceAmiId": "ami-1",
        "sourceAmiRegion": "us-west-2",
        "encrypted": True,
        "kmsKeyId": "alias/aws/ebs",
    }
    assert pack.analyze("aws:ec2/amiCopy:AmiCopy", props).messages(POLICY["at-rest"])


BLOCK_DEVICES = "aws-ec2-block-devices-encrypted"


@pytest.mark.parametrize(
    "type_,props,message",
    [
        (
            "aws:ec2/instance:Instance",
            {"rootBlockDevice": {"encrypted": True, "kmsKeyId": "alias/aws/ebs"}},
            "Set rootBlockDevice.kmsKeyId to a customer-managed key.",
        ),
        (
            "aws:ec2/instance:Instance",
            {
                "rootBlockDevice": {"encrypted": True},
                "ebsBlockDevices": [
                    {"deviceName": "/dev/sdf", "encrypted": True, "kmsKeyId": AWS_MANAGED_KEY}
                ],
            },
            "Set ebsBlockDevices[].kmsKeyId to a customer-managed key.",
        ),
        (
            "aws:ec2/launchTemplate:LaunchTemplate",
            {
                "blockDeviceMappings": [
                    {"deviceName": "/dev/xvda", "ebs": {"encrypted": True, "kmsKeyId": "alias/aws/ebs"}}
                ]
            },
            "Set blockDeviceMappings[].ebs.kmsKeyId to a customer-managed key.",
        ),
    ],
    ids=["instance-root", "instance-device", "launch-template"],
)
def test_a_block_device_naming_an_aws_managed_key_is_refused(pack, type_, props, message):
    """An encrypted device that names alias/aws/ebs is not under a customer key. Without kmsKeyId EBS uses the
    region's default key (pulumi-aws ec2.Instance docstring; the account layer sets aws.ebs.DefaultKmsKey)."""
    assert message in pack.analyze(type_, props).messages(BLOCK_DEVICES)
    compliant = json.loads(
        json.dumps(props)
        .replace('"alias/aws/ebs"', json.dumps(KEY_ARN))
        .replace(json.dumps(AWS_MANAGED_KEY), json.dumps(KEY_ARN))
    )
    assert pack.analyze(type_, compliant).messages(BLOCK_DEVICES) == []


def test_a_launch_configuration_is_not_asked_for_a_key_it_cannot_take(pack):
    """EC2 Auto Scaling Ebs.Encrypted: "you cannot specify a KMS key ID when using a launch configuration"
    (https://docs.aws.amazon.com/sdk-for-kotlin/api/latest/autoscaling/aws.sdk.kotlin.services.autoscaling.model/-ebs/encrypted.html)."""
    props = {
        "rootBlockDevice": {"encrypted": True},
        "ebsBlockDevices": [{"deviceName": "/dev/sdf", "encrypted": True}],
    }
    assert (
        pack.analyze("aws:ec2/launchConfiguration:LaunchConfiguration", props).messages(BLOCK_DEVICES) == []
    )

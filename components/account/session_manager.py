"""The account's Session Manager preferences: every shell session encrypted with a customer key and
logged to a KMS-encrypted log group kept six years.

The preferences are one document per account and region, `SSM-SessionManagerRunShell`, so they
belong to the account layer. Session Manager does not log port-forwarding sessions (its logging
guide says so): those are recorded by CloudTrail's StartSession events (alarmed in SecurityAlarms)
and by the database's own connection log.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_aws as aws

from components.key_ring import SESSION_LOG_GROUP

PREFERENCES_DOCUMENT = "SSM-SessionManagerRunShell"
IDLE_TIMEOUT_MINUTES = 20
MAX_SESSION_MINUTES = 60


def preferences(log_group_name: str, key_id: str) -> str:
    """The preferences document (Session Manager guide, "Create a Session Manager preferences document")."""
    return json.dumps({
        "schemaVersion": "1.0",
        "description": "hipaa-aws: encrypted, logged sessions",
        "sessionType": "Standard_Stream",
        "inputs": {
            "s3BucketName": "",
            "s3KeyPrefix": "",
            "s3EncryptionEnabled": True,
            "cloudWatchLogGroupName": log_group_name,
            "cloudWatchEncryptionEnabled": True,
            "cloudWatchStreamingEnabled": True,
            "kmsKeyId": key_id,
            "runAsEnabled": False,
            "runAsDefaultUser": "",
            "idleSessionTimeout": str(IDLE_TIMEOUT_MINUTES),
            "maxSessionDuration": str(MAX_SESSION_MINUTES),
            "shellProfile": {"windows": "", "linux": ""},
        },
    })


@dataclass(frozen=True)
class SessionManagerArgs:
    session_key_arn: pulumi.Input[str]
    log_retention_days: int


class SessionManager(pulumi.ComponentResource):
    log_group_name: str
    """Where shell sessions are logged."""

    def __init__(self, name: str, args: SessionManagerArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("hipaa:components:SessionManager", name, None, opts)
        child = pulumi.ResourceOptions(parent=self, retain_on_delete=True)
        self.log_group_name = SESSION_LOG_GROUP
        group = aws.cloudwatch.LogGroup(
            name, name=SESSION_LOG_GROUP, retention_in_days=args.log_retention_days,
            kms_key_id=args.session_key_arn, opts=child)
        aws.ssm.Document(
            name, name=PREFERENCES_DOCUMENT, document_type="Session", document_format="JSON",
            content=pulumi.Output.from_input(args.session_key_arn).apply(
                lambda key: preferences(SESSION_LOG_GROUP, key)),
            opts=pulumi.ResourceOptions(parent=self, retain_on_delete=True, depends_on=[group]))
        self.register_outputs({"log_group_name": self.log_group_name})

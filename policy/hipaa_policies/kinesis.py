"""Kinesis streams and Firehose delivery streams: encrypted with customer-managed keys."""

from __future__ import annotations

from collections.abc import Iterable

from .kms import customer_managed_key
from .framework import ENCRYPTION_AT_REST, Metadata, Resource, resource_policy

STREAM = ("aws:kinesis/stream:Stream",)
FIREHOSE = ("aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream",)


def _stream(r: Resource) -> Iterable[str]:
    if r.props.get("encryptionType") != "KMS":
        yield "Set encryptionType to KMS."
    yield from customer_managed_key("kmsKeyId")(r)


def _firehose(r: Resource) -> Iterable[str]:
    if r.props.is_set("kinesisSourceConfiguration"):
        return  # encryption is the source stream's (aws-kinesis-stream-encrypted); AWS refuses SSE here
    sse = r.props.map("serverSideEncryption")
    if sse.get("enabled") is not True:
        yield "Set serverSideEncryption.enabled to true with keyType CUSTOMER_MANAGED_CMK."
    elif sse.get("keyType") != "CUSTOMER_MANAGED_CMK" or not r.props.is_set("serverSideEncryption", "keyArn"):
        yield "Set serverSideEncryption.keyType to CUSTOMER_MANAGED_CMK and keyArn."


POLICIES = [
    resource_policy(Metadata("aws-kinesis-stream-encrypted", "Kinesis streams must be encrypted with a customer-managed key.",
                             ENCRYPTION_AT_REST, "Set encryptionType=KMS and kmsKeyId.",
                             config_rules=("kinesis-stream-encrypted",), service="kinesis"), STREAM, _stream),
    resource_policy(Metadata("aws-firehose-encrypted", "Firehose delivery streams must be encrypted with a customer-managed key.",
                             ENCRYPTION_AT_REST, "Set serverSideEncryption with CUSTOMER_MANAGED_CMK.", service="kinesis"),
                    FIREHOSE, _firehose),
]

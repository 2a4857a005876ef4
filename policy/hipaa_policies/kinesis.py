"""Kinesis streams and Firehose delivery streams: encrypted with customer-managed keys."""

from __future__ import annotations

from collections.abc import Iterable

from .kms import customer_managed_key
from .framework import ENCRYPTION_AT_REST, Metadata, Resource, not_applicable, resource_policy

STREAM = ("aws:kinesis/stream:Stream",)
FIREHOSE = ("aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream",)


def _stream(r: Resource) -> Iterable[str]:
    if r.props.get("encryptionType") != "KMS":
        yield "Set encryptionType to KMS."
    yield from customer_managed_key("kmsKeyId")(r)


# Firehose stream sources (botocore `firehose` DeliveryStreamType: DirectPut, KinesisStreamAsSource,
# MSKAsSource, DatabaseAsSource) and the pulumi-aws input that selects each one. "You can enable SSE for
# a Firehose stream only if it's a Firehose stream that uses DirectPut as its source" (botocore
# `firehose` StartDeliveryStreamEncryption): with a stream or cluster as its source, the data at rest
# is the source's, encrypted there (aws-kinesis-stream-encrypted; MSK: aws-data-at-rest-customer-key).
SOURCE_INPUTS = {"kinesisSourceConfiguration": "KinesisStreamAsSource", "mskSourceConfiguration": "MSKAsSource"}


def _firehose(r: Resource) -> Iterable[str]:
    for key, source in SOURCE_INPUTS.items():
        if r.props.is_set(key):
            not_applicable(f"Firehose encrypts only DirectPut streams, not {source} ones (botocore firehose "
                           "StartDeliveryStreamEncryption): the source encrypts the data at rest.")
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

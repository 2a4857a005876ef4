"""SNS, SQS, Kinesis and Firehose: encrypted with customer-managed keys."""

from __future__ import annotations

from typing import Iterable

from .framework import ENCRYPTION_AT_REST, Metadata, Resource, resource_policy

TOPIC = ("aws:sns/topic:Topic",)
QUEUE = ("aws:sqs/queue:Queue",)
STREAM = ("aws:kinesis/stream:Stream",)
FIREHOSE = ("aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream",)
AWS_MANAGED = ("alias/aws/sns", "alias/aws/sqs", "alias/aws/kinesis")


def _customer_key(key: str):
    def check(r: Resource) -> Iterable[str]:
        # An AWS-managed alias is always a literal; an unknown value is another resource's key.
        if not r.props.is_set(key) or (not r.props.is_unknown(key) and r.props.get(key) in AWS_MANAGED):
            yield f"Set {key} to a customer-managed KMS key (not an AWS-managed alias)."
    return check


def _stream(r: Resource) -> Iterable[str]:
    if r.props.get("encryptionType") != "KMS":
        yield "Set encryptionType to KMS."
    yield from _customer_key("kmsKeyId")(r)


def _firehose(r: Resource) -> Iterable[str]:
    sse = r.props.map("serverSideEncryption")
    if sse.get("enabled") is not True:
        yield "Set serverSideEncryption.enabled to true with keyType CUSTOMER_MANAGED_CMK."
    elif sse.get("keyType") != "CUSTOMER_MANAGED_CMK" or not r.props.is_set("serverSideEncryption", "keyArn"):
        yield "Set serverSideEncryption.keyType to CUSTOMER_MANAGED_CMK and keyArn."


POLICIES = [
    resource_policy(Metadata("aws-sns-topic-customer-key", "SNS topics must be encrypted with a customer-managed key.",
                             ENCRYPTION_AT_REST, "Set kmsMasterKeyId to the alerting key (CloudWatch cannot use alias/aws/sns).",
                             config_rules=("sns-encrypted-kms",), service="sns"),
                    TOPIC, _customer_key("kmsMasterKeyId")),
    resource_policy(Metadata("aws-sqs-queue-customer-key", "SQS queues must be encrypted with a customer-managed key.",
                             ENCRYPTION_AT_REST, "Set kmsMasterKeyId to a customer-managed key.", service="sqs"),
                    QUEUE, _customer_key("kmsMasterKeyId")),
    resource_policy(Metadata("aws-kinesis-stream-encrypted", "Kinesis streams must be encrypted with a customer-managed key.",
                             ENCRYPTION_AT_REST, "Set encryptionType=KMS and kmsKeyId.",
                             config_rules=("kinesis-stream-encrypted",), service="kinesis"), STREAM, _stream),
    resource_policy(Metadata("aws-firehose-encrypted", "Firehose delivery streams must be encrypted with a customer-managed key.",
                             ENCRYPTION_AT_REST, "Set serverSideEncryption with CUSTOMER_MANAGED_CMK.", service="kinesis"),
                    FIREHOSE, _firehose),
]

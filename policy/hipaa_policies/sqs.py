"""SQS: queues encrypted with customer-managed keys."""

from __future__ import annotations

from .framework import ENCRYPTION_AT_REST, Metadata, resource_policy
from .kms import customer_managed_key

QUEUE = ("aws:sqs/queue:Queue",)


POLICIES = [
    resource_policy(Metadata("aws-sqs-queue-customer-key", "SQS queues must be encrypted with a customer-managed key.",
                             ENCRYPTION_AT_REST, "Set kmsMasterKeyId to a customer-managed key.", service="sqs"),
                    QUEUE, customer_managed_key("kmsMasterKeyId")),
]

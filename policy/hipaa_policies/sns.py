"""SNS: topics encrypted with customer-managed keys."""

from __future__ import annotations

from .framework import ENCRYPTION_AT_REST, Metadata, resource_policy
from .kms import customer_managed_key

TOPIC = ("aws:sns/topic:Topic",)


POLICIES = [
    resource_policy(Metadata("aws-sns-topic-customer-key", "SNS topics must be encrypted with a customer-managed key.",
                             ENCRYPTION_AT_REST, "Set kmsMasterKeyId to the alerting key (CloudWatch cannot use alias/aws/sns).",
                             config_rules=("sns-encrypted-kms",), service="sns"),
                    TOPIC, customer_managed_key("kmsMasterKeyId")),
]

"""The account, region and partition the stack deploys into, looked up once.

Data-source invokes run for real at preview, so these are plain strings that policies,
ARNs and key-policy conditions can use without hard-coding a region.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi_aws as aws


@dataclass(frozen=True)
class AwsContext:
    account_id: str
    region: str
    partition: str
    dns_suffix: str

    def service_host(self, service: str) -> str:
        """Regional service endpoint host, e.g. rds.eu-west-1.amazonaws.com."""
        return f"{service}.{self.region}.{self.dns_suffix}"

    @property
    def account_root_arn(self) -> str:
        return f"arn:{self.partition}:iam::{self.account_id}:root"

    def bucket_name(self, stack: str, purpose: str) -> str:
        """A predictable, globally unique bucket name, so ARNs and policies are known at preview."""
        name = f"hipaa-aws-{stack}-{purpose}-{self.account_id}"
        if len(name) > 63:
            raise ValueError(f"bucket name {name} is longer than S3's 63 characters; "
                             "use a shorter stack name")
        return name

    def bucket_arn(self, name: str) -> str:
        return f"arn:{self.partition}:s3:::{name}"

    def arn(self, service: str, resource: str, region: bool = True) -> str:
        where = self.region if region else ""
        return f"arn:{self.partition}:{service}:{where}:{self.account_id}:{resource}"


def lookup_aws_context() -> AwsContext:
    partition = aws.get_partition()
    return AwsContext(
        account_id=aws.get_caller_identity().account_id,
        region=aws.get_region().region,
        partition=partition.partition,
        dns_suffix=partition.dns_suffix,
    )

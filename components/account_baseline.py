"""Account-wide guardrails: password policy, EBS encryption by default, S3 public access block,
IAM Access Analyzer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_aws as aws

from .aws_context import AwsContext


@dataclass(frozen=True)
class AccountBaselineArgs:
    stack: str
    aws: AwsContext
    ebs_key_arn: pulumi.Input[str]


class AccountBaseline(pulumi.ComponentResource):
    """One per account and region: deploy it from one stack per account (see README)."""

    def __init__(self, name: str, args: AccountBaselineArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("hipaa:components:AccountBaseline", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        aws.iam.AccountPasswordPolicy(
            name, minimum_password_length=14, password_reuse_prevention=24, max_password_age=90,
            require_lowercase_characters=True, require_uppercase_characters=True,
            require_numbers=True, require_symbols=True, allow_users_to_change_password=True,
            opts=child)
        aws.ebs.EncryptionByDefault(name, enabled=True, opts=child)
        aws.ebs.DefaultKmsKey(name, key_arn=args.ebs_key_arn, opts=child)
        aws.s3.AccountPublicAccessBlock(
            name, account_id=args.aws.account_id, block_public_acls=True, block_public_policy=True,
            ignore_public_acls=True, restrict_public_buckets=True, opts=child)
        aws.accessanalyzer.Analyzer(
            name, analyzer_name=f"hipaa-aws-{args.stack}", type="ACCOUNT", opts=child)
        self.register_outputs({})

"""Account-wide guardrails: IAM password policy, EBS encryption by default with a customer key,
the account's S3 public access block and IAM Access Analyzer.

Each is one per account (password policy, S3 block) or per account and region (EBS default
encryption and key, the ACCOUNT analyzer): created only by the account layer's owner stack. In an
account of the AWS Organization the organization analyzer (organization/, delegated administrator)
covers the account, so the owner creates no ACCOUNT analyzer there (`account_analyzer`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_aws as aws

from components.aws_context import AwsContext


@dataclass(frozen=True)
class AccountGuardrailsArgs:
    aws: AwsContext
    ebs_key_arn: pulumi.Input[str]
    """The account layer's EBS default key (its policy lets Auto Scaling use it)."""
    account_analyzer: bool = True
    """Create the account's ACCOUNT IAM Access Analyzer (False where the organization's analyzer
    covers the account)."""
    password_policy: bool = True
    """Set the account's IAM password policy."""


class AccountGuardrails(pulumi.ComponentResource):
    def __init__(self, name: str, args: AccountGuardrailsArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("hipaa:components:AccountGuardrails", name, None, opts)
        # Kept when the owner is destroyed: removing them would switch the control off for the
        # whole account (e.g. EBS default encryption).
        child = pulumi.ResourceOptions(parent=self, retain_on_delete=True)
        if args.password_policy:
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
        if args.account_analyzer:
            # One ACCOUNT analyzer per account and region is a hard quota.
            aws.accessanalyzer.Analyzer(
                name, analyzer_name=f"hipaa-aws-{args.aws.region}", type="ACCOUNT", opts=child)
        self.register_outputs({})

"""The Pulumi state backend a HIPAA team should use (run once per account, before any stack):

- an S3 bucket for state: versioned, SSE-KMS with its own key, all public access blocks,
  TLS-only policy, access logging to an access-log bucket;
- a KMS key for the `awskms://` secrets provider, so stack secrets are encrypted by KMS, with
  every use logged by CloudTrail.

It reuses the project's components and passes the same policy pack
(`python -m preflight state --project-dir bootstrap`).
"""

import json
import sys
from pathlib import Path

import pulumi
import pulumi_aws as aws

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the project's components/

from components.aws_context import lookup_aws_context  # noqa: E402
from components.key_ring import (  # noqa: E402
    ADMIN_ACTIONS, DELETION_WINDOW_DAYS, KEY_PURPOSES, ROTATION_PERIOD_DAYS, key_policy,
)
from components.phi_bucket import access_log_delivery  # noqa: E402
from components.secure_bucket import SecureBucket, SecureBucketArgs  # noqa: E402
from components.tagging import register_tagging  # noqa: E402

STACK = "state"
config = pulumi.Config()
register_tagging({"Environment": "shared", "DataClassification": "internal",
                  "Owner": config.require("owner"), "CostCenter": config.require("costCenter"),
                  "ManagedBy": "pulumi"})
ctx = lookup_aws_context()


def rotating_key(name: str, description: str, policy: dict) -> aws.kms.Key:
    key = aws.kms.Key(name, description=description, enable_key_rotation=True,
                      rotation_period_in_days=ROTATION_PERIOD_DAYS,
                      deletion_window_in_days=DELETION_WINDOW_DAYS, policy=json.dumps(policy))
    aws.kms.Alias(name, name=f"alias/{name}", target_key_id=key.key_id)
    return key


storage = next(p for p in KEY_PURPOSES if p.name == "storage")
state_key = rotating_key("hipaa-aws-state", "Pulumi state bucket", key_policy(ctx, storage))
# The CLI calls KMS directly for the awskms:// secrets provider, so use is granted to this account's
# principals (who still need an IAM permission naming this key), not through a service.
secrets_key = rotating_key("hipaa-aws-pulumi-secrets", "Pulumi stack secrets (awskms:// provider)", {
    "Version": "2012-10-17",
    "Statement": [
        {"Sid": "AccountAdministersKey", "Effect": "Allow", "Principal": {"AWS": ctx.account_root_arn},
         "Action": ADMIN_ACTIONS, "Resource": "*"},
        {"Sid": "AccountPrincipalsWithIamPermission", "Effect": "Allow",
         "Principal": {"AWS": ctx.account_root_arn},
         "Action": ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"],
         "Resource": "*", "Condition": {"StringEquals": {"kms:CallerAccount": ctx.account_id}}},
    ],
})

access_logs = SecureBucket("state-access-logs", SecureBucketArgs(
    aws=ctx, stack=STACK, purpose="access-logs", kms_key_arn=None,
    lifecycle_rules=[aws.s3.BucketLifecycleConfigurationRuleArgs(
        id="retain-six-years", status="Enabled",
        filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
        expiration=aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(days=2192))],
    extra_policy_statements=access_log_delivery(ctx)),
    opts=pulumi.ResourceOptions(protect=True))
state = SecureBucket("state", SecureBucketArgs(
    aws=ctx, stack=STACK, purpose="pulumi-state", kms_key_arn=state_key.arn,
    access_log_bucket=access_logs.bucket_name,
    lifecycle_rules=[aws.s3.BucketLifecycleConfigurationRuleArgs(
        id="expire-old-state-versions", status="Enabled",
        filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
        noncurrent_version_expiration=aws.s3.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(
            noncurrent_days=365))]),
    opts=pulumi.ResourceOptions(protect=True))

pulumi.export("stateBucket", state.bucket_name)
pulumi.export("login", state.bucket_name.apply(lambda b: f"pulumi login 's3://{b}?region={ctx.region}&awssdk=v2'"))
pulumi.export("secretsProvider", f"awskms://alias/hipaa-aws-pulumi-secrets?region={ctx.region}")

"""The Pulumi state backend a HIPAA team should use, and the CI roles that use it (run once per
account, before any stack):

- an S3 bucket for state: versioned, SSE-KMS with its own key, all public access blocks,
  TLS-only policy, access logging to an access-log bucket;
- a KMS key for the `awskms://` secrets provider, so stack secrets are encrypted by KMS, with
  every use logged by CloudTrail;
- GitHub Actions' OIDC identity provider and, per stack, a read-only preview role and a deploy
  role (ci_roles.py), whose ARNs the workflows read from GitHub variables.

Both keys are administered by the roles in `keyAdministratorRoleArns`, never the whole account.
It reuses the project's components and passes the same policy pack
(`python -m preflight state --project-dir bootstrap`).
"""

import json
import sys
from pathlib import Path

import pulumi
import pulumi_aws as aws

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the project's components/

from ci_roles import (  # noqa: E402
    DEPLOY_VARIABLE, CiRoles, CiRolesArgs, StateBackend, load_bootstrap_settings, load_program_facts,
    preview_variable,
)
from components.aws_context import lookup_aws_context  # noqa: E402
from components.key_ring import (  # noqa: E402
    ADMIN_ACTIONS, DELETION_WINDOW_DAYS, ROTATION_PERIOD_DAYS, KeyScope, key_policy, purpose,
)
from components.secure_bucket import SecureBucket, SecureBucketArgs, access_log_target  # noqa: E402
from components.tagging import register_tagging  # noqa: E402

STACK = "state"
STATE_KEY, SECRETS_KEY = "hipaa-aws-state", "hipaa-aws-pulumi-secrets"
config = pulumi.Config()
register_tagging({"Environment": "shared", "DataClassification": "internal",
                  "Owner": config.require("owner"), "CostCenter": config.require("costCenter"),
                  "ManagedBy": "pulumi"})
ctx = lookup_aws_context()
settings = load_bootstrap_settings(ctx.account_id)
administrators = list(settings.key_administrators)


def rotating_key(name: str, description: str, policy: dict) -> aws.kms.Key:
    key = aws.kms.Key(name, description=description, enable_key_rotation=True,
                      rotation_period_in_days=ROTATION_PERIOD_DAYS,
                      deletion_window_in_days=DELETION_WINDOW_DAYS, policy=json.dumps(policy))
    aws.kms.Alias(name, name=f"alias/{name}", target_key_id=key.key_id)
    return key


state_key = rotating_key(STATE_KEY, "Pulumi state bucket",
                         key_policy(KeyScope(ctx, STACK), purpose("storage"), administrators))
# The CLI calls KMS directly for the awskms:// secrets provider, so use is granted to this account's
# principals (who still need an IAM permission naming this key), not through a service.
secrets_key = rotating_key(SECRETS_KEY, "Pulumi stack secrets (awskms:// provider)", {
    "Version": "2012-10-17",
    "Statement": [
        {"Sid": "KeyAdministrators", "Effect": "Allow", "Principal": {"AWS": administrators},
         "Action": ADMIN_ACTIONS, "Resource": "*"},
        {"Sid": "AccountPrincipalsWithIamPermission", "Effect": "Allow",
         "Principal": {"AWS": ctx.account_root_arn},
         "Action": ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"],
         "Resource": "*", "Condition": {"StringEquals": {"kms:CallerAccount": ctx.account_id}}},
    ],
})

access_logs = SecureBucket("state-access-logs", access_log_target(ctx, STACK),
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

# The program's stack files say which optional tiers each deploy role manages (the application
# tier, the session cache, Identity Center) and which hosted zone and domain its certificate uses:
# re-run the bootstrap after changing them.
ci = CiRoles("ci", CiRolesArgs(
    aws=ctx, repository=settings.github_repository, stacks=settings.stacks,
    account_layer_stack=settings.account_layer_stack,
    programs=load_program_facts(Path(__file__).resolve().parent.parent / "stacks", settings.stacks),
    backend=StateBackend(bucket=ctx.bucket_name(STACK, "pulumi-state"), state_key_alias=f"alias/{STATE_KEY}",
                         secrets_key_alias=f"alias/{SECRETS_KEY}")))

pulumi.export("stateBucket", state.bucket_name)
pulumi.export("login", state.bucket_name.apply(lambda b: f"pulumi login 's3://{b}?region={ctx.region}&awssdk=v2'"))
pulumi.export("secretsProvider", f"awskms://alias/{SECRETS_KEY}?region={ctx.region}")
pulumi.export("githubOidcProviderArn", ci.provider_arn)
# Repository variables (pull-request.yml) and each GitHub environment's variable (pulumi-up.yml).
for stack_name, arn in ci.preview_role_arns.items():
    pulumi.export(preview_variable(stack_name), arn)
pulumi.export("environments", {stack_name: {DEPLOY_VARIABLE: arn}
                               for stack_name, arn in ci.deploy_role_arns.items()})

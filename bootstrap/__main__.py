"""The Pulumi state backend a HIPAA team should use, and the CI roles that use it (one bootstrap stack
per AWS account, `bootstrap/Pulumi.<name>.yaml` pinning that account, run before any of its stacks):

- an S3 bucket for state: versioned, SSE-KMS with its own key, all public access blocks,
  TLS-only policy, access logging to an access-log bucket;
- a KMS key for the `awskms://` secrets provider, so stack secrets are encrypted by KMS, with
  every use logged by CloudTrail;
- GitHub Actions' OIDC identity provider and, per stack pinned to this account
  (account_stacks.py: read from the program's stack files), a read-only preview role and a deploy
  role (ci_roles.py), whose ARNs the workflows read from GitHub variables. A stack pinned to another
  account gets neither roles nor state here: they live in its own account's bootstrap;
- the platform administrator role `hipaa-aws-platform-admin` (platform_admin.py), which every stack
  file names a key administrator, and as which each stack's first `pulumi up` runs;
- the evidence bucket (evidence_bucket.py): CI's preflight reports kept six years under Object Lock
  (COMPLIANCE when a stack of the account may hold PHI), with its own KMS key; each deploy role may only
  add its own stack's reports.

The keys are administered by the roles in `keyAdministratorRoleArns`, never the whole account.
It reuses the project's components and passes the same policy pack with policy/config/state.json
(`python -m preflight <bootstrap stack> --project-dir bootstrap`; `make preflight` runs every one).
"""

import json
import sys
from pathlib import Path

import pulumi
import pulumi_aws as aws

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the project's components/

import account_stacks  # noqa: E402
from bootstrap_settings import load_bootstrap_settings  # noqa: E402
from ci_roles import (  # noqa: E402
    BACKEND_VARIABLE, DEPLOY_VARIABLE, CiRoles, CiRolesArgs, StateBackend, backend_variable, drift_variable,
    preview_variable,
)
from evidence_bucket import EVIDENCE_KEY, evidence_bucket, lock_mode  # noqa: E402
from platform_admin import PlatformAdmin, PlatformAdminArgs  # noqa: E402
from components.aws_context import lookup_aws_context  # noqa: E402
from components.placeholders import refuse_placeholders_on_update  # noqa: E402
from components.key_ring import (  # noqa: E402
    ADMIN_ACTIONS, DELETION_WINDOW_DAYS, ROTATION_PERIOD_DAYS, KeyScope, key_policy, purpose,
)
from components.secure_bucket import SecureBucket, SecureBucketArgs, access_log_target  # noqa: E402
from components.tagging import register_tagging  # noqa: E402

refuse_placeholders_on_update()  # `pulumi up` with an example value left (placeholders.yaml)
STACK = "state"
STATE_KEY, SECRETS_KEY = "hipaa-aws-state", "hipaa-aws-pulumi-secrets"
config = pulumi.Config()
register_tagging({"Environment": "shared", "DataClassification": "internal",
                  "Owner": config.require("owner"), "CostCenter": config.require("costCenter"),
                  "ManagedBy": "pulumi"})
ctx = lookup_aws_context()
settings = load_bootstrap_settings(ctx.account_id)
administrators = list(settings.key_administrators)
# The program's stack files say which stacks run in this account, which of them owns the account layer,
# and which optional tiers each deploy role manages (the application tier, the session cache, Identity
# Center) with which hosted zone and domain: re-run the bootstrap after changing them.
program_stacks = account_stacks.read_program_stacks(account_stacks.PROGRAM_DIR)
served = account_stacks.resolve_account_stacks(
    pulumi.get_stack(), pulumi.get_project(), ctx.account_id, program_stacks, settings.stacks)


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

# Evidence: its own key, so reading reports never needs the state's.
evidence_key = rotating_key(EVIDENCE_KEY, "Preflight evidence bucket",
                            key_policy(KeyScope(ctx, STACK), purpose("storage"), administrators))
evidence = evidence_bucket(ctx, evidence_key.arn, access_logs.bucket_name, lock_mode(
    s.classification for s in program_stacks.values() if s.account_id == ctx.account_id))

ci = CiRoles("ci", CiRolesArgs(
    aws=ctx, repository=settings.github_repository, stacks=served.stacks,
    account_layer_stack=served.account_layer_stack, organization_member=served.organization_member,
    programs=served.programs,
    backend=StateBackend(bucket=ctx.bucket_name(STACK, "pulumi-state"), state_key_alias=f"alias/{STATE_KEY}",
                         secrets_key_alias=f"alias/{SECRETS_KEY}",
                         evidence_bucket=ctx.bucket_name(STACK, "evidence"),
                         evidence_key_alias=f"alias/{EVIDENCE_KEY}")))
# Protected like the state bucket: the stacks' key policies name it, and a policy stores a role as its
# unique id, so a role deleted and created again is no longer the one they name (IAM "Policy elements:
# Principal").
platform_admin = PlatformAdmin("platform-admin", PlatformAdminArgs(
    aws=ctx, principals=settings.platform_admin_principals,
    permission_set=settings.platform_admin_permission_set), opts=pulumi.ResourceOptions(protect=True))

# The bucket's name is known before it exists (it carries the account id): the backend URL of every
# stack of this account.
backend_url = f"s3://{ctx.bucket_name(STACK, 'pulumi-state')}?region={ctx.region}&awssdk=v2"
pulumi.export("stateBucket", state.bucket_name)
pulumi.export("evidenceBucket", evidence.bucket_name)
pulumi.export("login", state.bucket_name.apply(lambda b: f"pulumi login 's3://{b}?region={ctx.region}&awssdk=v2'"))
pulumi.export("secretsProvider", f"awskms://alias/{SECRETS_KEY}?region={ctx.region}")
pulumi.export("githubOidcProviderArn", ci.provider_arn)
pulumi.export("platformAdminRoleArn", platform_admin.role_arn)
pulumi.export("stacks", list(served.stacks))
# Repository variables (pull-request.yml) and each GitHub environment's variables (pulumi-up.yml).
for stack_name, arn in ci.preview_role_arns.items():
    pulumi.export(preview_variable(stack_name), arn)
    pulumi.export(backend_variable(stack_name), backend_url)
for stack_name, arn in ci.drift_role_arns.items():
    pulumi.export(drift_variable(stack_name), arn)  # drift.yml
pulumi.export("environments", {stack_name: {DEPLOY_VARIABLE: arn, BACKEND_VARIABLE: backend_url}
                               for stack_name, arn in ci.deploy_role_arns.items()})

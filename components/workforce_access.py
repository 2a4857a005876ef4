"""Workforce access through IAM Identity Center: the permission sets people use in this stack's account.

- read-only (four hours): AWS's `job-function/ViewOnlyAccess` (resource metadata, no data), never
  `ReadOnlyAccess` (it reads S3 objects, secrets and more), plus a guardrail that denies reading
  PHI should AWS ever widen the managed policy (AWS managed policies change between versions).
- phi-operator (four hours): reads the PHI bucket, decrypts its objects with the storage key only
  through S3, connects to the database as `phi_operator_<stack>` with IAM database authentication, and
  reaches the database through a Session Manager port-forwarding session on a task of the stack's
  ECS cluster. No shell: only the port-forwarding document, checked for every session.
- break-glass (one hour): the only permission set that may read the database master secret
  (the `rds_superuser` credential); every sign-in with it raises an alarm.

Each permission set's grants are customer-managed IAM policies in this account, referenced by name
and path, not permission-set inline policies: Identity Center provisions an inline policy as an
inline policy (`AwsSSOInlinePolicy`) on the `AWSReservedSSO_*` role, which the HIPAA conformance
pack's iam-no-inline-policy-check flags, and an `aws.iam.Policy` is judged by the policy pack like
every other grant. Identity Center requires a policy of that name and path in every account the
set is assigned to (sso-admin `CustomerManagedPolicyReference`), so assignments wait for them.

The permission sets and assignments are created through the provider of the account and region that
administer the Identity Center instance (its management or delegated administrator account); the
policies and the alarm belong to this account.

MFA is an Identity Center instance setting with no API: it cannot be deployed. Require it in the
IAM Identity Center console (Settings, Authentication, Multi-factor authentication: prompt every
time users sign in, and require a registered device) and verify it before assigning these sets.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_aws as aws

from .app_settings import IdentityCenterSettings
from .aws_context import AwsContext
from .break_glass import break_glass_statements
from .policy_documents import database_user, database_user_arn, key_by_alias, policy_json
from .role_policy import iam_path
from .security_alarms import trail_event_alarm

READ_ONLY, PHI_OPERATOR, BREAK_GLASS = "read-only", "phi-operator", "break-glass"
PERMISSION_SETS = (READ_ONLY, PHI_OPERATOR, BREAK_GLASS)
# ISO-8601 durations; Identity Center allows PT1H to PT12H. The issue allows four hours at most,
# one hour for break-glass.
SESSION_DURATIONS = {READ_ONLY: "PT4H", PHI_OPERATOR: "PT4H", BREAK_GLASS: "PT1H"}
DESCRIPTIONS = {
    READ_ONLY: "View resource configuration and metadata; no data, objects, secrets or log contents",
    PHI_OPERATOR: ("Read the PHI bucket and connect to the database as phi_operator_<stack> through "
                   "Session Manager"),
    BREAK_GLASS: "Emergency: read the database master secret (one hour, alarmed)",
}
# Only the job-function policy: never ReadOnlyAccess, which reads S3 objects and secret values.
VIEW_ONLY_POLICY = "job-function/ViewOnlyAccess"
PHI_OPERATOR_DB_ROLE = "phi_operator"  # the database user is phi_operator_<stack>
PORT_FORWARDING_DOCUMENT = "AWS-StartPortForwardingSessionToRemoteHost"
# sso-admin CreatePermissionSet Name (botocore sso-admin model).
PERMISSION_SET_NAME = re.compile(r"[\w+=,.@-]{1,32}")
ALARM_KEY = "workforce-break-glass-used"
ALARM_METRIC = "WorkforceBreakGlassUsed"


def permission_set_name(stack: str, key: str) -> str:
    """Unique per Identity Center instance, which every stack shares: the stack is in the name."""
    return f"hipaa-{stack}-{key}"


def ecs_cluster_name(stack: str) -> str:
    """The stack's ECS cluster, which runs the application and the database access task
    (AppService names it so): the only tasks a tunnel may go through."""
    return f"hipaa-aws-{stack}"


def policy_name(stack: str, key: str) -> str:
    return f"hipaa-aws-{stack}-workforce-{key}"


def validate(name: str, args: WorkforceAccessArgs) -> dict[str, str]:
    """The permission set names, or a RunError naming what is wrong, before anything is created."""
    names = {key: permission_set_name(args.stack, key) for key in PERMISSION_SETS}
    problems = [
        f"permission set name {value!r} is {len(value)} characters or has characters outside "
        f"[A-Za-z0-9_+=,.@-]; Identity Center allows 32 (use a stack name of at most "
        f"{32 - len(value) + len(args.stack)} characters)"
        for value in names.values() if not PERMISSION_SET_NAME.fullmatch(value)]
    partition = args.settings.instance_arn.split(":")[1]
    if partition != args.aws.partition:
        problems.append(f"identityCenter.instanceArn is in partition {partition}, the stack deploys to "
                        f"{args.aws.partition}")
    if problems:
        raise pulumi.RunError(f"workforce access {name} (stack {args.stack}): " + "; ".join(problems))
    return names


def read_only_guardrail_statements(bucket_arn: str) -> list[dict]:
    """Denials that keep the read-only set away from PHI whatever ViewOnlyAccess grants."""
    return [
        {"Sid": "NoObjectReads", "Effect": "Deny", "Action": "s3:GetObject*", "Resource": "*"},
        # Object keys can carry PHI (file names).
        {"Sid": "NoPhiObjectListing", "Effect": "Deny",
         "Action": ["s3:ListBucket", "s3:ListBucketVersions"], "Resource": bucket_arn},
        {"Sid": "NoSecretsDecryptionOrDatabase", "Effect": "Deny",
         "Action": ["secretsmanager:GetSecretValue", "kms:Decrypt", "rds-db:connect"], "Resource": "*"},
        {"Sid": "NoSessionsIntoWorkloads", "Effect": "Deny",
         "Action": ["ssm:StartSession", "ecs:ExecuteCommand"], "Resource": "*"},
        # Database audit logs hold statement text, which can be PHI.
        {"Sid": "NoLogContents", "Effect": "Deny",
         "Action": ["logs:GetLogEvents", "logs:FilterLogEvents", "logs:StartQuery", "logs:GetQueryResults",
                    "logs:GetLogRecord", "logs:StartLiveTail"], "Resource": "*"},
    ]


def phi_operator_statements(ctx: AwsContext, stack: str, bucket_arn: str) -> list[dict]:
    storage_key, by_alias = key_by_alias(ctx, f"alias/hipaa-aws-{stack}-storage")
    return [
        {"Sid": "PhiBucketList", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": bucket_arn},
        {"Sid": "PhiObjectsRead", "Effect": "Allow", "Action": ["s3:GetObject", "s3:GetObjectVersion"],
         "Resource": f"{bucket_arn}/*"},
        # S3 decrypts SSE-KMS objects with the caller's permission on the key.
        {"Sid": "PhiObjectsKeyThroughS3", "Effect": "Allow", "Action": "kms:Decrypt",
         "Resource": storage_key,
         "Condition": {**by_alias, "StringEquals": {"kms:ViaService": ctx.service_host("s3")}}},
        {"Sid": "DatabaseAsPhiOperator", "Effect": "Allow", "Action": "rds-db:connect",
         "Resource": database_user_arn(ctx, database_user(stack, PHI_OPERATOR_DB_ROLE))},
        *tunnel_statements(ctx, stack),
    ]


def tunnel_statements(ctx: AwsContext, stack: str) -> list[dict]:
    """Reach the private database from a laptop: a Session Manager port-forwarding session to the
    database through a task of the stack's ECS cluster, and nothing a shell could do.

    ssm:StartSession authorizes both the target (an ECS task) and the session document; with
    ssm:SessionDocumentAccessCheck the default shell document (SSM-SessionManagerRunShell) also needs
    an explicit grant, which this policy never gives. No ecs:ExecuteCommand: that is a shell in the
    application's container, with the application's role.
    """
    sessions = ctx.arn("ssm", "session/*")
    cluster = ecs_cluster_name(stack)
    tasks = ctx.arn("ecs", f"task/{cluster}/*")
    return [
        {"Sid": "PortForwardThroughEcsTasks", "Effect": "Allow", "Action": "ssm:StartSession",
         "Resource": [tasks,
                      f"arn:{ctx.partition}:ssm:{ctx.region}::document/{PORT_FORWARDING_DOCUMENT}"],
         "Condition": {"BoolIfExists": {"ssm:SessionDocumentAccessCheck": "true"}}},
        # Session Manager tags each session with the starter's user id (role-id:session-name).
        {"Sid": "OwnSessionsOnly", "Effect": "Allow", "Action": ["ssm:TerminateSession", "ssm:ResumeSession"],
         "Resource": sessions,
         "Condition": {"StringLike": {"ssm:resourceTag/aws:ssmmessages:session-id": "${aws:userid}"}}},
        # Opening a session's data channel also needs the token StartSession returned to its starter.
        {"Sid": "SessionDataChannel", "Effect": "Allow", "Action": "ssmmessages:OpenDataChannel",
         "Resource": sessions},
        # The tunnel's target (task id and container runtime id) and the database endpoint.
        {"Sid": "FindTunnelTarget", "Effect": "Allow", "Action": "ecs:ListTasks", "Resource": "*",
         "Condition": {"ArnEquals": {"ecs:cluster": ctx.arn("ecs", f"cluster/{cluster}")}}},
        {"Sid": "DescribeTunnelTarget", "Effect": "Allow", "Action": "ecs:DescribeTasks", "Resource": tasks},
        {"Sid": "FindDatabaseEndpoint", "Effect": "Allow", "Action": "rds:DescribeDBInstances",
         "Resource": ctx.arn("rds", "db:*")},
    ]


def workforce_break_glass_statements(ctx: AwsContext, stack: str) -> list[dict]:
    """The master secret (as BreakGlassAccess grants it) and the way to the database: the secret is
    of no use without a path to the private database."""
    return [*break_glass_statements(ctx, stack),
            *tunnel_statements(ctx, stack)]


def break_glass_sign_in_pattern(ctx: AwsContext, set_name: str) -> str:
    """CloudTrail records, in this account, an sts AssumeRoleWithSAML of the role Identity Center
    provisioned for the set: `role/aws-reserved/sso.amazonaws.com/[<region>/]AWSReservedSSO_<set>_<id>`.
    Filter wildcards match only at the start or end of a value, hence two conditions."""
    roles = ctx.arn("iam", "role/aws-reserved/sso.amazonaws.com/*", region=False)
    return ('{ ($.eventSource = "sts.amazonaws.com") && ($.eventName = "AssumeRoleWithSAML") && '
            f'($.requestParameters.roleArn = "{roles}") && '
            f'($.requestParameters.roleArn = "*/AWSReservedSSO_{set_name}_*") }}')


@dataclass(frozen=True)
class WorkforceAccessArgs:
    stack: str
    aws: AwsContext
    settings: IdentityCenterSettings
    phi_bucket_arn: str
    """Known at preview (bucket names are predictable)."""
    alarm_log_group_name: Optional[pulumi.Input[str]]
    """The trail log group with this account's management events (None: not this stack's trail)."""
    alert_topic_arn: pulumi.Input[str]
    identity_center_provider: Optional[pulumi.ProviderResource] = None
    """A provider for the account and region that administer the Identity Center instance (its
    management or delegated administrator account); None: this stack's provider."""


class WorkforceAccess(pulumi.ComponentResource):
    permission_set_arns: dict[str, pulumi.Output[str]]
    """ARN of each permission set: read-only, phi-operator, break-glass."""

    def __init__(self, name: str, args: WorkforceAccessArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("hipaa:components:WorkforceAccess", name, None, opts)
        names = validate(name, args)
        ctx = args.aws
        child = pulumi.ResourceOptions(parent=self)
        instance = args.settings.instance_arn
        path = iam_path(args.stack)

        documents: dict[str, pulumi.Input[str]] = {
            READ_ONLY: policy_json(*read_only_guardrail_statements(args.phi_bucket_arn)),
            PHI_OPERATOR: policy_json(*phi_operator_statements(ctx, args.stack, args.phi_bucket_arn)),
            BREAK_GLASS: policy_json(*workforce_break_glass_statements(ctx, args.stack)),
        }
        groups = {READ_ONLY: args.settings.groups.read_only, PHI_OPERATOR: args.settings.groups.phi_operator,
                  BREAK_GLASS: args.settings.groups.break_glass}

        sso = pulumi.ResourceOptions(parent=self, provider=args.identity_center_provider)
        self.permission_set_arns = {}
        for key in PERMISSION_SETS:
            resource = f"{name}-{key}"
            policy = aws.iam.Policy(
                resource, name=policy_name(args.stack, key), path=path,
                description=f"Identity Center permission set {names[key]}: {DESCRIPTIONS[key]}",
                policy=documents[key], opts=child)
            permission_set = aws.ssoadmin.PermissionSet(
                resource, name=names[key], instance_arn=instance, description=DESCRIPTIONS[key],
                session_duration=SESSION_DURATIONS[key], opts=sso)
            attachments: list[pulumi.Resource] = [aws.ssoadmin.CustomerManagedPolicyAttachment(
                resource, instance_arn=instance, permission_set_arn=permission_set.arn,
                customer_managed_policy_reference=aws.ssoadmin
                .CustomerManagedPolicyAttachmentCustomerManagedPolicyReferenceArgs(
                    name=policy.name, path=policy.path),
                opts=sso)]
            if key == READ_ONLY:
                attachments.append(aws.ssoadmin.ManagedPolicyAttachment(
                    resource, instance_arn=instance, permission_set_arn=permission_set.arn,
                    managed_policy_arn=f"arn:{ctx.partition}:iam::aws:policy/{VIEW_ONLY_POLICY}", opts=sso))
            if groups[key]:
                # Assigning provisions the set into this account: its policies must exist first, and
                # on destroy the assignment goes before them (SDK docstring, "With Managed Policy
                # Attachment").
                aws.ssoadmin.AccountAssignment(
                    resource, instance_arn=instance, permission_set_arn=permission_set.arn,
                    principal_type="GROUP", principal_id=groups[key], target_type="AWS_ACCOUNT",
                    target_id=ctx.account_id,
                    opts=pulumi.ResourceOptions(parent=self, provider=args.identity_center_provider,
                                                depends_on=[policy, *attachments]))
            self.permission_set_arns[key] = permission_set.arn

        if args.alarm_log_group_name is not None:
            self._break_glass_alarm(name, args, args.alarm_log_group_name, names[BREAK_GLASS])
        self.register_outputs({"permission_set_arns": self.permission_set_arns})

    def _break_glass_alarm(self, name: str, args: WorkforceAccessArgs, log_group_name: pulumi.Input[str],
                           set_name: str) -> None:
        """Every sign-in with the break-glass set notifies the alert topic."""
        trail_event_alarm(
            f"{name}-break-glass-used", f"hipaa-aws-{args.stack}-{ALARM_KEY}",
            f"Someone signed in with the Identity Center break-glass permission set {set_name} "
            f"(the database master secret may be read)",
            log_group_name, break_glass_sign_in_pattern(args.aws, set_name), ALARM_METRIC,
            args.alert_topic_arn, self)

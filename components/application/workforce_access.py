"""Workforce access through IAM Identity Center: the permission sets people use in this stack's account.

- read-only (four hours): AWS's `job-function/ViewOnlyAccess` (resource metadata, no data), never
  `ReadOnlyAccess` (it reads S3 objects, secrets and more), plus a guardrail that denies reading
  PHI should AWS ever widen the managed policy (AWS managed policies change between versions), and
  denies listing the object keys of every stack's PHI bucket, which ViewOnlyAccess allows on every
  bucket (keys can carry PHI; the read-only set of one stack must not list another's).
- phi-operator (four hours): reads the PHI bucket, decrypts its objects with the storage key only
  through S3, connects to the database as `phi_operator_<stack>` with IAM database authentication, and
  reaches the database through the tunnel (below).
- break-glass (one hour): may assume the database break-glass role (BreakGlassAccess), the only
  identity that reads the master secret (the `rds_superuser` credential), and use the tunnel; every
  sign-in with the set and every assumption of the role raise an alarm.

The tunnel (OperatorAccess): the operator runs the stack's db-access task, tagged with their own
user id, and opens a Session Manager port-forwarding session through it. They may run that task
family only, in the stack's cluster only, pass only its two roles to ECS, and stop or open sessions
into the tasks they started only. No shell: only the port-forwarding document, checked for every
session, and no ECS Exec.

Each permission set's grants are customer-managed IAM policies in this account, referenced by name
and path, not permission-set inline policies: Identity Center provisions an inline policy as an
inline policy (`AwsSSOInlinePolicy`) on the `AWSReservedSSO_*` role, which the HIPAA conformance
pack's iam-no-inline-policy-check flags, and an `aws.iam.Policy` is judged by the policy pack like
every other grant. Identity Center requires a policy of that name and path in every account the
set is assigned to (sso-admin `CustomerManagedPolicyReference`), so assignments wait for them.

Who creates the permission sets and assignments is `identityCenter.managedBy`. `stack` (a single-
account team): this component, through the provider of the account and region that administer the
Identity Center instance (its management or delegated administrator account; by default this stack's).
`organization` (each environment in its own member account): the organization project
(components/organization/identity_center.py, WorkforcePermissionSets, with the same names, descriptions,
session lengths and policy references, from `workforce_permission_set` below); this component then
creates only what belongs to this account: the policies and the alarm.

MFA is an Identity Center instance setting with no API: it cannot be deployed. Require it in the
IAM Identity Center console (Settings, Authentication, Multi-factor authentication: prompt every
time users sign in, and require a registered device) and verify it before assigning these sets.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_aws as aws

from components.app_settings import IdentityCenterSettings, WorkforceGroups
from components.aws_context import AwsContext
from components.application.app_service import cluster_name
from components.environment.break_glass import assume_statements
from components.application.operator_access import execution_role_name, task_family, task_role_name
from components.policy_documents import database_user, database_user_arn, key_by_alias, policy_json
from components.role_policy import iam_path
from components.runbooks import with_runbook
from components.environment.security_alarms import trail_event_alarm

READ_ONLY, PHI_OPERATOR, BREAK_GLASS = "read-only", "phi-operator", "break-glass"
PERMISSION_SETS = (READ_ONLY, PHI_OPERATOR, BREAK_GLASS)
# ISO-8601 durations; Identity Center allows PT1H to PT12H. The issue allows four hours at most,
# one hour for break-glass.
SESSION_DURATIONS = {READ_ONLY: "PT4H", PHI_OPERATOR: "PT4H", BREAK_GLASS: "PT1H"}
DESCRIPTIONS = {
    READ_ONLY: "View resource configuration and metadata; no data, objects, secrets or log contents",
    PHI_OPERATOR: ("Read the PHI bucket and connect to the database as phi_operator_<stack> through "
                   "Session Manager"),
    BREAK_GLASS: ("Emergency: assume the database break-glass role, which reads the master secret "
                  "(one hour, alarmed)"),
}
# Only the job-function policy: never ReadOnlyAccess, which reads S3 objects and secret values.
VIEW_ONLY_POLICY = "job-function/ViewOnlyAccess"
PHI_OPERATOR_DB_ROLE = "phi_operator"  # the database user is phi_operator_<stack>
PORT_FORWARDING_DOCUMENT = "AWS-StartPortForwardingSessionToRemoteHost"
# The tag each operator puts on the db-access task they run (`--tags key=Operator,value=<their
# aws:userid>`): what makes a task theirs to stop and to tunnel through.
OPERATOR_TAG = "Operator"
# Every stack's PHI bucket, whatever the stack and account: AwsContext.bucket_name(stack,
# "phi-documents") is `hipaa-aws-<stack>-phi-documents-<account>`.
PHI_BUCKETS = "hipaa-aws-*-phi-documents-*"
# Listing a bucket's objects, their versions, its multipart uploads and an upload's parts all return
# object keys (Service Authorization Reference, Amazon S3: the List access level).
OBJECT_KEY_LISTING = ("s3:ListBucket", "s3:ListBucketVersions", "s3:ListBucketMultipartUploads",
                      "s3:ListMultipartUploadParts")
# sso-admin CreatePermissionSet Name (botocore sso-admin model).
PERMISSION_SET_NAME = re.compile(r"[\w+=,.@-]{1,32}")
ALARM_KEY = "workforce-break-glass-used"
ALARM_METRIC = "WorkforceBreakGlassUsed"


def permission_set_name(stack: str, key: str) -> str:
    """Unique per Identity Center instance, which every stack shares: the stack is in the name."""
    return f"hipaa-{stack}-{key}"


def policy_name(stack: str, key: str) -> str:
    return f"hipaa-aws-{stack}-workforce-{key}"


def policy_reference(stack: str, key: str) -> tuple[str, str]:
    """Name and path of the customer-managed policy the stack's `key` set references: the policy the
    stack creates in its own account, where Identity Center looks it up by name and path."""
    return policy_name(stack, key), iam_path(stack)


def set_groups(groups: WorkforceGroups) -> dict[str, Optional[str]]:
    """The Identity Store group each set is assigned to in the stack's account (None: no one)."""
    return {READ_ONLY: groups.read_only, PHI_OPERATOR: groups.phi_operator, BREAK_GLASS: groups.break_glass}


def permission_set_names(stack: str) -> tuple[dict[str, str], list[str]]:
    """The stack's permission set names, and what is wrong with them (empty: nothing)."""
    names = {key: permission_set_name(stack, key) for key in PERMISSION_SETS}
    return names, [
        f"permission set name {value!r} is {len(value)} characters or has characters outside "
        f"[A-Za-z0-9_+=,.@-]; Identity Center allows 32 (use a stack name of at most "
        f"{32 - len(value) + len(stack)} characters)"
        for value in names.values() if not PERMISSION_SET_NAME.fullmatch(value)]


def validate(name: str, args: WorkforceAccessArgs) -> dict[str, str]:
    """The permission set names, or a RunError naming what is wrong, before anything is created."""
    names, problems = permission_set_names(args.stack)
    partition = args.settings.instance_arn.split(":")[1]
    if partition != args.aws.partition:
        problems.append(f"identityCenter.instanceArn is in partition {partition}, the stack deploys to "
                        f"{args.aws.partition}")
    if args.settings.managed_by == "organization" and args.identity_center_provider is not None:
        problems.append("identityCenter.managedBy is organization: the organization creates the permission "
                        "sets, so no Identity Center provider is used here")
    if problems:
        raise pulumi.RunError(f"workforce access {name} (stack {args.stack}): " + "; ".join(problems))
    return names


def read_only_guardrail_statements(partition: str) -> list[dict]:
    """Denials that keep the read-only set away from PHI whatever ViewOnlyAccess grants."""
    phi_buckets = f"arn:{partition}:s3:::{PHI_BUCKETS}"
    return [
        {"Sid": "NoObjectReads", "Effect": "Deny", "Action": "s3:GetObject*", "Resource": "*"},
        # Object keys can carry PHI (file names). ViewOnlyAccess allows s3:ListBucket on every
        # bucket, so every stack's PHI bucket is named here, not only this stack's; and any access
        # point, through which a bucket's keys can be listed too.
        {"Sid": "NoPhiObjectListing", "Effect": "Deny", "Action": list(OBJECT_KEY_LISTING),
         "Resource": [phi_buckets, f"{phi_buckets}/*", f"arn:{partition}:s3:*:*:accesspoint/*"]},
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
    """Reach the private database from a laptop: run the stack's db-access task (OperatorAccess),
    then a Session Manager port-forwarding session to the database through it, and nothing a shell
    could do.

    - ecs:RunTask on the db-access family (any revision), in this stack's cluster, with ECS Exec on
      (its SSM agent is what forwards the port). RunTask checks iam:PassRole on the task's roles
      (and on any role override): only the db-access task role and the execution role, only to ECS.
    - The operator tags the task with their own user id when they run it (tag-on-create needs
      ecs:TagResource with ecs:CreateAction, ECS guide "Grant permission to tag resources on
      creation"); stopping a task and opening a session into it need that tag: their own task, never
      the application's.
    - ssm:StartSession authorizes both the target (an ECS task, `task/<cluster>/<id>` as in the ECS
      guide's "Limiting access to the Start Session action") and the session document; with
      ssm:SessionDocumentAccessCheck the default shell document (SSM-SessionManagerRunShell) also
      needs an explicit grant, which this policy never gives. No ecs:ExecuteCommand: a shell.
    """
    sessions = ctx.arn("ssm", "session/*")
    cluster = cluster_name(stack)
    tasks = ctx.arn("ecs", f"task/{cluster}/*")
    checked = {"BoolIfExists": {"ssm:SessionDocumentAccessCheck": "true"}}
    own_task = {"StringEquals": {f"aws:ResourceTag/{OPERATOR_TAG}": "${aws:userid}"}}
    roles = [ctx.arn("iam", f"role{iam_path(stack)}{name}", region=False)
             for name in (task_role_name(stack), execution_role_name(stack))]
    return [
        {"Sid": "RunDatabaseAccessTask", "Effect": "Allow", "Action": "ecs:RunTask",
         "Resource": ctx.arn("ecs", f"task-definition/{task_family(stack)}:*"),
         "Condition": {"ArnEquals": {"ecs:cluster": ctx.arn("ecs", f"cluster/{cluster}")},
                       "StringEquals": {"ecs:enable-execute-command": "true"}}},
        {"Sid": "TagOwnTaskAtLaunch", "Effect": "Allow", "Action": "ecs:TagResource", "Resource": "*",
         "Condition": {"StringEquals": {"ecs:CreateAction": "RunTask",
                                        f"aws:RequestTag/{OPERATOR_TAG}": "${aws:userid}"}}},
        {"Sid": "PassDatabaseAccessRoles", "Effect": "Allow", "Action": "iam:PassRole", "Resource": roles,
         "Condition": {"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}}},
        {"Sid": "StopOwnTask", "Effect": "Allow", "Action": "ecs:StopTask", "Resource": tasks,
         "Condition": own_task},
        {"Sid": "PortForwardThroughOwnTask", "Effect": "Allow", "Action": "ssm:StartSession",
         "Resource": tasks, "Condition": {**checked, **own_task}},
        {"Sid": "PortForwardingDocument", "Effect": "Allow", "Action": "ssm:StartSession",
         "Resource": f"arn:{ctx.partition}:ssm:{ctx.region}::document/{PORT_FORWARDING_DOCUMENT}",
         "Condition": checked},
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
        # run-task's --network-configuration: an app subnet and the app security group.
        {"Sid": "FindTaskNetwork", "Effect": "Allow",
         "Action": ["ec2:DescribeSubnets", "ec2:DescribeSecurityGroups"], "Resource": "*"},
    ]


def workforce_break_glass_statements(ctx: AwsContext, stack: str) -> list[dict]:
    """Assume the break-glass role, which reads the master secret (BreakGlassAccess), and the way to
    the database: the secret is of no use without a path to the private database. The set never
    reads the secret itself: the role's assumption is the one path, and the one the alarm watches."""
    return [*assume_statements(ctx, stack), *tunnel_statements(ctx, stack)]


def break_glass_sign_in_pattern(ctx: AwsContext, set_name: str) -> str:
    """CloudTrail records, in this account, an sts AssumeRoleWithSAML of the role Identity Center
    provisioned for the set: `role/aws-reserved/sso.amazonaws.com/[<region>/]AWSReservedSSO_<set>_<id>`.
    Filter wildcards match only at the start or end of a value, hence two conditions."""
    roles = ctx.arn("iam", "role/aws-reserved/sso.amazonaws.com/*", region=False)
    return ('{ ($.eventSource = "sts.amazonaws.com") && ($.eventName = "AssumeRoleWithSAML") && '
            f'($.requestParameters.roleArn = "{roles}") && '
            f'($.requestParameters.roleArn = "*/AWSReservedSSO_{set_name}_*") }}')


def workforce_permission_set(
        resource: str, key: str, *, stack: str, instance_arn: str, partition: str,
        account_id: pulumi.Input[str], group_id: Optional[str],
        policy: tuple[pulumi.Input[str], pulumi.Input[Optional[str]]], parent: pulumi.Resource,
        provider: Optional[pulumi.ProviderResource], wait_for: Sequence[pulumi.Resource] = (),
        tags: Optional[Mapping[str, str]] = None) -> aws.ssoadmin.PermissionSet:
    """The `key` permission set of `stack`: its description and session length, the customer-managed
    policy `policy` (name, path) and, for read-only, ViewOnlyAccess; with a group, its assignment to
    `account_id`. Created through `provider` (None: the parent's), whoever administers the instance:
    the stack itself (WorkforceAccess) or the organization (WorkforcePermissionSets)."""
    sso = pulumi.ResourceOptions(parent=parent, provider=provider)
    permission_set = aws.ssoadmin.PermissionSet(
        resource, name=permission_set_name(stack, key), instance_arn=instance_arn,
        description=DESCRIPTIONS[key], session_duration=SESSION_DURATIONS[key], tags=tags, opts=sso)
    attachments: list[pulumi.Resource] = [aws.ssoadmin.CustomerManagedPolicyAttachment(
        resource, instance_arn=instance_arn, permission_set_arn=permission_set.arn,
        customer_managed_policy_reference=aws.ssoadmin
        .CustomerManagedPolicyAttachmentCustomerManagedPolicyReferenceArgs(name=policy[0], path=policy[1]),
        opts=sso)]
    if key == READ_ONLY:
        attachments.append(aws.ssoadmin.ManagedPolicyAttachment(
            resource, instance_arn=instance_arn, permission_set_arn=permission_set.arn,
            managed_policy_arn=f"arn:{partition}:iam::aws:policy/{VIEW_ONLY_POLICY}", opts=sso))
    if group_id:
        # Assigning provisions the set into the account: its policies must exist first, and on
        # destroy the assignment goes before them (SDK docstring, "With Managed Policy Attachment").
        aws.ssoadmin.AccountAssignment(
            resource, instance_arn=instance_arn, permission_set_arn=permission_set.arn,
            principal_type="GROUP", principal_id=group_id, target_type="AWS_ACCOUNT", target_id=account_id,
            opts=pulumi.ResourceOptions(parent=parent, provider=provider,
                                        depends_on=[*wait_for, *attachments]))
    return permission_set


def break_glass_alarm(resource: str, ctx: AwsContext, stack: str, log_group_name: pulumi.Input[str],
                      topic_arn: pulumi.Input[str], parent: pulumi.Resource,
                      metric: str = ALARM_METRIC) -> None:
    """Every sign-in with `stack`'s break-glass set into `ctx`'s account, as the trail writing to
    `log_group_name` records it, notifies `topic_arn` (same account and region as the log group)."""
    set_name = permission_set_name(stack, BREAK_GLASS)
    trail_event_alarm(
        resource, f"hipaa-aws-{stack}-{ALARM_KEY}",
        with_runbook(f"Someone signed in with the Identity Center break-glass permission set {set_name} "
                     f"(they may now assume the database break-glass role, which reads the master secret)",
                     ALARM_KEY),
        log_group_name, break_glass_sign_in_pattern(ctx, set_name), metric, topic_arn, parent)


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
    """ARN of each permission set: read-only, phi-operator, break-glass (none: the organization's)."""

    def __init__(self, name: str, args: WorkforceAccessArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("hipaa:components:WorkforceAccess", name, None, opts)
        validate(name, args)
        ctx = args.aws
        child = pulumi.ResourceOptions(parent=self)
        instance = args.settings.instance_arn
        path = iam_path(args.stack)

        documents: dict[str, pulumi.Input[str]] = {
            READ_ONLY: policy_json(*read_only_guardrail_statements(ctx.partition)),
            PHI_OPERATOR: policy_json(*phi_operator_statements(ctx, args.stack, args.phi_bucket_arn)),
            BREAK_GLASS: policy_json(*workforce_break_glass_statements(ctx, args.stack)),
        }
        groups = set_groups(args.settings.groups)

        self.permission_set_arns = {}
        for key in PERMISSION_SETS:
            resource = f"{name}-{key}"
            # No description: IAM's is immutable (botocore iam CreatePolicy), so editing its prose
            # would replace this named policy, and IAM refuses to create the new one while the old,
            # still attached, keeps the name. The permission set carries the description.
            policy = aws.iam.Policy(
                resource, name=policy_name(args.stack, key), path=path,
                policy=documents[key], opts=child)
            if args.settings.managed_by == "organization":
                continue  # the organization creates the set and its assignments (identity_center.py)
            permission_set = workforce_permission_set(
                resource, key, stack=args.stack, instance_arn=instance, partition=ctx.partition,
                account_id=ctx.account_id, group_id=groups[key], policy=(policy.name, policy.path),
                parent=self, provider=args.identity_center_provider, wait_for=[policy])
            self.permission_set_arns[key] = permission_set.arn

        if args.alarm_log_group_name is not None:
            break_glass_alarm(f"{name}-break-glass-used", args.aws, args.stack, args.alarm_log_group_name,
                              args.alert_topic_arn, self)
        self.register_outputs({"permission_set_arns": self.permission_set_arns})

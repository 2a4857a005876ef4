"""`hipaa-aws:index:HipaaEnvironment`: a whole stack of this project (environment layer, account layer
where it owns its account's controls, application tier) as one component of another team's program.

Its inputs are the project's stack settings (components/settings.py), one input per `hipaa-aws:` key,
with the same camelCase names, validated by the same code with the same messages before anything is
created. What differs from this project's own stacks:
- the settings come from the component's inputs, not from the stack's `hipaa-aws:` config;
- the tags and the PHI log groups' deletion protection are the child's `transforms` option, which the
  engine applies to the component's descendants only (a stack transform registered here would change
  the consuming program's own resources too: pkg/resource/deploy/source_eval.go applies a monitor's
  stack transforms to every registration);
- `aws:region` and `aws:allowedAccountIds` are still read from the consuming stack's config, which
  pins the default AWS provider to one account and region exactly as this project's stack files do.
"""

from collections.abc import Mapping
from enum import StrEnum
from typing import Any, NotRequired, Optional, TypedDict, get_args

import pulumi
from pulumi.provider.experimental.util import camel_case
from pydantic import BaseModel

from components.aws_context import lookup_aws_context
from components.package import PACKAGE_NAME
from components.settings import Settings, parse_settings
from components.package.composition import compose_stack
from components.stack_transforms import stack_transforms


class DataClassification(StrEnum):
    """Whether the environment may hold protected health information."""

    PHI = "phi"
    """It may hold PHI: everything holding PHI or evidence is protected and COMPLIANCE-locked."""
    SYNTHETIC = "synthetic"
    """It must not hold PHI: `pulumi destroy` removes everything."""


class AccountBaseline(StrEnum):
    """Who owns the account's region-wide controls (GuardDuty, Security Hub, AWS Config, ...)."""

    OWNED = "owned"
    """This environment creates and keeps all of them, and its trail records management events."""
    ORGANIZATION = "organization"
    """The account is a member of the AWS Organization built by this project's organization/."""
    EXTERNAL = "external"
    """Another stack or Control Tower owns them; this environment creates none."""


class CacheEngine(StrEnum):
    """The session cache's ElastiCache engine."""

    VALKEY = "valkey"
    """Valkey (the default)."""
    REDIS = "redis"
    """Redis OSS."""


class PermissionSetOwner(StrEnum):
    """Who creates the Identity Center permission sets."""

    STACK = "stack"
    """This environment (its account is the management or delegated administrator account)."""
    ORGANIZATION = "organization"
    """This project's organization/ project creates and assigns them."""


class DatabaseSettings(TypedDict):
    """The PHI database (RDS PostgreSQL with pgAudit); every key has a secure default."""

    instance_class: NotRequired[str]
    """RDS instance class (default db.m7g.large)."""
    engine_version: NotRequired[str]
    """PostgreSQL major version (14 to 17), optionally with a minor (default 16)."""
    allocated_storage_gb: NotRequired[int]
    """Initial storage in GiB, 20 to 65536 (default 100)."""
    max_allocated_storage_gb: NotRequired[int]
    """Storage autoscaling ceiling in GiB, at least allocatedStorageGb (default 500)."""
    multi_az: NotRequired[bool]
    """Multi-AZ deployment; must be true where PHI is held (default true)."""
    deletion_protection: NotRequired[bool]
    """RDS deletion protection; must be true where PHI is held (default true)."""
    backup_retention_days: NotRequired[int]
    """Automated backup retention, 1 to 35 days (7 to 35 where PHI is held; default 35)."""
    snapshot_identifier: NotRequired[str]
    """Restore from this snapshot (PHI environments only)."""
    restore_from_instance: NotRequired[str]
    """Restore from this instance's automated backups (PHI environments only)."""


class StorageSettings(TypedDict):
    """The PHI document bucket's lifecycle."""

    archive_transition_days: NotRequired[int]
    """Days before current documents move to S3 Glacier Instant Retrieval, 1 to 3650 (default 90)."""
    noncurrent_version_expiration_days: NotRequired[int]
    """Days old versions are kept, 30 to 36500 (default 2192, six years)."""


class AppSettings(TypedDict):
    """The application: an HTTPS load balancer in front of a Fargate service."""

    image: NotRequired[str]
    """A full image reference; unset: the environment's ECR repository at imageTag."""
    image_tag: NotRequired[str]
    """The tag in the environment's ECR repository."""
    cpu: NotRequired[int]
    """Fargate task CPU units (default 512)."""
    memory_mib: NotRequired[int]
    """Fargate task memory in MiB, one the CPU size allows (default 1024)."""
    desired_count: NotRequired[int]
    """Tasks running normally, 0 to 100 (default 2)."""
    max_count: NotRequired[int]
    """Most tasks autoscaling runs, 1 to 100 (default 6)."""
    health_check_path: NotRequired[str]
    """Path the load balancer checks (default /health)."""
    certificate_arn: NotRequired[str]
    """ACM certificate of the environment's region for the HTTPS listener."""
    hosted_zone_id: NotRequired[str]
    """Route 53 hosted zone that validates a new certificate for domainName."""
    domain_name: NotRequired[str]
    """The application's DNS name."""
    allowed_client_cidrs: NotRequired[list[str]]
    """Client ranges the load balancer accepts (default 0.0.0.0/0)."""


class WorkforceGroups(TypedDict):
    """Identity Center group ids assigned to the permission sets."""

    read_only: NotRequired[str]
    """Group given read-only access."""
    phi_operator: NotRequired[str]
    """Group given PHI operator access."""
    break_glass: NotRequired[str]
    """Group given break-glass access."""


class IdentityCenterSettings(TypedDict):
    """Workforce permission sets in IAM Identity Center."""

    instance_arn: str
    """The Identity Center instance ARN."""
    groups: NotRequired[WorkforceGroups]
    """Groups to assign."""
    managed_by: NotRequired[PermissionSetOwner]
    """Who creates the permission sets (default stack)."""


class CacheSettings(TypedDict):
    """The session cache (ElastiCache, encrypted, in the data subnets)."""

    engine: NotRequired[CacheEngine]
    """Cache engine (default valkey)."""
    engine_version: NotRequired[str]
    """Engine version, major.minor (default 8.0)."""
    node_type: NotRequired[str]
    """Node type (default cache.t4g.small)."""
    node_count: NotRequired[int]
    """Nodes, 1 to 6 (default 2)."""


class AccountLayerSettings(TypedDict):
    """How the account layer adopts what the account already has (owner environment only)."""

    config_recorder_name: NotRequired[str]
    """The account's existing AWS Config recorder, adopted and updated in place."""
    config_delivery_channel_name: NotRequired[str]
    """The account's existing AWS Config delivery channel."""
    authorized_vpc_ids: NotRequired[list[str]]
    """Other environments' VPCs in this account allowed an internet gateway."""


class BusinessHours(TypedDict):
    """The hours in which PHI access is expected (local hours at a fixed UTC offset, end exclusive)."""

    start: NotRequired[int]
    """First business hour, 0 to 23 (default 7)."""
    end: NotRequired[int]
    """Hour the window ends, 1 to 24, after start (default 19)."""
    utc_offset: NotRequired[str]
    """Whole-hour UTC offset such as -05:00 (default +00:00); it does not follow daylight saving time."""


class AuditSettings(TypedDict):
    """Thresholds of the alarms on the application's audit events; every key has a default."""

    bulk_read_records: NotRequired[int]
    """Records one actor may read or export in one window before the alarm, 1 to 10000000 (default 500)."""
    bulk_read_window_minutes: NotRequired[int]
    """The window, 1 to 60 minutes, over which one actor's records are summed (default 5)."""
    business_hours: NotRequired[BusinessHours]
    """The hours in which PHI access is expected."""
    failed_sign_ins_band_width: NotRequired[float]
    """Standard deviations above the failed sign-ins baseline before the alarm, 1 to 10 (default 3)."""
    off_hours_accesses: NotRequired[int]
    """PHI accesses outside business hours in 5 minutes that raise the alarm, 1 to 100000 (default 1)."""


class HipaaEnvironmentArgs(TypedDict):
    """The environment's settings: the keys of this project's stack files, without `hipaa-aws:`."""

    stack: NotRequired[str]
    """Name in resource names (buckets, roles, permission sets), 1 to 13 characters (default: stack name)."""
    data_classification: DataClassification
    """phi when the environment may hold protected health information, synthetic when it must not."""
    owner: str
    """Email address of the team accountable for this environment (Owner tag)."""
    cost_center: str
    """Cost center charged for this environment (CostCenter tag)."""
    alert_email: str
    """Address subscribed to the security alert topic (confirm the subscription email)."""
    account_baseline: AccountBaseline
    """Who owns the account's region-wide controls: owned, organization or external."""
    vpc_cidr: NotRequired[str]
    """RFC 1918 VPC range, /16 to /21 (default 10.0.0.0/16)."""
    availability_zone_count: NotRequired[int]
    """Availability zones to span, 2 to 6, at least 3 where PHI is held (default 3)."""
    nat_gateway_per_az: NotRequired[bool]
    """One NAT gateway per AZ instead of a single shared one (default true)."""
    audit_log_retention_days: NotRequired[int]
    """CloudWatch retention for audit logs, at least 2192 days (six years; default 2192)."""
    app_port: NotRequired[int]
    """Port the application listens on behind the load balancer (default 8443)."""
    phi_read_alarm_threshold: NotRequired[int]
    """PHI bucket object reads by one principal in 5 minutes that raise an alarm (default 500)."""
    backup_copy_region: NotRequired[str]
    """Another region of the partition that receives copies of the backups."""
    key_administrators: NotRequired[list[str]]
    """IAM role ARNs that administer the environment's KMS keys; must include the deploying role."""
    database: NotRequired[DatabaseSettings]
    """The PHI database."""
    storage: NotRequired[StorageSettings]
    """The PHI document bucket's lifecycle."""
    app: NotRequired[AppSettings]
    """The application tier; not built when unset."""
    identity_center: NotRequired[IdentityCenterSettings]
    """Workforce permission sets; not built when unset."""
    cache: NotRequired[CacheSettings]
    """The session cache; not built when unset."""
    account_layer: NotRequired[AccountLayerSettings]
    """How the account layer adopts the account's existing AWS Config (owned or organization only)."""
    audit: NotRequired[AuditSettings]
    """Thresholds of the alarms on the application's audit events."""


class Containment(TypedDict):
    """The incident containment runbooks (built with the application) and what running them needs."""

    fargate_runbook: str
    """The SSM Automation document that isolates or restores the application's Fargate service."""
    automation_role_arns: dict[str, str]
    """The role each containment runbook assumes (its AutomationAssumeRole), by runbook name."""
    backup_bucket_name: str
    """The bucket AWS's containment runbooks back up what they change to (their BackupS3BucketName)."""
    isolation_security_group_id: str
    """The security group without ingress or egress rules the Fargate runbook gives the contained service."""


def _python_names(typed: type, value: pulumi.Input[Any]) -> dict[str, Any]:
    """A camelCase export (`containment`) with its keys as the type's attribute names: the provider host
    reads a complex output by those (ComponentProvider.map_complex_output) and renames them back. An
    export key the type lacks raises here rather than vanishing from the component's outputs."""
    if not isinstance(value, Mapping):
        raise TypeError(f"the export of {typed.__name__} must be a mapping of its fields, not {value!r}")
    names = {camel_case(key): key for key in typed.__annotations__}
    return {names[key]: item for key, item in value.items()}


def _model_of(annotation: Any) -> Optional[type[BaseModel]]:
    """The settings model of a field: its type, or the model inside Optional[...]."""
    return next((a for a in (annotation, *get_args(annotation))
                 if isinstance(a, type) and issubclass(a, BaseModel)), None)


def _as_config(model: type[BaseModel], values: Mapping[str, Any]) -> dict[str, Any]:
    """Inputs (Python names, enum members) as the stack config spells them (camelCase, plain values),
    so one validator (settings.parse_settings) judges both; an unknown key is kept for it to refuse."""
    config: dict[str, Any] = {}
    for key, value in values.items():
        field = model.model_fields.get(key)
        if isinstance(value, StrEnum):
            value = value.value
        nested = _model_of(field.annotation) if field else None
        if nested is not None and isinstance(value, Mapping):
            value = _as_config(nested, value)
        config[(field.alias or key) if field else key] = value
    return config


def environment_settings(name: str, args: Mapping[str, Any], default_stack: str,
                         aws_config: Mapping[str, Any]) -> Settings:
    """The validated settings of the component `name`; raises pulumi.RunError listing every problem.

    `aws_config` is the consuming stack's `aws:region` and `aws:allowedAccountIds`."""
    values = dict(args)
    stack = values.pop("stack", None) or default_stack
    try:
        return parse_settings(stack, _as_config(Settings, values), aws=aws_config)
    except pulumi.RunError as err:
        # The same problems, said of the component's inputs rather than of a stack file.
        raise pulumi.RunError(str(err).replace(
            f"in stacks/Pulumi.{stack}.yaml", f"in the inputs of {PACKAGE_NAME}:index:HipaaEnvironment "
            f"'{name}' (input names after '{PACKAGE_NAME}:')")) from None


class HipaaEnvironment(pulumi.ComponentResource):
    """A HIPAA-ready AWS environment: one stack of the hipaa-aws project: keys, network, PHI stores, audit."""

    vpc_id: pulumi.Output[str]
    """The VPC."""
    public_subnet_ids: pulumi.Output[list[str]]
    """The load balancer tier's subnets."""
    app_subnet_ids: pulumi.Output[list[str]]
    """The application tier's subnets."""
    data_subnet_ids: pulumi.Output[list[str]]
    """The data tier's subnets (database, cache)."""
    database_endpoint: pulumi.Output[str]
    """The database's address and port."""
    database_iam_user: pulumi.Output[str]
    """The database role the workload connects as with IAM authentication."""
    database_secret_arn: pulumi.Output[str]
    """The RDS-managed master secret (break-glass only)."""
    database_break_glass_role_arn: pulumi.Output[str]
    """The role that may read the master secret."""
    phi_bucket_name: pulumi.Output[str]
    """The PHI document bucket."""
    access_log_bucket_name: pulumi.Output[str]
    """The server access log bucket."""
    trail_arn: pulumi.Output[str]
    """The CloudTrail trail."""
    alert_topic_arn: pulumi.Output[str]
    """The security alert SNS topic."""
    workload_role_arn: pulumi.Output[str]
    """The role the application runs as."""
    backup_vault_name: pulumi.Output[str]
    """The AWS Backup vault."""
    key_arns: pulumi.Output[dict[str, str]]
    """The KMS keys' ARNs by purpose."""
    account_baseline: pulumi.Output[str]
    """Who owns the account's region-wide controls."""
    application_url: Optional[pulumi.Output[str]]
    """The application's HTTPS URL, when app is set."""
    load_balancer_dns_name: Optional[pulumi.Output[str]]
    """The load balancer's DNS name, when app is set."""
    image_repository_url: Optional[pulumi.Output[str]]
    """The ECR repository, when app is set."""
    ecs_cluster: Optional[pulumi.Output[str]]
    """The ECS cluster, when app is set."""
    ecs_service: Optional[pulumi.Output[str]]
    """The ECS service, when app is set."""
    database_access_task_family: Optional[pulumi.Output[str]]
    """The task family operators run to reach the database, when app is set."""
    containment: Optional[pulumi.Output[Containment]]
    """The incident containment runbooks and their roles, when app is set."""

    def __init__(self, name: str, args: HipaaEnvironmentArgs, opts: Optional[pulumi.ResourceOptions] = None):
        aws_config = pulumi.Config("aws")
        settings = environment_settings(name, args, pulumi.get_stack(),
                                        {key: aws_config.get(key) for key in ("region", "allowedAccountIds")})
        super().__init__(f"{PACKAGE_NAME}:index:HipaaEnvironment", name, None, opts)
        stack = compose_stack(name, settings, lookup_aws_context(), pulumi.ResourceOptions(
            parent=self, transforms=stack_transforms(settings)))
        outputs = stack.operator_outputs()
        for key, value in outputs.items():
            typed = OUTPUT_TYPES.get(key)
            setattr(self, OUTPUT_ATTRIBUTES[key],
                    pulumi.Output.from_input(_python_names(typed, value) if typed else value))
        self.register_outputs(outputs)


# The stack's export names (camelCase, as in this project's stacks) -> the attributes above.
OUTPUT_ATTRIBUTES = {
    "vpcId": "vpc_id", "publicSubnetIds": "public_subnet_ids", "appSubnetIds": "app_subnet_ids",
    "dataSubnetIds": "data_subnet_ids", "databaseEndpoint": "database_endpoint",
    "databaseIamUser": "database_iam_user", "databaseSecretArn": "database_secret_arn",
    "databaseBreakGlassRoleArn": "database_break_glass_role_arn", "phiBucketName": "phi_bucket_name",
    "accessLogBucketName": "access_log_bucket_name", "trailArn": "trail_arn",
    "alertTopicArn": "alert_topic_arn", "workloadRoleArn": "workload_role_arn",
    "backupVaultName": "backup_vault_name", "keyArns": "key_arns", "accountBaseline": "account_baseline",
    "applicationUrl": "application_url", "loadBalancerDnsName": "load_balancer_dns_name",
    "imageRepositoryUrl": "image_repository_url", "ecsCluster": "ecs_cluster", "ecsService": "ecs_service",
    "databaseAccessTaskFamily": "database_access_task_family", "containment": "containment",
}
# The exports that are objects of named fields -> their schema types.
OUTPUT_TYPES: dict[str, type] = {"containment": Containment}

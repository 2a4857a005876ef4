"""A resource with an explicit physical name survives its own replacement (issue 16).

Pulumi replaces a resource create-before-destroy unless `delete_before_replace` is set: the new
resource is created while the old one still exists. With a fixed name, AWS refuses the second one
(`DuplicateTargetGroupName`, `EntityAlreadyExists`, `AlreadyExistsException`...), or worse: S3 in
us-east-1 answers 200 to CreateBucket for a bucket the account already owns (botocore `s3`
BucketAlreadyOwnedByYou: "For legacy compatibility, if you re-create an existing bucket that you
already own in the North Virginia Region, Amazon S3 returns 200 OK"), and the old bucket's delete
then removes the new one. A replacement follows a change to an input only the create call takes
(tests/aws_reference.py `create_only_inputs`, derived from botocore's service models).

Every registered resource with an explicit name and a create-only input besides it holds one of:
- no explicit name (pulumi autonaming or `name_prefix`: a replacement gets a new random suffix);
- `delete_before_replace=True` (the old one is gone before the new one is created);
- the name is derived from each create-only input (DERIVED: a change to the input changes the name);
- `protect=True`: the engine refuses to replace a protected resource at preview
  (pulumi/pulumi pkg/resource/deploy/step_generator.go: "unable to replace resource ... as it is
  currently marked for protection"). That is the remedy for PHI stores, evidence and keys in a PHI
  stack, where deleting first is not acceptable: a replacement there is a planned migration.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pytest

from components.application.ingress import MAX_LOAD_BALANCER_NAME, load_balancer_name
from preflight.program_runner import ProgramRun
from tests import aws_reference as ref
from tests.conftest import cached_run, run_stack

STACKS = ("prod", "staging")


@dataclass(frozen=True)
class NameRule:
    prop: str
    """The input holding the resource's own physical name."""
    unique: str
    """Where AWS requires the name unique, and the page (or model) that says so."""
    scope: tuple[str, ...] = ()
    """Inputs the name is unique within: a change to one of them gives the replacement a new identity."""


# Registered types whose name AWS keeps unique. Pages checked 2026-12-06.
PHYSICAL_NAMES: dict[str, NameRule] = {
    "aws:accessanalyzer/analyzer:Analyzer": NameRule(
        "analyzerName", "per account and region (CreateAnalyzer: ConflictException)"),
    "aws:appautoscaling/policy:Policy": NameRule(
        "name", "per scalable target (PutScalingPolicy)",
        scope=("resourceId", "scalableDimension", "serviceNamespace")),
    "aws:backup/plan:Plan": NameRule(
        "name", "per account and region (CreateBackupPlan: AlreadyExistsException)"),
    # botocore backup CreateBackupSelection lists AlreadyExistsException; whether AWS compares the
    # name within the plan is not documented: treated as unique (the safe assumption).
    "aws:backup/selection:Selection": NameRule(
        "name", "per backup plan (CreateBackupSelection: AlreadyExistsException)", scope=("planId",)),
    "aws:backup/vault:Vault": NameRule(
        "name", "per account and region (CreateBackupVault: AlreadyExistsException)"),
    "aws:cfg/conformancePack:ConformancePack": NameRule(
        "name", "per account and region (PutConformancePack)"),
    "aws:cfg/deliveryChannel:DeliveryChannel": NameRule(
        "name", "one per account and region (PutDeliveryChannel: "
                "MaxNumberOfDeliveryChannelsExceededException)"),
    "aws:cfg/recorder:Recorder": NameRule(
        "name", "one per account and region (PutConfigurationRecorder: "
                "MaxNumberOfConfigurationRecordersExceededException)"),
    "aws:cloudtrail/trail:Trail": NameRule(
        "name", "per account and region (CreateTrail: TrailAlreadyExistsException)"),
    "aws:cloudwatch/contributorInsightRule:ContributorInsightRule": NameRule(
        "ruleName", "per account and region (PutInsightRule)"),
    "aws:cloudwatch/eventRule:EventRule": NameRule(
        "name", "per event bus (PutRule)", scope=("eventBusName",)),
    "aws:cloudwatch/logGroup:LogGroup": NameRule(
        "name", "per account and region (CreateLogGroup: ResourceAlreadyExistsException)"),
    "aws:cloudwatch/logMetricFilter:LogMetricFilter": NameRule(
        "name", "per log group (PutMetricFilter)", scope=("logGroupName",)),
    "aws:cloudwatch/metricAlarm:MetricAlarm": NameRule("name", "per account and region (PutMetricAlarm)"),
    # botocore logs CreateLogStream: "Log stream names must be unique within the log group"
    # (ResourceAlreadyExistsException).
    "aws:cloudwatch/logStream:LogStream": NameRule(
        "name", "per log group (CreateLogStream: ResourceAlreadyExistsException)", scope=("logGroupName",)),
    # botocore logs PutSubscriptionFilter: "Creates or updates a subscription filter"; the name
    # identifies the filter within its log group.
    "aws:cloudwatch/logSubscriptionFilter:LogSubscriptionFilter": NameRule(
        "name", "per log group (PutSubscriptionFilter)", scope=("logGroup",)),
    # botocore firehose CreateDeliveryStream DeliveryStreamName: "must be unique per Amazon Web
    # Services account in the same Amazon Web Services Region" (ResourceInUseException).
    "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream": NameRule(
        "name", "per account and region (CreateDeliveryStream: ResourceInUseException)"),
    "aws:ecr/repository:Repository": NameRule(
        "name", "per registry (CreateRepository: RepositoryAlreadyExistsException)"),
    "aws:ecs/cluster:Cluster": NameRule(
        "name", "per account and region (CreateCluster returns the existing cluster)"),
    "aws:ecs/service:Service": NameRule(
        "name", "per cluster (CreateService: \"Creation of service was not idempotent\")",
        scope=("cluster",)),
    "aws:elasticache/replicationGroup:ReplicationGroup": NameRule(
        "replicationGroupId",
        "per account and region (CreateReplicationGroup: ReplicationGroupAlreadyExistsFault)"),
    "aws:elasticache/subnetGroup:SubnetGroup": NameRule(
        "name", "per account and region (CreateCacheSubnetGroup: CacheSubnetGroupAlreadyExistsFault)"),
    "aws:elasticache/user:User": NameRule(
        "userId", "per account and region (CreateUser: UserAlreadyExistsFault)"),
    "aws:elasticache/userGroup:UserGroup": NameRule(
        "userGroupId", "per account and region (CreateUserGroup: UserGroupAlreadyExistsFault)"),
    "aws:iam/policy:Policy": NameRule(
        "name", "per account, whatever the path (CreatePolicy: EntityAlreadyExists)"),
    "aws:iam/role:Role": NameRule("name", "per account, whatever the path (CreateRole: EntityAlreadyExists)"),
    "aws:kms/alias:Alias": NameRule("name", "per account and region (CreateAlias: AlreadyExistsException)"),
    "aws:lb/loadBalancer:LoadBalancer": NameRule(
        "name", "per account and region (CreateLoadBalancer: DuplicateLoadBalancerNameException)"),
    "aws:lb/targetGroup:TargetGroup": NameRule(
        "name", "per account and region (CreateTargetGroup: DuplicateTargetGroupNameException)"),
    "aws:rds/instance:Instance": NameRule(
        "identifier", "per account and region (CreateDBInstance: DBInstanceAlreadyExistsFault)"),
    "aws:rds/parameterGroup:ParameterGroup": NameRule(
        "name", "per account and region (CreateDBParameterGroup: DBParameterGroupAlreadyExistsFault)"),
    "aws:rds/subnetGroup:SubnetGroup": NameRule(
        "name", "per account and region (CreateDBSubnetGroup: DBSubnetGroupAlreadyExistsFault)"),
    "aws:route53/record:Record": NameRule(
        "name", "per hosted zone and record type (ChangeResourceRecordSets CREATE)",
        scope=("zoneId", "type")),
    "aws:s3/bucket:Bucket": NameRule(
        "bucket", "in the partition (CreateBucket: BucketAlreadyExists / BucketAlreadyOwnedByYou)"),
    "aws:ec2/securityGroup:SecurityGroup": NameRule(
        "name", "per VPC (CreateSecurityGroup: InvalidGroup.Duplicate)", scope=("vpcId",)),
    "aws:sns/topic:Topic": NameRule(
        "name", "per account and region (CreateTopic returns the existing topic)"),
    "aws:ssm/document:Document": NameRule(
        "name", "per account and region (CreateDocument: DocumentAlreadyExists)"),
    "aws:ssm/parameter:Parameter": NameRule(
        "name", "per account and region (PutParameter: ParameterAlreadyExists)"),
    "aws:ssoadmin/permissionSet:PermissionSet": NameRule(
        "name", "per Identity Center instance (CreatePermissionSet: ConflictException)",
        scope=("instanceArn",)),
    "aws:wafv2/webAcl:WebAcl": NameRule(
        "name", "per scope, account and region (CreateWebACL: WAFDuplicateItemException)", scope=("scope",)),
}

# Registered types with a name-like input that never collides on replacement.
NOT_PHYSICAL_NAMES: dict[str, str] = {
    "aws:ecs/taskDefinition:TaskDefinition":
        "family: RegisterTaskDefinition adds a revision to the family; a second registration never collides",
    "aws:iam/serviceLinkedRole:ServiceLinkedRole":
        "AWS names the role after awsServiceName (CreateServiceLinkedRole); one per service and account",
    "aws:guardduty/detectorFeature:DetectorFeature":
        "name: a GuardDuty feature of the detector, not a resource name",
    "aws:cfg/recorderStatus:RecorderStatus": "name: the recorder it starts (StartConfigurationRecorder)",
}


@dataclass(frozen=True)
class Derivation:
    why: str
    holds: Callable[[Mapping[str, Any], str], bool]
    """Given the registered inputs and the stack: True when the name follows from the input."""


def _path_words(inputs: Mapping[str, Any]) -> str:
    return "-".join(part for part in str(inputs.get("path", "")).split("/") if part)


# Create-only inputs the name is derived from: (type, input) -> how, checked on every registration.
DERIVED: dict[tuple[str, str], Derivation] = {
    # IAM CreateRole/CreatePolicy Path: no UpdateRole/UpdatePolicy member changes it. The name starts
    # with the path's words (`/hipaa-aws/prod/` -> `hipaa-aws-prod-...`), so a new path is a new name.
    ("aws:iam/role:Role", "path"): Derivation(
        "the role name starts with the path's words",
        lambda i, _: bool(_path_words(i)) and str(i["name"]).startswith(_path_words(i) + "-")),
    ("aws:iam/policy:Policy", "path"): Derivation(
        "the policy name starts with the path's words",
        lambda i, _: bool(_path_words(i)) and str(i["name"]).startswith(_path_words(i) + "-")),
    # ElastiCache CreateUser UserName (ModifyUser has none): the program makes user name = user id.
    ("aws:elasticache/user:User", "userName"): Derivation(
        "user name and user id are the same string", lambda i, _: i.get("userName") == i.get("userId")),
    # elbv2 CreateLoadBalancer Type and Scheme (no Modify/Set call takes them): the name is
    # components.ingress.load_balancer_name of both (test_load_balancer_names_differ_by_kind).
    **{("aws:lb/loadBalancer:LoadBalancer", prop): Derivation(
        "the name is load_balancer_name(prefix, type, scheme)",
        lambda i, stack: i.get("name") == load_balancer_name(
            f"hipaa-aws-{stack}", i.get("loadBalancerType", "application"), bool(i.get("internal"))))
       for prop in ("loadBalancerType", "internal")},
    # SSM CreateDocument DocumentType (UpdateDocument has none): the account's Session Manager
    # preferences are the Session document Session Manager looks up by this one name (Systems Manager
    # guide, "Start a default shell session by specifying the default session document in IAM policies":
    # the default session document `SSM-SessionManagerRunShell`; "Create a Session Manager preferences
    # document (command line)": created with --document-type "Session"), so the name follows from the
    # type; another type is another document.
    ("aws:ssm/document:Document", "documentType"): Derivation(
        "SSM-SessionManagerRunShell is the name of the Session-type preferences document",
        lambda i, _: i.get("documentType") == "Session" and i.get("name") == "SSM-SessionManagerRunShell"),
}

# Create-only inputs botocore's Create request does not show (another call creates the resource
# from them, or the provider uses them to choose the endpoint): (type, input) -> why.
CREATE_ONLY_BEYOND_BOTOCORE: dict[tuple[str, str], str] = {
    ("aws:rds/instance:Instance", "snapshotIdentifier"):
        "RestoreDBInstanceFromDBSnapshot DBSnapshotIdentifier: the instance is created from the snapshot "
        "(RDS API Reference, RestoreDBInstanceFromDBSnapshot)",
    ("aws:rds/instance:Instance", "restoreToPointInTime"):
        "RestoreDBInstanceToPointInTime SourceDBInstanceIdentifier: the instance is created from the source "
        "(RDS API Reference, RestoreDBInstanceToPointInTime)",
    ("aws:s3/bucket:Bucket", "region"):
        "CreateBucket CreateBucketConfiguration.LocationConstraint: a bucket stays in the Region it was "
        "created in, and its name is unique across Regions (S3 User Guide, \"Bucket naming rules\")",
}


@dataclass(frozen=True)
class Finding:
    stack: str
    urn_name: str
    type: str
    name: str
    create_only: tuple[str, ...]

    def __str__(self) -> str:
        return (f"{self.stack}: {self.type} {self.urn_name!r} named {self.name!r} would be replaced "
                f"under the same name when {', '.join(self.create_only)} change(s): autoname it, "
                f"derive the name from those inputs, set delete_before_replace where deleting first is "
                f"acceptable, or (a PHI store, evidence, a key) protect it")


def offenders(run: ProgramRun) -> list[Finding]:
    """Every resource of the run that a change to a create-only input would try to create twice
    under one name."""
    found = []
    for resource in run.resources:
        rule = PHYSICAL_NAMES.get(resource.type)
        if not resource.custom or rule is None:
            continue
        inputs = resource.inputs
        name = inputs.get(rule.prop)
        if name is None or resource.delete_before_replace or resource.protect:
            continue
        set_inputs = {*ref.create_only_inputs(resource.type, inputs),
                      *(prop for (type_token, prop) in CREATE_ONLY_BEYOND_BOTOCORE
                        if type_token == resource.type and inputs.get(prop) is not None)}
        unhandled = sorted(prop for prop in set_inputs
                           if prop != rule.prop and prop not in rule.scope
                           and not ((resource.type, prop) in DERIVED
                                    and DERIVED[(resource.type, prop)].holds(inputs, run.stack)))
        if unhandled:
            found.append(Finding(run.stack, resource.name, resource.type, str(name), tuple(unhandled)))
    return found


@pytest.mark.parametrize("stack", STACKS)
def test_named_resources_survive_their_replacement(stack):
    found = offenders(cached_run(stack))
    assert not found, f"{len(found)} resource(s):\n" + "\n".join(map(str, found))


def test_restoring_the_phi_database_from_a_snapshot_cannot_replace_it_unplanned():
    """Re-run with a create-only input changed: prod restored from a snapshot (config
    `database.snapshotIdentifier`, which only RestoreDBInstanceFromDBSnapshot takes; a stack without
    PHI refuses the setting). The identifier stays (the log groups and alarms name it), and the
    instance holds PHI: not deleted first, but protected, so the engine refuses the replacement at
    preview and a restore into a running stack is a planned migration."""
    baseline = cached_run("prod").named("hipaa-db", "aws:rds/instance:Instance")
    snapshot = "hipaa-aws-prod-before-upgrade"
    run = run_stack("prod", overrides={"database": {"snapshotIdentifier": snapshot}})
    database = run.named("hipaa-db", "aws:rds/instance:Instance")
    assert database.inputs["snapshotIdentifier"] == snapshot
    assert database.inputs["identifier"] == baseline.inputs["identifier"]
    assert database.protect is True and database.delete_before_replace is not True
    assert [f for f in offenders(run) if f.type == database.type] == []


@pytest.mark.parametrize("stack", STACKS)
def test_adding_a_phi_store_to_backups_can_replace_the_selection(stack):
    """AWS Backup has no UpdateBackupSelection (botocore `backup`): a new store in `resources`
    replaces the selection. It holds no data: deleted first, and never protected, or a PHI stack
    could not add a store to its backups (the engine refuses to replace a protected resource).
    The PHI stores' selection is found by name: the app audit archive has a selection of its own,
    which holds the same."""
    run = cached_run(stack)
    selection = run.named("hipaa-backup", "aws:backup/selection:Selection")
    assert "BackupSelection" in ref.create_only_members(selection.type)
    assert selection.delete_before_replace is True and selection.protect is not True
    for other in run.of_type("aws:backup/selection:Selection"):
        assert other.delete_before_replace is True and other.protect is not True, other.name


@pytest.mark.parametrize("stack", STACKS)
def test_every_named_type_is_classified(stack):
    """A new resource type with a name (an autonamable one: pulumi-aws gives it a `namePrefix`,
    `bucketPrefix` or `identifierPrefix`; or one the program passes a `name`) is judged here."""
    unclassified = set()
    for resource in cached_run(stack).resources:
        if not resource.custom or resource.type in PHYSICAL_NAMES or resource.type in NOT_PHYSICAL_NAMES:
            continue
        prefixes = [p for p in ref.pulumi_input_paths(resource.type)
                    if p in ("namePrefix", "bucketPrefix", "identifierPrefix")]
        if prefixes or resource.inputs.get("name") is not None:
            unclassified.add(resource.type)
    assert not unclassified, sorted(unclassified)


def test_name_rules_name_real_inputs():
    for type_token, rule in PHYSICAL_NAMES.items():
        paths = set(ref.pulumi_input_paths(type_token))
        assert rule.prop in paths, (type_token, rule.prop)
        assert set(rule.scope) <= paths, (type_token, rule.scope)


def test_derivations_name_create_only_inputs():
    """Each DERIVED entry is about an input botocore says only the create call takes."""
    for (type_token, prop) in DERIVED:
        member = ref.create_member(type_token, prop)
        assert member in ref.create_only_members(type_token), (type_token, prop, member)


def test_updated_elsewhere_entries_exist_in_botocore():
    """Each correction names an operation of the service and a member of its request."""
    for (type_token, member), (operation, update_member) in ref.UPDATED_ELSEWHERE.items():
        created = ref.create_operation(type_token)
        assert created is not None, type_token
        create, nested = created
        root: Any = create.input_shape if nested is None else create.input_shape.members[nested]
        assert member in root.members, (type_token, member)
        service: Any = ref.service_model(ref.API_MODELS[type_token].service)
        request = service.operation_model(operation).input_shape
        assert update_member in request.members, (operation, update_member)


# What botocore's models say, pinned: a change in AWS's API shows up here.
@pytest.mark.parametrize("type_token, members", [
    # elbv2 ModifyTargetGroup takes health-check settings only (AWS_FACTS "Second review").
    ("aws:lb/targetGroup:TargetGroup", {"Name", "Port", "Protocol", "VpcId", "TargetType"}),
    ("aws:lb/loadBalancer:LoadBalancer", {"Name", "Scheme", "Type"}),
    ("aws:backup/vault:Vault", {"EncryptionKeyArn"}),
    ("aws:ecr/repository:Repository", {"encryptionConfiguration"}),
    ("aws:cloudwatch/logGroup:LogGroup", {"logGroupClass"}),
    ("aws:rds/instance:Instance", {"KmsKeyId", "StorageEncrypted", "MasterUsername", "DBName"}),
    ("aws:elasticache/replicationGroup:ReplicationGroup", {"KmsKeyId", "AtRestEncryptionEnabled", "Port",
                                                           "CacheSubnetGroupName"}),
    ("aws:s3/bucket:Bucket", {"ObjectLockEnabledForBucket"}),
    ("aws:iam/role:Role", {"Path"}),
    ("aws:iam/policy:Policy", {"Path", "Description"}),
])
def test_botocore_create_only_members(type_token, members):
    assert members <= ref.create_only_members(type_token)


@pytest.mark.parametrize("type_token, updatable", [
    ("aws:iam/role:Role", "AssumeRolePolicyDocument"),       # UpdateAssumeRolePolicy
    ("aws:cloudwatch/logGroup:LogGroup", "kmsKeyId"),        # AssociateKmsKey
    ("aws:lb/loadBalancer:LoadBalancer", "Subnets"),         # SetSubnets
    ("aws:lb/targetGroup:TargetGroup", "HealthCheckPath"),   # ModifyTargetGroup
    ("aws:rds/instance:Instance", "DBInstanceClass"),        # ModifyDBInstance
])
def test_botocore_updatable_members(type_token, updatable):
    assert updatable not in ref.create_only_members(type_token)


def test_iam_policy_description_is_immutable():
    """The workforce policies' `description` counts as create-only: AWS says so in the model."""
    request: Any = ref.shape("iam", "CreatePolicyRequest")
    description = request.members["Description"]
    assert "The policy description is immutable" in ref.plain_documentation(description)


@pytest.mark.parametrize("type_token", [
    "aws:cloudwatch/metricAlarm:MetricAlarm", "aws:cloudwatch/logMetricFilter:LogMetricFilter",
    "aws:cloudwatch/eventRule:EventRule", "aws:cfg/conformancePack:ConformancePack",
])
def test_put_created_types_have_no_create_only_members(type_token):
    """PutMetricAlarm, PutMetricFilter, PutRule, PutConformancePack create or overwrite: the same
    call changes every member, so a change never replaces these."""
    assert ref.create_only_members(type_token) == frozenset()


@pytest.mark.parametrize("prefix", ["hipaa-aws-prod", "hipaa-aws-a-rather-long-stack-name-x"])
def test_load_balancer_names_differ_by_kind(prefix):
    """Each type and scheme has its own name within CreateLoadBalancer's 32 characters (elbv2
    LoadBalancerTypeEnum), and the internet-facing application load balancer keeps `<prefix>-app`."""
    kinds = [(kind, internal) for kind in ref.enum_values("elbv2", "LoadBalancerTypeEnum")
             for internal in (False, True)]
    names = {load_balancer_name(prefix, kind, internal) for kind, internal in kinds}
    assert len(names) == len(kinds)
    assert all(len(name) <= MAX_LOAD_BALANCER_NAME and not name.endswith("-") for name in names)
    kept = f"{prefix}-app"[:MAX_LOAD_BALANCER_NAME].rstrip("-")
    assert load_balancer_name(prefix, "application", False) == kept

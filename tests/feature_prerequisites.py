"""Every AWS feature the program switches on, what AWS documents must be in place for it, and a check.

A feature is switched on by a resource (a `BucketLogging`), an input (`iamDatabaseAuthenticationEnabled:
true`) or a reference (a log group's `kmsKeyId` naming a customer key). Each row of `ROWS` says:

- `switches`: how the generic enumeration (`switches_of`) recognises the feature in a whole-stack run;
- `prerequisite`: what must be in place, in words;
- `source`: the AWS page (or botocore model) that documents it, checked with the search tool;
- `check`: a function over the run that returns the problems (empty: the prerequisite is in place),
  including the order of creation where AWS uses the prerequisite when the feature's resource is
  created (the feature's resource must wait for the prerequisite's resource);
- `detailed_test`: where a detailed test of the same prerequisite lives, when there is one (the row
  does not repeat it; it checks the link between the resources across the whole stack).

`NO_PREREQUISITE` lists, with a reason, every switched-on input and resource type that has no
prerequisite, so that `tests/test_feature_prerequisites.py` fails when the program switches on
something that neither a row nor that list accounts for.

Not switched on, so no row: Secrets Manager rotation (the program creates no secret; RDS rotates the
master secret it manages itself, every 7 days by default). A `SecretRotation` or any other new
resource type fails the completeness test until it has a row or a reason.

Pages were read on CHECKED_ON with the search tool; botocore models are the installed botocore's.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Optional

from preflight.aws_mocks import MOCK_ACCOUNT_ID
from preflight.program_runner import ProgramRun, RecordedResource
from preflight.stack_config import load_stack_config, stack_names
from tests.aws_reference import Source

CHECKED_ON = "2026-12-06"

KEY = "aws:kms/key:Key"
ALIAS = "aws:kms/alias:Alias"
ROLE = "aws:iam/role:Role"
POLICY = "aws:iam/policy:Policy"
ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
BUCKET = "aws:s3/bucket:Bucket"
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
BUCKET_SSE = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
BUCKET_VERSIONING = "aws:s3/bucketVersioning:BucketVersioning"
BUCKET_LOGGING = "aws:s3/bucketLogging:BucketLogging"
OBJECT_LOCK = "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration"
TOPIC = "aws:sns/topic:Topic"
TOPIC_POLICY = "aws:sns/topicPolicy:TopicPolicy"
TRAIL = "aws:cloudtrail/trail:Trail"
FLOW_LOG = "aws:ec2/flowLog:FlowLog"
VPC = "aws:ec2/vpc:Vpc"
VPC_ENDPOINT = "aws:ec2/vpcEndpoint:VpcEndpoint"
DB_INSTANCE = "aws:rds/instance:Instance"
TASK_DEFINITION = "aws:ecs/taskDefinition:TaskDefinition"
ECS_SERVICE = "aws:ecs/service:Service"
ECS_CLUSTER = "aws:ecs/cluster:Cluster"
LOAD_BALANCER = "aws:lb/loadBalancer:LoadBalancer"
WAF_LOGGING = "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration"
BACKUP_SELECTION = "aws:backup/selection:Selection"
BACKUP_VAULT = "aws:backup/vault:Vault"
RECORDER = "aws:cfg/recorder:Recorder"
RECORDER_STATUS = "aws:cfg/recorderStatus:RecorderStatus"
DELIVERY_CHANNEL = "aws:cfg/deliveryChannel:DeliveryChannel"
CONFORMANCE_PACK = "aws:cfg/conformancePack:ConformancePack"
DETECTOR_FEATURE = "aws:guardduty/detectorFeature:DetectorFeature"
SERVICE_LINKED_ROLE = "aws:iam/serviceLinkedRole:ServiceLinkedRole"
EBS_DEFAULT_KEY = "aws:ebs/defaultKmsKey:DefaultKmsKey"
EBS_BY_DEFAULT = "aws:ebs/encryptionByDefault:EncryptionByDefault"
REPLICATION_GROUP = "aws:elasticache/replicationGroup:ReplicationGroup"
CACHE_USER = "aws:elasticache/user:User"
CACHE_USER_GROUP = "aws:elasticache/userGroup:UserGroup"
METRIC_FILTER = "aws:cloudwatch/logMetricFilter:LogMetricFilter"
LOG_STREAM = "aws:cloudwatch/logStream:LogStream"
SUBSCRIPTION_FILTER = "aws:cloudwatch/logSubscriptionFilter:LogSubscriptionFilter"
DATA_PROTECTION = "aws:cloudwatch/logDataProtectionPolicy:LogDataProtectionPolicy"
ANOMALY_DETECTOR = "aws:cloudwatch/logAnomalyDetector:LogAnomalyDetector"
FIREHOSE = "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream"
METRIC_ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
EVENT_TARGET = "aws:cloudwatch/eventTarget:EventTarget"
EVENT_RULE = "aws:cloudwatch/eventRule:EventRule"
SSM_DOCUMENT = "aws:ssm/document:Document"
SECURITY_HUB = "aws:securityhub/account:Account"
STANDARDS = "aws:securityhub/standardsSubscription:StandardsSubscription"
ECR_REPOSITORY = "aws:ecr/repository:Repository"


def _page(title: str, url: str) -> Source:
    return Source(title, url, checked=CHECKED_ON)


def _botocore(what: str) -> Source:
    """A rule stated in botocore's service model (the installed botocore's documentation or errors)."""
    return Source(f"botocore service model: {what}", "https://github.com/boto/botocore", checked=CHECKED_ON)


# ---------------------------------------------------------------------------------------------
# Reading a whole-stack run
# ---------------------------------------------------------------------------------------------


class Stack:
    """A whole-stack run with the look-ups the checks need (resources, dependencies, documents)."""

    def __init__(self, run: ProgramRun):
        self.run = run
        self.name = run.stack
        config = load_stack_config(run.stack)
        self.region = config.region
        self.account = (config.allowed_account_ids or [MOCK_ACCOUNT_ID])[0]
        self.partition = "aws"
        self.by_urn = {r.urn: r for r in run.resources}
        self._waits_for: dict[str, frozenset[str]] = {}

    def of_type(self, type_token: str) -> list[RecordedResource]:
        return self.run.of_type(type_token)

    def arn(self, service: str, resource: str, region: bool = True) -> str:
        return f"arn:{self.partition}:{service}:{self.region if region else ''}:{self.account}:{resource}"

    def refs(self, resource: RecordedResource, key: str,
             type_token: Optional[str] = None) -> list[RecordedResource]:
        """The resources whose outputs `resource` takes in its input `key`."""
        found = [self.by_urn[u] for u in resource.property_dependencies.get(key, []) if u in self.by_urn]
        return [r for r in found if type_token is None or r.type == type_token]

    def ref(self, resource: RecordedResource, key: str, type_token: str) -> Optional[RecordedResource]:
        found = self.refs(resource, key, type_token)
        return found[0] if len(found) == 1 else None

    def referring(self, target: RecordedResource, type_token: str, key: str) -> list[RecordedResource]:
        """Resources of `type_token` whose input `key` takes an output of `target`."""
        return [r for r in self.of_type(type_token) if target.urn in r.property_dependencies.get(key, [])]

    def waits_for(self, urn: str) -> frozenset[str]:
        """Every URN the resource is created after, directly or through what it waits for."""
        if urn in self._waits_for:
            return self._waits_for[urn]
        seen: set[str] = set()
        todo = list(self._direct(self.by_urn[urn]))
        while todo:
            current = todo.pop()
            if current in seen or current not in self.by_urn:
                continue
            seen.add(current)
            todo.extend(self._direct(self.by_urn[current]))
        self._waits_for[urn] = frozenset(seen)
        return self._waits_for[urn]

    @staticmethod
    def _direct(resource: RecordedResource) -> set[str]:
        inputs = resource.property_dependencies.values()
        return set(resource.dependencies) | {u for urns in inputs for u in urns}

    def after(self, resource: RecordedResource, prerequisite: Optional[RecordedResource]) -> bool:
        return prerequisite is not None and prerequisite.urn in self.waits_for(resource.urn)

    # --- IAM ---------------------------------------------------------------------------------

    def attachments(self, role: RecordedResource) -> list[RecordedResource]:
        return self.referring(role, ATTACHMENT, "role")

    def managed_policy_arns(self, role: RecordedResource) -> set[str]:
        return {a.inputs["policyArn"] for a in self.attachments(role)
                if not self.refs(a, "policyArn", POLICY)}

    def role_documents(self, role: RecordedResource) -> list[dict]:
        """The customer-managed policies attached to the role (AWS managed ones are named, not read)."""
        return [json.loads(p.inputs["policy"]) for a in self.attachments(role)
                for p in self.refs(a, "policyArn", POLICY)]

    def role_allows(self, role: RecordedResource, action: str, resource: str,
                    context: Optional[dict] = None) -> bool:
        return allows(self.role_documents(role), action, resource, context=context)

    def waits_for_role(self, resource: RecordedResource, role: RecordedResource) -> list[str]:
        """Problems when `resource` may be created before every policy of `role` is attached."""
        missing = [a.name for a in self.attachments(role) if a.urn not in self.waits_for(resource.urn)]
        return [f"{resource.name} may be created before {role.name}'s policy attachment {m}" for m in missing]

    # --- KMS, S3, logs ----------------------------------------------------------------------

    def key_policy(self, key: RecordedResource) -> dict:
        return json.loads(key.inputs["policy"])

    def key_region(self, key: RecordedResource) -> str:
        return key.inputs.get("region") or self.region

    def aliases(self, key: RecordedResource) -> list[str]:
        return [a.inputs["name"] for a in self.referring(key, ALIAS, "targetKeyId")]

    def key_arn_context(self, key: RecordedResource) -> tuple[str, dict]:
        """The ARN a request names for the key and the request context KMS evaluates (its aliases)."""
        arn = f"arn:{self.partition}:kms:{self.key_region(key)}:{self.account}:key/{key.name}"
        return arn, {"kms:ResourceAliases": self.aliases(key)}

    def side(self, bucket: RecordedResource, type_token: str) -> Optional[RecordedResource]:
        found = self.referring(bucket, type_token, "bucket")
        return found[0] if len(found) == 1 else None

    def bucket_named(self, name: str) -> Optional[RecordedResource]:
        found = [b for b in self.of_type(BUCKET) if b.inputs.get("bucket") == name]
        return found[0] if len(found) == 1 else None

    def bucket_policy(self, bucket: RecordedResource) -> dict:
        policy = self.side(bucket, BUCKET_POLICY)
        return json.loads(policy.inputs["policy"]) if policy else {"Statement": []}

    def default_encryption(self, bucket: RecordedResource) -> dict:
        sse = self.side(bucket, BUCKET_SSE)
        rules = sse.inputs.get("rules", []) if sse else []
        return rules[0] if rules else {}

    def bucket_arn(self, bucket: RecordedResource) -> str:
        return f"arn:{self.partition}:s3:::{bucket.inputs['bucket']}"

    def log_group_arn(self, group: RecordedResource) -> str:
        return self.arn("logs", f"log-group:{group.inputs['name']}")

    def log_group_named(self, name: str) -> Optional[RecordedResource]:
        found = [g for g in self.of_type(LOG_GROUP) if g.inputs.get("name") == name]
        return found[0] if len(found) == 1 else None


# ---------------------------------------------------------------------------------------------
# A small policy evaluator: Allow statements for a principal, an action, a resource, a request context
# ---------------------------------------------------------------------------------------------


class UnsupportedPolicy(Exception):
    pass


def _listed(value: Any) -> list:
    return value if isinstance(value, list) else [value]


def glob(pattern: str, value: str, ignore_case: bool = False) -> bool:
    """IAM wildcards: `*` any run of characters, `?` one character."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, re.DOTALL | (re.IGNORECASE if ignore_case else 0)) is not None


_MATCHERS: dict[str, Callable[[str, str], bool]] = {
    "StringEquals": lambda wanted, actual: wanted == actual,
    "StringLike": glob,
    "ArnEquals": glob,  # IAM treats ArnEquals as ArnLike
    "ArnLike": glob,
    "Bool": lambda wanted, actual: wanted.lower() == actual.lower(),
}


def condition_holds(condition: Mapping, context: Mapping) -> bool:
    """As IAM evaluates it: every operator and key must hold; a key absent from the request fails
    its condition (unless ...IfExists)."""
    lowered = {k.lower(): v for k, v in context.items()}
    for operator, pairs in condition.items():
        qualifier, _, base = operator.rpartition(":")
        if_exists = base.endswith("IfExists")
        base = base.removesuffix("IfExists")
        if qualifier not in ("", "ForAnyValue") or base not in _MATCHERS:
            raise UnsupportedPolicy(operator)
        for key, wanted in pairs.items():
            if key.lower() not in lowered:
                if if_exists:
                    continue
                return False
            actual = [str(a) for a in _listed(lowered[key.lower()])]
            wanted_values = [str(w).lower() if base == "Bool" else str(w) for w in _listed(wanted)]
            if not any(_MATCHERS[base](w, a) for w in wanted_values for a in actual):
                return False
    return True


def principal_matches(statement: Mapping, principal: Optional[Mapping[str, str]]) -> bool:
    """`principal` is {"Service": ...} or {"AWS": arn}; None: an identity policy (no Principal)."""
    if principal is None:
        return "Principal" not in statement
    named = statement.get("Principal")
    if named == "*":
        return True
    if not isinstance(named, Mapping):
        return False
    (kind, who), = principal.items()
    return any(glob(p, who) for p in _listed(named.get(kind, [])))


def allows(documents: Iterable[Mapping], action: str, resource: str = "*",
           principal: Optional[Mapping[str, str]] = None, context: Optional[Mapping] = None) -> bool:
    """Whether an Allow statement of the documents lets `principal` call `action` on `resource` with
    the request context `context` (Deny statements are not evaluated: the checks ask what AWS
    needs allowed; the TLS-only denials never apply to AWS services, which call over TLS)."""
    for document in documents:
        for statement in _listed(document.get("Statement", [])):
            if statement.get("Effect") != "Allow" or "NotAction" in statement or "NotResource" in statement:
                continue
            if not principal_matches(statement, principal):
                continue
            if not any(glob(a, action, ignore_case=True) for a in _listed(statement.get("Action", []))):
                continue
            if not any(glob(r, resource) for r in _listed(statement.get("Resource", "*"))):
                continue
            if condition_holds(statement.get("Condition", {}), context or {}):
                return True
    return False


def trusted_by(stack: Stack, role: RecordedResource, service: str, source_arn: Optional[str] = None) -> bool:
    """The role's trust policy lets `service` assume it with the context AWS sends: this account
    and, where the service sends one, the ARN of the resource acting (`source_arn`)."""
    context = {"aws:SourceAccount": stack.account, **({"aws:SourceArn": source_arn} if source_arn else {})}
    return allows([json.loads(role.inputs["assumeRolePolicy"])], "sts:AssumeRole", "*",
                  principal={"Service": service}, context=context)


def account_principal(stack: Stack) -> dict[str, str]:
    return {"AWS": f"arn:{stack.partition}:iam::{stack.account}:root"}


# ---------------------------------------------------------------------------------------------
# The generic enumeration of what a run switches on
# ---------------------------------------------------------------------------------------------

Switch = tuple[str, str]
"""(resource type, what): an input path switched on (`iamDatabaseAuthenticationEnabled`,
`settings[name=containerInsights].value`), a reference to a resource a service uses
(`kmsKeyId -> kms/key`), or "" for the resource type itself."""

# Inputs that are JSON documents whose switches count too (parsed, walked like inputs).
JSON_DOCUMENT_INPUTS = {TASK_DEFINITION: "containerDefinitions", SSM_DOCUMENT: "content"}
# Resources that are one feature each, named by an input (`name` of a GuardDuty detector feature).
FEATURE_NAME_INPUT = {DETECTOR_FEATURE: "name"}
# What a reference may hand to a service: a key to encrypt with, a role to act as, a log group,
# a bucket or a topic to deliver to.
USED_TYPES = {KEY: "kms/key", ROLE: "iam/role", LOG_GROUP: "logs/logGroup", BUCKET: "s3/bucket",
              TOPIC: "sns/topic"}
# References that only configure the referenced resource itself (a role's attachments and
# policies, a key's alias): plumbing, not a service using it.
_PLUMBING_TYPES = ("aws:iam/", "aws:kms/alias:")
# Inputs that switch a feature on by a value rather than `true`: a positive interval, a non-empty list.
VALUE_SWITCHES: dict[Switch, str] = {
    (DB_INSTANCE, "monitoringInterval"): "seconds between Enhanced Monitoring samples; 0 is off",
    (DB_INSTANCE, "enabledCloudwatchLogsExports"): "the logs RDS exports to CloudWatch Logs",
    (REPLICATION_GROUP, "userGroupIds"): "RBAC user groups (their users may authenticate with IAM)",
}
_ON = re.compile(r"(?i)^(enabled?|on)$")


def _walk(value: Any, path: str) -> Iterator[str]:
    if isinstance(value, Mapping):
        for key, item in value.items():
            yield from _walk(item, f"{path}.{key}" if path else key)
    elif isinstance(value, list):
        for item in value:
            named = isinstance(item, Mapping) and isinstance(item.get("name"), str)
            yield from _walk(item, f"{path}[name={item['name']}]" if named else f"{path}[]")
    elif value is True or (isinstance(value, str) and _ON.match(value)):
        yield path


def _json_or_none(text: Any) -> Any:
    try:
        return json.loads(text) if isinstance(text, str) else None
    except ValueError:
        return None


def switches_of(resource: RecordedResource, stack: Stack) -> set[Switch]:
    """Everything `resource` switches on (see `Switch`)."""
    inputs = resource.inputs
    prefix = ""
    if resource.type in FEATURE_NAME_INPUT:
        prefix = f"[name={inputs.get(FEATURE_NAME_INPUT[resource.type])}]."
    found = {(resource.type, "")}
    found |= {(resource.type, prefix + path) for path in _walk(inputs, "")}
    document_key = JSON_DOCUMENT_INPUTS.get(resource.type)
    if document_key:
        document = _json_or_none(inputs.get(document_key))
        found |= {(resource.type, f"{document_key}(json){'' if path.startswith('[') else '.'}{path}")
                  for path in _walk(document, "")}
    found |= {(resource.type, key) for (type_token, key) in VALUE_SWITCHES
              if type_token == resource.type and inputs.get(key) not in (None, 0, "", [], False)}
    if not resource.type.startswith(_PLUMBING_TYPES):
        for key, urns in resource.property_dependencies.items():
            if key == "bucket" and resource.type.startswith("aws:s3/"):
                continue  # a bucket's own side resource (its policy, encryption, versioning...)
            for urn in urns:
                target = stack.by_urn.get(urn)
                if target is not None and target.type in USED_TYPES:
                    found.add((resource.type, f"{key} -> {USED_TYPES[target.type]}"))
    return found


def run_switches(stack: Stack) -> dict[Switch, list[RecordedResource]]:
    """Each switch of the run and the custom resources that switch it on."""
    found: dict[Switch, list[RecordedResource]] = {}
    for resource in stack.run.resources:
        if resource.custom:
            for switch in switches_of(resource, stack):
                found.setdefault(switch, []).append(resource)
    return found


# ---------------------------------------------------------------------------------------------
# The table
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    feature: str
    switches: tuple[Switch, ...]
    prerequisite: str
    sources: tuple[Source, ...]
    check: Callable[[Stack], list[str]]
    detailed_test: str = ""
    account_wide: bool = False
    """Switched on for the whole account: it applies to every stack deployed into an account where
    a stack switches it on (a stack of another owner shares the owner's GuardDuty)."""


# --- S3 -------------------------------------------------------------------------------------


def check_server_access_logging(stack: Stack) -> list[str]:
    problems = []
    for logging in stack.of_type(BUCKET_LOGGING):
        target = stack.ref(logging, "targetBucket", BUCKET)
        if target is None:
            problems.append(f"{logging.name}: the target bucket is not a bucket of this stack")
            continue
        algorithm = sse_algorithm(stack, target)
        if algorithm != "AES256":
            problems.append(f"{logging.name}: target {target.name} is encrypted with {algorithm}, not SSE-S3")
        if target.inputs.get("objectLockEnabled") or stack.side(target, OBJECT_LOCK):
            problems.append(f"{logging.name}: target {target.name} has "
                            "Object Lock, which S3 refuses as a target")
        objects = f"{stack.bucket_arn(target)}/{logging.inputs.get('targetPrefix', '')}x"
        source = stack.ref(logging, "bucket", BUCKET)
        request = {"aws:SourceAccount": stack.account,
                   **({"aws:SourceArn": stack.bucket_arn(source)} if source else {})}
        if not allows([stack.bucket_policy(target)], "s3:PutObject", objects,
                      principal={"Service": "logging.s3.amazonaws.com"}, context=request):
            problems.append(f"{logging.name}: {target.name}'s policy does "
                            "not let logging.s3.amazonaws.com write")
        if not stack.after(logging, target):
            problems.append(f"{logging.name} may be created before its target bucket {target.name}")
    return problems


def check_object_lock(stack: Stack) -> list[str]:
    problems = []
    for lock in stack.of_type(OBJECT_LOCK):
        bucket = stack.ref(lock, "bucket", BUCKET)
        versioning = stack.side(bucket, BUCKET_VERSIONING) if bucket else None
        status = versioning_status(versioning)
        if status != "Enabled":
            problems.append(f"{lock.name}: the bucket's versioning is {status}, not Enabled")
        if not stack.after(lock, versioning):
            problems.append(f"{lock.name} may be created before the bucket's versioning")
    return problems


# --- CloudTrail --------------------------------------------------------------------------------


def _trail_arn(stack: Stack, trail: RecordedResource) -> str:
    return stack.arn("cloudtrail", f"trail/{trail.inputs['name']}")


def check_trail_kms(stack: Stack) -> list[str]:
    problems = []
    for trail in stack.of_type(TRAIL):
        key = stack.ref(trail, "kmsKeyId", KEY)
        if key is None:
            problems.append(f"{trail.name}: kmsKeyId is not a key of this stack")
            continue
        trail_arn = _trail_arn(stack, trail)
        request = {"aws:SourceArn": trail_arn, "kms:EncryptionContext:aws:cloudtrail:arn": trail_arn,
                   "aws:SourceAccount": stack.account}
        cloudtrail = {"Service": "cloudtrail.amazonaws.com"}
        policy = [stack.key_policy(key)]
        if not allows(policy, "kms:GenerateDataKey", principal=cloudtrail, context=request):
            problems.append(f"{trail.name}: {key.name}'s policy does not "
                            "let CloudTrail GenerateDataKey* for it")
        bucket = stack.ref(trail, "s3BucketName", BUCKET)
        bucket_key = bool(bucket and stack.default_encryption(bucket).get("bucketKeyEnabled"))
        if bucket_key and not allows(policy, "kms:Decrypt", principal=cloudtrail, context=request):
            problems.append(f"{trail.name}: the trail bucket uses an S3 Bucket Key but "
                            f"{key.name}'s policy does not let CloudTrail kms:Decrypt")
        if not stack.after(trail, key):
            problems.append(f"{trail.name} may be created before {key.name}")
    return problems


def check_trail_bucket(stack: Stack) -> list[str]:
    problems = []
    for trail in stack.of_type(TRAIL):
        bucket = stack.ref(trail, "s3BucketName", BUCKET)
        if bucket is None:
            problems.append(f"{trail.name}: s3BucketName is not a bucket of this stack")
            continue
        cloudtrail = {"Service": "cloudtrail.amazonaws.com"}
        request = {"aws:SourceArn": _trail_arn(stack, trail), "aws:SourceAccount": stack.account,
                   "s3:x-amz-acl": "bucket-owner-full-control"}
        policy = [stack.bucket_policy(bucket)]
        arn = stack.bucket_arn(bucket)
        if not allows(policy, "s3:GetBucketAcl", arn, principal=cloudtrail, context=request):
            problems.append(f"{trail.name}: the bucket policy does not let CloudTrail s3:GetBucketAcl")
        if not allows(policy, "s3:PutObject", f"{arn}/AWSLogs/{stack.account}/CloudTrail/x.json.gz",
                      principal=cloudtrail, context=request):
            problems.append(f"{trail.name}: the bucket policy does not let CloudTrail write "
                            f"AWSLogs/{stack.account}/")
        policy_resource = stack.side(bucket, BUCKET_POLICY)
        if not stack.after(trail, policy_resource):
            problems.append(f"{trail.name} may be created before its bucket policy")
    return problems


def check_trail_to_cloudwatch(stack: Stack) -> list[str]:
    problems = []
    for trail in stack.of_type(TRAIL):
        if not trail.inputs.get("cloudWatchLogsGroupArn"):
            continue
        if not str(trail.inputs["cloudWatchLogsGroupArn"]).endswith(":*"):
            problems.append(f"{trail.name}: cloudWatchLogsGroupArn lacks the ':*' suffix")
        group = stack.ref(trail, "cloudWatchLogsGroupArn", LOG_GROUP)
        role = stack.ref(trail, "cloudWatchLogsRoleArn", ROLE)
        if group is None or role is None:
            problems.append(f"{trail.name}: the log group or the delivery role is not of this stack")
            continue
        if not trusted_by(stack, role, "cloudtrail.amazonaws.com"):
            problems.append(f"{trail.name}: {role.name} is not trusted by cloudtrail.amazonaws.com")
        stream = f"{stack.log_group_arn(group)}:log-stream:{stack.account}_CloudTrail_{stack.region}"
        for action in ("logs:CreateLogStream", "logs:PutLogEvents"):
            if not stack.role_allows(role, action, stream):
                problems.append(f"{trail.name}: {role.name} may not {action} on the trail's streams")
        problems += stack.waits_for_role(trail, role)
        if not stack.after(trail, group):
            problems.append(f"{trail.name} may be created before {group.name}")
    return problems


# --- CloudWatch Logs ---------------------------------------------------------------------------


def check_log_group_keys(stack: Stack) -> list[str]:
    problems = []
    for group in stack.of_type(LOG_GROUP):
        if not group.inputs.get("kmsKeyId"):
            continue
        key = stack.ref(group, "kmsKeyId", KEY)
        if key is None:
            problems.append(f"{group.name}: kmsKeyId is not a key of this stack")
            continue
        logs = {"Service": f"logs.{stack.region}.amazonaws.com"}
        request = {"kms:EncryptionContext:aws:logs:arn": stack.log_group_arn(group)}
        for action in ("kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey", "kms:ReEncryptFrom",
                       "kms:DescribeKey"):
            if not allows([stack.key_policy(key)], action, principal=logs, context=request):
                problems.append(f"{group.name} ({group.inputs['name']}): {key.name}'s policy does not let "
                                f"CloudWatch Logs {action} with this group's encryption context")
        if not stack.after(group, key):
            problems.append(f"{group.name} may be created before {key.name}")
    return problems


def check_metric_filters(stack: Stack) -> list[str]:
    problems = []
    for metric_filter in stack.of_type(METRIC_FILTER):
        group = stack.log_group_named(metric_filter.inputs["logGroupName"])
        if group is None:
            problems.append(f"{metric_filter.name}: no log group "
                            f"{metric_filter.inputs['logGroupName']} in this stack")
        elif not stack.after(metric_filter, group):
            problems.append(f"{metric_filter.name} may be created before {group.name}")
    return problems


def check_data_protection_policies(stack: Stack) -> list[str]:
    """The masked group and every findings destination exist before the policy."""
    problems = []
    for policy in stack.of_type(DATA_PROTECTION):
        group = stack.ref(policy, "logGroupName", LOG_GROUP)
        if group is None:
            problems.append(f"{policy.name}: logGroupName is not a log group of this stack")
        elif not stack.after(policy, group):
            problems.append(f"{policy.name} may be created before {group.name}")
        document = json.loads(policy.inputs["policyDocument"])
        for statement in document["Statement"]:
            destination = statement["Operation"].get("Audit", {}).get("FindingsDestination", {})
            name = destination.get("CloudWatchLogs", {}).get("LogGroup")
            if name is None:
                continue
            findings = stack.log_group_named(name)
            if findings is None:
                problems.append(f"{policy.name}: findings group {name} is not a log group of this stack")
            elif not stack.after(policy, findings):
                problems.append(f"{policy.name} may be created before its findings group {findings.name}")
    return problems


def check_anomaly_detector_keys(stack: Stack) -> list[str]:
    """The watched group exists first; the key exists first and its policy lets CloudWatch Logs use it
    with the detector's encryption contexts."""
    problems = []
    for detector in stack.of_type(ANOMALY_DETECTOR):
        for group in stack.refs(detector, "logGroupArnLists", LOG_GROUP) or [None]:
            if group is None:
                problems.append(f"{detector.name}: logGroupArnLists names no log group of this stack")
            elif not stack.after(detector, group):
                problems.append(f"{detector.name} may be created before {group.name}")
        if not detector.inputs.get("kmsKeyId"):
            continue
        key = stack.ref(detector, "kmsKeyId", KEY)
        if key is None:
            problems.append(f"{detector.name}: kmsKeyId is not a key of this stack")
            continue
        logs = {"Service": f"logs.{stack.region}.amazonaws.com"}
        arn = stack.arn("logs", "anomaly-detector:0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0")
        for context in ("kms:EncryptionContext:aws:logs:arn",
                        "kms:EncryptionContext:aws-crypto-ec:aws:logs:arn"):
            for action in ("kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"):
                if not allows([stack.key_policy(key)], action, principal=logs, context={context: arn}):
                    problems.append(f"{detector.name}: {key.name}'s policy does not let CloudWatch Logs "
                                    f"{action} with {context}")
        if not stack.after(detector, key):
            problems.append(f"{detector.name} may be created before {key.name}")
    return problems


# --- VPC ---------------------------------------------------------------------------------------


def check_log_streams(stack: Stack) -> list[str]:
    problems = []
    for log_stream in stack.of_type(LOG_STREAM):
        group = stack.ref(log_stream, "logGroupName", LOG_GROUP)
        if group is None:
            problems.append(f"{log_stream.name}: its log group is not of this stack")
        elif not stack.after(log_stream, group):
            problems.append(f"{log_stream.name} may be created before {group.name}")
    return problems


def check_subscription_to_firehose(stack: Stack) -> list[str]:
    problems = []
    for subscription in stack.of_type(SUBSCRIPTION_FILTER):
        group = stack.ref(subscription, "logGroup", LOG_GROUP)
        role = stack.ref(subscription, "roleArn", ROLE)
        stream = stack.ref(subscription, "destinationArn", FIREHOSE)
        if group is None or role is None or stream is None:
            problems.append(f"{subscription.name}: its log group, role or stream is not of this stack")
            continue
        if not trusted_by(stack, role, "logs.amazonaws.com", stack.log_group_arn(group) + ":*"):
            problems.append(f"{subscription.name}: {role.name} is not trusted by logs.amazonaws.com")
        stream_arn = stack.arn("firehose", f"deliverystream/{stream.inputs['name']}")
        for action in ("firehose:PutRecord", "firehose:PutRecordBatch"):
            if not stack.role_allows(role, action, stream_arn):
                problems.append(f"{subscription.name}: {role.name} may not {action} on {stream.name}")
        key = stack.ref(stream, "serverSideEncryption", KEY)
        if key is not None:
            key_arn, context = stack.key_arn_context(key)
            via = {**context, "kms:ViaService": f"firehose.{stack.key_region(key)}.amazonaws.com"}
            for action in ("kms:GenerateDataKey", "kms:Decrypt"):
                if not stack.role_allows(role, action, key_arn, via):
                    problems.append(f"{subscription.name}: {role.name} may not {action} on the stream's key")
        problems += stack.waits_for_role(subscription, role)
        for prerequisite in (group, stream):
            if not stack.after(subscription, prerequisite):
                problems.append(f"{subscription.name} may be created before {prerequisite.name}")
    return problems


def check_opsitem_targets(stack: Stack) -> list[str]:
    """EventBridge targets that open OpsItems (`arn:...:ssm:<region>:<account>:opsitem`)."""
    problems = []
    for target in stack.of_type(EVENT_TARGET):
        if not str(target.inputs.get("arn", "")).endswith(":opsitem"):
            continue
        role = stack.ref(target, "roleArn", ROLE)
        if role is None:
            problems.append(f"{target.name}: its role is not of this stack")
            continue
        rule = f"rule/{target.inputs['rule']}" if isinstance(target.inputs.get("rule"), str) else "rule/*"
        if not trusted_by(stack, role, "events.amazonaws.com", stack.arn("events", rule)):
            problems.append(f"{target.name}: {role.name} is not trusted by events.amazonaws.com for its rule")
        if not stack.role_allows(role, "ssm:CreateOpsItem", "*"):
            problems.append(f"{target.name}: {role.name} may not ssm:CreateOpsItem")
        problems += stack.waits_for_role(target, role)
    return problems


def check_firehose_to_s3(stack: Stack) -> list[str]:
    problems = []
    for stream in stack.of_type(FIREHOSE):
        config = stream.inputs.get("extendedS3Configuration") or {}
        role = stack.ref(stream, "extendedS3Configuration", ROLE)
        bucket = stack.ref(stream, "extendedS3Configuration", BUCKET)
        if role is None or bucket is None:
            problems.append(f"{stream.name}: the delivery role or the bucket is not of this stack")
            continue
        if not allows([json.loads(role.inputs["assumeRolePolicy"])], "sts:AssumeRole", "*",
                      principal={"Service": "firehose.amazonaws.com"},
                      context={"sts:ExternalId": stack.account, "aws:SourceAccount": stack.account}):
            problems.append(f"{stream.name}: {role.name} is not trusted by firehose.amazonaws.com")
        bucket_arn = stack.bucket_arn(bucket)
        for action, resource in (("s3:PutObject", f"{bucket_arn}/events/x"),
                                 ("s3:AbortMultipartUpload", f"{bucket_arn}/events/x"),
                                 ("s3:GetBucketLocation", bucket_arn), ("s3:ListBucket", bucket_arn),
                                 ("s3:ListBucketMultipartUploads", bucket_arn)):
            if not stack.role_allows(role, action, resource):
                problems.append(f"{stream.name}: {role.name} may not {action}")
        bucket_key = stack.ref(stream, "extendedS3Configuration", KEY)
        if bucket_key is not None:
            key_arn, context = stack.key_arn_context(bucket_key)
            # The archive has an S3 Bucket Key: S3 asks KMS with the bucket's ARN as the context (S3
            # guide, "Configuring your bucket to use an S3 Bucket Key with SSE-KMS for new objects").
            context = {**context, "kms:ViaService": f"s3.{stack.key_region(bucket_key)}.amazonaws.com",
                       "kms:EncryptionContext:aws:s3:arn": bucket_arn}
            for action in ("kms:GenerateDataKey", "kms:Decrypt"):
                if not stack.role_allows(role, action, key_arn, context):
                    problems.append(f"{stream.name}: {role.name} may not {action} for the bucket's objects")
        logging = config.get("cloudwatchLoggingOptions") or {}
        if logging.get("enabled"):
            group = stack.log_group_named(logging.get("logGroupName"))
            if group is None:
                problems.append(f"{stream.name}: its error log group is not of this stack")
            elif not stack.role_allows(role, "logs:PutLogEvents",
                                       f"{stack.log_group_arn(group)}:log-stream:{logging.get('logStreamName')}"):
                problems.append(f"{stream.name}: {role.name} may not log delivery errors")
        sse_key = stack.ref(stream, "serverSideEncryption", KEY)
        if (stream.inputs.get("serverSideEncryption") or {}).get("enabled"):
            if sse_key is None:
                problems.append(f"{stream.name}: its server-side encryption key is not of this stack")
            else:
                problems += _key_allows_through(stack, sse_key, "firehose",
                                                ("kms:CreateGrant", "kms:DescribeKey", "kms:GenerateDataKey"))
        problems += stack.waits_for_role(stream, role)
        policy = stack.side(bucket, BUCKET_POLICY)
        if not stack.after(stream, bucket) or (policy is not None and not stack.after(stream, policy)):
            problems.append(f"{stream.name} may be created before {bucket.name} and its policy")
    return problems


def check_flow_logs(stack: Stack) -> list[str]:
    problems = []
    for flow_log in stack.of_type(FLOW_LOG):
        if flow_log.inputs.get("logDestinationType") != "cloud-watch-logs":
            continue
        group = stack.ref(flow_log, "logDestination", LOG_GROUP)
        role = stack.ref(flow_log, "iamRoleArn", ROLE)
        if group is None or role is None:
            problems.append(f"{flow_log.name}: the log group or the role is not of this stack")
            continue
        if not trusted_by(stack, role, "vpc-flow-logs.amazonaws.com", stack.arn("ec2", "vpc-flow-log/fl-0")):
            problems.append(f"{flow_log.name}: {role.name} is not trusted by vpc-flow-logs.amazonaws.com")
        group_arn = stack.log_group_arn(group)
        for action, resource in (("logs:CreateLogStream", f"{group_arn}:log-stream:eni-1"),
                                 ("logs:PutLogEvents", f"{group_arn}:log-stream:eni-1"),
                                 ("logs:DescribeLogStreams", f"{group_arn}:log-stream:"),
                                 ("logs:DescribeLogGroups", stack.arn("logs", "log-group::log-stream:"))):
            if not stack.role_allows(role, action, resource):
                problems.append(f"{flow_log.name}: {role.name} may not {action}")
        problems += stack.waits_for_role(flow_log, role)
        if not stack.after(flow_log, group):
            problems.append(f"{flow_log.name} may be created before {group.name}")
    return problems


def check_private_dns(stack: Stack) -> list[str]:
    problems = []
    for endpoint in stack.of_type(VPC_ENDPOINT):
        if not endpoint.inputs.get("privateDnsEnabled"):
            continue
        vpc = stack.ref(endpoint, "vpcId", VPC)
        if vpc is None or not (vpc.inputs.get("enableDnsSupport") and vpc.inputs.get("enableDnsHostnames")):
            problems.append(f"{endpoint.name}: private DNS needs "
                            "enableDnsSupport and enableDnsHostnames on its VPC")
    return problems


# --- RDS ---------------------------------------------------------------------------------------


def check_enhanced_monitoring(stack: Stack) -> list[str]:
    problems = []
    for db in stack.of_type(DB_INSTANCE):
        if not db.inputs.get("monitoringInterval"):
            continue
        role = stack.ref(db, "monitoringRoleArn", ROLE)
        if role is None:
            problems.append(f"{db.name}: monitoringInterval > 0 needs monitoringRoleArn")
            continue
        if not trusted_by(stack, role, "monitoring.rds.amazonaws.com"):
            problems.append(f"{db.name}: {role.name} is not trusted by monitoring.rds.amazonaws.com")
        managed = f"arn:{stack.partition}:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"
        if managed not in stack.managed_policy_arns(role):
            problems.append(f"{db.name}: {role.name} lacks {managed}")
        problems += stack.waits_for_role(db, role)
    return problems


# IAM database authentication: RDS user guide, "IAM database authentication" (supported engines).
IAM_AUTH_ENGINES = ("postgres", "mysql", "mariadb", "aurora-postgresql", "aurora-mysql")


def _task_environment(task_definition: RecordedResource) -> dict[str, str]:
    containers = _json_or_none(task_definition.inputs.get("containerDefinitions")) or []
    return {e["name"]: e["value"] for c in containers for e in c.get("environment", [])}


def check_iam_database_auth(stack: Stack) -> list[str]:
    problems = []
    for db in stack.of_type(DB_INSTANCE):
        if not db.inputs.get("iamDatabaseAuthenticationEnabled"):
            continue
        if db.inputs.get("engine") not in IAM_AUTH_ENGINES:
            problems.append(f"{db.name}: engine {db.inputs.get('engine')} has no IAM database authentication")
        users = [(t, _task_environment(t)["DATABASE_USER"]) for t in stack.of_type(TASK_DEFINITION)
                 if _task_environment(t).get("DATABASE_USER")]
        if not users:
            problems.append(f"{db.name}: no task connects as a database user")
        for task_definition, user in users:
            role = stack.ref(task_definition, "taskRoleArn", ROLE)
            target = stack.arn("rds-db", f"dbuser:db-ABCDEFGHIJKLMNOPQRSTUVWXY/{user}")
            if role is None or not stack.role_allows(role, "rds-db:connect", target):
                problems.append(f"{task_definition.name}: its task role may not rds-db:connect as {user}")
    return problems


def _key_allows_through(stack: Stack, key: RecordedResource, service: str,
                        actions: Iterable[str]) -> list[str]:
    """Principals of the account may use the key for `actions` through `service` (kms:ViaService)."""
    request = {"kms:ViaService": f"{service}.{stack.key_region(key)}.amazonaws.com",
               "kms:CallerAccount": stack.account}
    return [f"{key.name}'s policy does not let the account {action} through {service}" for action in actions
            if not allows([stack.key_policy(key)], action, principal=account_principal(stack),
                          context=request)]


def check_managed_master_password(stack: Stack) -> list[str]:
    problems = []
    for db in stack.of_type(DB_INSTANCE):
        if not db.inputs.get("manageMasterUserPassword"):
            continue
        if db.inputs.get("password"):
            problems.append(f"{db.name}: manageMasterUserPassword cannot be combined with password")
        key = stack.ref(db, "masterUserSecretKmsKeyId", KEY)
        if key is None:
            problems.append(f"{db.name}: the master secret is not "
                            "encrypted with a customer key of this stack")
            continue
        problems += [f"{db.name}: {p}" for p in _key_allows_through(
            stack, key, "secretsmanager", ("kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"))]
        if not stack.after(db, key):
            problems.append(f"{db.name} may be created before {key.name}")
    return problems


def check_performance_insights_key(stack: Stack) -> list[str]:
    problems = []
    for db in stack.of_type(DB_INSTANCE):
        if not db.inputs.get("performanceInsightsEnabled"):
            continue
        key = stack.ref(db, "performanceInsightsKmsKeyId", KEY)
        if key is None:
            problems.append(f"{db.name}: Performance Insights is not "
                            "encrypted with a customer key of this stack")
            continue
        problems += [f"{db.name}: {p}" for p in _key_allows_through(
            stack, key, "rds", ("kms:Decrypt", "kms:GenerateDataKey"))]
        if not stack.after(db, key):
            problems.append(f"{db.name} may be created before {key.name}")
    return problems


def check_database_log_groups(stack: Stack) -> list[str]:
    """Each exported log's group `/aws/rds/instance/<id>/<log>` is one of the program's, created first."""
    problems = []
    for db in stack.of_type(DB_INSTANCE):
        for export in db.inputs.get("enabledCloudwatchLogsExports") or []:
            group = stack.log_group_named(f"/aws/rds/instance/{db.inputs['identifier']}/{export}")
            if group is None:
                problems.append(f"{db.name}: no log group for its {export} export")
            elif not stack.after(db, group):
                problems.append(f"{db.name} may start exporting {export} before {group.name} exists")
    return problems


# --- Customer keys used through a service (kms:ViaService) --------------------------------------

# (resource type, input) -> (service whose endpoint uses the key, the actions it needs).
# Each service's guide: RDS "AWS KMS key management"; S3 "Using server-side encryption with AWS KMS
# keys (SSE-KMS)"; ECR "Encryption at rest"; SNS "Key management"; ElastiCache "At-Rest Encryption";
# AWS Backup "Encryption for backups in AWS Backup".
KEY_USE_THROUGH_SERVICE: dict[Switch, tuple[str, tuple[str, ...]]] = {
    (DB_INSTANCE, "kmsKeyId"): ("rds", ("kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey",
                                        "kms:CreateGrant", "kms:DescribeKey")),
    (BUCKET_SSE, "rules"): ("s3", ("kms:GenerateDataKey", "kms:Decrypt")),
    (ECR_REPOSITORY, "encryptionConfigurations"): ("ecr", ("kms:CreateGrant", "kms:DescribeKey")),
    (TOPIC, "kmsMasterKeyId"): ("sns", ("kms:GenerateDataKey", "kms:Decrypt")),
    (REPLICATION_GROUP, "kmsKeyId"): ("elasticache", ("kms:CreateGrant", "kms:Decrypt", "kms:GenerateDataKey",
                                                      "kms:DescribeKey")),
    (BACKUP_VAULT, "kmsKeyArn"): ("backup", ("kms:CreateGrant", "kms:GenerateDataKey", "kms:Decrypt",
                                             "kms:DescribeKey")),
}


def check_keys_through_services(stack: Stack) -> list[str]:
    problems = []
    for (type_token, key_input), (service, actions) in KEY_USE_THROUGH_SERVICE.items():
        for resource in stack.of_type(type_token):
            for key in stack.refs(resource, key_input, KEY):
                problems += [f"{resource.name}: {p}"
                             for p in _key_allows_through(stack, key, service, actions)]
                if not stack.after(resource, key):
                    problems.append(f"{resource.name} may be created before {key.name}")
    return problems


# --- Alerting ----------------------------------------------------------------------------------


def check_encrypted_topic_publishers(stack: Stack) -> list[str]:
    problems = []
    for topic in stack.of_type(TOPIC):
        key = stack.ref(topic, "kmsMasterKeyId", KEY)
        topic_policies = stack.referring(topic, TOPIC_POLICY, "arn")
        documents = [json.loads(p.inputs["policy"]) for p in topic_policies]
        arn = stack.arn("sns", topic.inputs["name"])
        alarms = [a for key in ("alarmActions", "okActions", "insufficientDataActions")
                  for a in stack.referring(topic, METRIC_ALARM, key)]
        targets = stack.referring(topic, EVENT_TARGET, "arn")
        cloudwatch = {"Service": "cloudwatch.amazonaws.com"}
        events = {"Service": "events.amazonaws.com"}
        if alarms:
            alarm_request = {"aws:SourceAccount": stack.account,
                             "aws:SourceArn": stack.arn("cloudwatch", "alarm:x")}
            for action in ("kms:Decrypt", "kms:GenerateDataKey"):
                if key and not allows([stack.key_policy(key)], action, principal=cloudwatch,
                                      context=alarm_request):
                    problems.append(f"{topic.name}: {key.name}'s policy does "
                                    f"not let CloudWatch alarms {action}")
            if not allows(documents, "sns:Publish", arn, principal=cloudwatch, context=alarm_request):
                problems.append(f"{topic.name}: the topic policy does not let CloudWatch alarms publish")
        for target in targets:
            rule = stack.ref(target, "rule", EVENT_RULE)
            rule_arn = stack.arn("events", f"rule/{rule.inputs['name']}") if rule else ""
            # EventBridge sends no source context KMS can check (SNS guide): the key policy must
            # allow it without, the topic policy scopes it by the rule's ARN.
            for action in ("kms:Decrypt", "kms:GenerateDataKey"):
                if key and not allows([stack.key_policy(key)], action, principal=events, context={}):
                    problems.append(f"{topic.name}: {key.name}'s policy does not let EventBridge {action} "
                                    "without source conditions")
            if not allows(documents, "sns:Publish", arn, principal=events,
                          context={"aws:SourceArn": rule_arn}):
                problems.append(f"{topic.name}: the topic policy does not let rule {rule_arn} publish")
    return problems


# --- AWS Config ---------------------------------------------------------------------------------


def check_config_recorder(stack: Stack) -> list[str]:
    problems = []
    for recorder in stack.of_type(RECORDER):
        role = stack.ref(recorder, "roleArn", ROLE)
        if role is None:
            problems.append(f"{recorder.name}: roleArn is not a role of this stack")
            continue
        if not trusted_by(stack, role, "config.amazonaws.com"):
            problems.append(f"{recorder.name}: {role.name} is not trusted by config.amazonaws.com")
        managed = f"arn:{stack.partition}:iam::aws:policy/service-role/AWS_ConfigRole"
        if managed not in stack.managed_policy_arns(role):
            problems.append(f"{recorder.name}: {role.name} lacks {managed}")
        for status in stack.referring(recorder, RECORDER_STATUS, "name"):
            problems += stack.waits_for_role(status, role)
            channels = stack.of_type(DELIVERY_CHANNEL)
            if not channels or not all(stack.after(status, c) for c in channels):
                problems.append(f"{status.name} may start recording before the delivery channel exists")
    for channel in stack.of_type(DELIVERY_CHANNEL):
        bucket = stack.ref(channel, "s3BucketName", BUCKET)
        if bucket is None:
            problems.append(f"{channel.name}: s3BucketName is not a bucket of this stack")
            continue
        config = {"Service": "config.amazonaws.com"}
        request = {"aws:SourceAccount": stack.account, "s3:x-amz-acl": "bucket-owner-full-control"}
        policy, arn = [stack.bucket_policy(bucket)], stack.bucket_arn(bucket)
        if not allows(policy, "s3:GetBucketAcl", arn, principal=config, context=request):
            problems.append(f"{channel.name}: the bucket policy does not let AWS Config s3:GetBucketAcl")
        if not allows(policy, "s3:PutObject", f"{arn}/AWSLogs/{stack.account}/Config/x", principal=config,
                      context=request):
            problems.append(f"{channel.name}: the bucket policy does not let AWS Config write "
                            f"AWSLogs/<account>/Config/")
        if not stack.after(channel, stack.side(bucket, BUCKET_POLICY)):
            problems.append(f"{channel.name} may be created before its bucket policy")
        key = stack.ref(channel, "s3KmsKeyArn", KEY)
        if key is not None:
            for action in ("kms:GenerateDataKey", "kms:Decrypt"):
                if not allows([stack.key_policy(key)], action, principal=config,
                              context={"aws:SourceAccount": stack.account}):
                    problems.append(f"{channel.name}: {key.name}'s policy does not let AWS Config {action}")
    return problems


def _recording(stack: Stack) -> bool:
    statuses = [s for s in stack.of_type(RECORDER_STATUS) if s.inputs.get("isEnabled")]
    recorders = [r for r in stack.of_type(RECORDER)
                 if (r.inputs.get("recordingGroup") or {}).get("allSupported")]
    return bool(statuses and recorders)


def check_conformance_packs(stack: Stack) -> list[str]:
    problems = []
    for pack in stack.of_type(CONFORMANCE_PACK):
        statuses = [s for s in stack.of_type(RECORDER_STATUS) if s.inputs.get("isEnabled")]
        if not statuses or not all(stack.after(pack, s) for s in statuses):
            problems.append(f"{pack.name} may be deployed before the recorder records")
    return problems


def check_security_hub(stack: Stack) -> list[str]:
    problems = []
    hubs = stack.of_type(SECURITY_HUB)
    for subscription in stack.of_type(STANDARDS):
        if not hubs or not all(stack.after(subscription, h) for h in hubs):
            problems.append(f"{subscription.name} may be created before Security Hub is enabled")
    if hubs and not _recording(stack):
        problems.append("Security Hub is enabled in a stack that does "
                        "not record every resource with AWS Config")
    return problems


# --- Account layer: EBS, GuardDuty --------------------------------------------------------------


def check_ebs_default_key(stack: Stack) -> list[str]:
    problems = []
    if not any(e.inputs.get("enabled") for e in stack.of_type(EBS_BY_DEFAULT)):
        return problems
    auto_scaling = (f"arn:{stack.partition}:iam::{stack.account}:role/aws-service-role/"
                    "autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling")
    for default in stack.of_type(EBS_DEFAULT_KEY):
        key = stack.ref(default, "keyArn", KEY)
        if key is None:
            problems.append(f"{default.name}: keyArn is not a key of this stack")
            continue
        policy = [stack.key_policy(key)]
        for action in ("kms:Encrypt", "kms:Decrypt", "kms:ReEncryptFrom",
                       "kms:GenerateDataKeyWithoutPlaintext", "kms:DescribeKey"):
            if not allows(policy, action, principal={"AWS": auto_scaling}):
                problems.append(f"{key.name}'s policy does not let AWSServiceRoleForAutoScaling {action}")
        if not allows(policy, "kms:CreateGrant", principal={"AWS": auto_scaling},
                      context={"kms:GrantIsForAWSResource": "true"}):
            problems.append(f"{key.name}'s policy does not let AWSServiceRoleForAutoScaling create grants")
        problems += [p for p in _key_allows_through(stack, key, "ec2", ("kms:Decrypt", "kms:GenerateDataKey",
                                                                        "kms:CreateGrant"))]
        linked = [r for r in stack.of_type(SERVICE_LINKED_ROLE)
                  if r.inputs.get("awsServiceName") == "autoscaling.amazonaws.com"]
        if not linked or not stack.after(key, linked[0]):
            problems.append(f"{key.name} names AWSServiceRoleForAutoScaling "
                            "but may be created before that role")
    return problems


# GuardDuty's repository for the Fargate agent (components/account/threat_detection.py keeps the per-region
# accounts, from the GuardDuty page cited in the row).
def sse_algorithm(stack: Stack, bucket: RecordedResource) -> Optional[str]:
    return stack.default_encryption(bucket).get("applyServerSideEncryptionByDefault", {}).get("sseAlgorithm")


def versioning_status(versioning: Optional[RecordedResource]) -> Optional[str]:
    return (versioning.inputs.get("versioningConfiguration") or {}).get("status") if versioning else None


def _guardduty_agent_repository(stack: Stack) -> str:
    from components.aws_context import AwsContext
    from components.account.threat_detection import guardduty_agent_repository_arn

    ctx = AwsContext(stack.account, stack.region, stack.partition, "amazonaws.com")
    return guardduty_agent_repository_arn(ctx)


def check_guardduty_fargate_agent(stack: Stack) -> list[str]:
    problems = []
    all_clusters = {c.urn for c in stack.of_type(ECS_CLUSTER)}
    excluded = {c.urn for c in stack.of_type(ECS_CLUSTER)
                if (c.inputs.get("tags") or {}).get("GuardDutyManaged") == "false"}
    repository = _guardduty_agent_repository(stack)
    for task_definition in stack.of_type(TASK_DEFINITION):
        if "FARGATE" not in (task_definition.inputs.get("requiresCompatibilities") or []):
            continue
        # A task no service runs may be started in any of the stack's clusters.
        services = _services_of(stack, task_definition)
        clusters = ({u for s in services for u in s.property_dependencies.get("cluster", [])}
                    if services else all_clusters)
        if clusters and clusters <= excluded:
            continue
        for service in services:
            version = service.inputs.get("platformVersion") or "LATEST"
            if version != "LATEST" and _version(version) < (1, 4):
                problems.append(f"{service.name}: Runtime Monitoring needs Fargate platform 1.4.0 or LATEST")
        role = stack.ref(task_definition, "executionRoleArn", ROLE)
        if role is None:
            problems.append(f"{task_definition.name}: a Fargate task under "
                            "Runtime Monitoring needs an execution role")
            continue
        for action, resource in (("ecr:GetAuthorizationToken", "*"), ("ecr:BatchGetImage", repository),
                                 ("ecr:GetDownloadUrlForLayer", repository)):
            if not stack.role_allows(role, action, resource):
                problems.append(f"{task_definition.name}: execution role {role.name} may not {action} on "
                                f"GuardDuty's agent repository {resource}")
    return problems


# --- ECS ---------------------------------------------------------------------------------------

ECS_EXEC_CHANNEL_ACTIONS = ("ssmmessages:CreateControlChannel", "ssmmessages:CreateDataChannel",
                            "ssmmessages:OpenControlChannel", "ssmmessages:OpenDataChannel")
# Reported workaround (aws/containers-roadmap issue 1359): with a read-only root filesystem the
# agent ECS Exec injects needs these directories writable.
ECS_EXEC_AGENT_PATHS = ("/managed-agents", "/var/lib/amazon/ssm", "/var/log/amazon/ssm")


def _exec_clusters(stack: Stack) -> list[RecordedResource]:
    return [c for c in stack.of_type(ECS_CLUSTER)
            if (c.inputs.get("configuration") or {}).get("executeCommandConfiguration")]


def _services_of(stack: Stack, task_definition: RecordedResource) -> list[RecordedResource]:
    return stack.referring(task_definition, ECS_SERVICE, "taskDefinition")


def _exec_task_definitions(stack: Stack) -> list[RecordedResource]:
    """Task definitions that may run with ECS Exec in a cluster configured for it: those a service
    runs with enableExecuteCommand, and those no service runs (started on demand with
    `aws ecs run-task --enable-execute-command`, like the operator's database access task)."""
    if not _exec_clusters(stack):
        return []
    return [t for t in stack.of_type(TASK_DEFINITION)
            if not _services_of(stack, t) or any(s.inputs.get("enableExecuteCommand")
                                                 for s in _services_of(stack, t))]


def check_ecs_exec(stack: Stack) -> list[str]:
    problems = []
    clusters = _exec_clusters(stack)
    for cluster in clusters:
        settings = cluster.inputs["configuration"]["executeCommandConfiguration"]
        group_name = (settings.get("logConfiguration") or {}).get("cloudWatchLogGroupName")
        if group_name:
            group = stack.log_group_named(group_name)
            if group is None:
                problems.append(f"{cluster.name}: no log group {group_name} for ECS Exec sessions")
            else:
                if not stack.after(cluster, group):
                    problems.append(f"{cluster.name} may be created before its ECS Exec log group")
                encrypted = settings["logConfiguration"].get("cloudWatchEncryptionEnabled")
                if encrypted and not group.inputs.get("kmsKeyId"):
                    problems.append(f"{cluster.name}: cloudWatchEncryptionEnabled "
                                    "needs an encrypted log group")
    for task_definition in _exec_task_definitions(stack):
        role = stack.ref(task_definition, "taskRoleArn", ROLE)
        if role is None:
            problems.append(f"{task_definition.name}: ECS Exec needs a task role")
            continue
        for action in ECS_EXEC_CHANNEL_ACTIONS:
            if not stack.role_allows(role, action, "*"):
                problems.append(f"{task_definition.name}: task role {role.name} may not {action}")
        for cluster in clusters:
            settings = cluster.inputs["configuration"]["executeCommandConfiguration"]
            for key in stack.refs(cluster, "configuration", KEY):
                key_arn, context = stack.key_arn_context(key)
                if not stack.role_allows(role, "kms:Decrypt", key_arn, context):
                    problems.append(f"{task_definition.name}: task role {role.name} may not kms:Decrypt with "
                                    f"the session key {key.name}")
            group_name = (settings.get("logConfiguration") or {}).get("cloudWatchLogGroupName")
            if group_name:
                stream = stack.arn("logs", f"log-group:{group_name}:log-stream:ecs-execute-command-x")
                for action in ("logs:CreateLogStream", "logs:PutLogEvents"):
                    if not stack.role_allows(role, action, stream):
                        problems.append(f"{task_definition.name}: task role "
                                        f"{role.name} may not {action} to {group_name}")
                if not stack.role_allows(role, "logs:DescribeLogGroups", stack.arn("logs", "log-group:*")):
                    problems.append(f"{task_definition.name}: task role {role.name} may not "
                                    f"logs:DescribeLogGroups")
        containers = _json_or_none(task_definition.inputs.get("containerDefinitions")) or []
        for container in containers:
            if not container.get("readonlyRootFilesystem"):
                continue
            writable = {m["containerPath"] for m in container.get("mountPoints", []) if not m.get("readOnly")}
            missing = [p for p in ECS_EXEC_AGENT_PATHS if p not in writable]
            if missing:
                problems.append(f"{task_definition.name}: container {container['name']} has a read-only root "
                                "filesystem but no writable volume at "
                                f"{', '.join(missing)} for the ECS Exec agent")
    return problems


def check_container_insights(stack: Stack) -> list[str]:
    """The ECS guide asks for a task execution role on every task definition before Container
    Insights is configured (ECS collects the task's metrics through it)."""
    clusters = [c for c in stack.of_type(ECS_CLUSTER)
                if any(x.get("name") == "containerInsights" and x.get("value") in ("enabled", "enhanced")
                       for x in c.inputs.get("settings") or [])]
    if not clusters:
        return []
    return [f"{t.name}: Container Insights needs a task execution role"
            for t in stack.of_type(TASK_DEFINITION) if stack.ref(t, "executionRoleArn", ROLE) is None]


def check_task_execution_roles(stack: Stack) -> list[str]:
    problems = []
    for task_definition in stack.of_type(TASK_DEFINITION):
        role = stack.ref(task_definition, "executionRoleArn", ROLE)
        task_role = stack.ref(task_definition, "taskRoleArn", ROLE)
        for which in (role, task_role):
            if which is not None and not trusted_by(stack, which, "ecs-tasks.amazonaws.com"):
                problems.append(f"{task_definition.name}: {which.name} is not trusted by "
                                f"ecs-tasks.amazonaws.com")
        containers = _json_or_none(task_definition.inputs.get("containerDefinitions")) or []
        for container in containers:
            options = (container.get("logConfiguration") or {}).get("options", {})
            if (container.get("logConfiguration") or {}).get("logDriver") == "awslogs":
                group = stack.log_group_named(options.get("awslogs-group", ""))
                stream = stack.arn("logs", f"log-group:{options.get('awslogs-group')}:log-stream:x")
                for action in ("logs:CreateLogStream", "logs:PutLogEvents"):
                    if role is None or not stack.role_allows(role, action, stream):
                        problems.append(f"{task_definition.name}: the execution role may not {action} to "
                                        f"{options.get('awslogs-group')}")
                if group is None:
                    problems.append(f"{task_definition.name}: no log group {options.get('awslogs-group')} "
                                    "(awslogs does not create it without awslogs-create-group)")
            for secret in container.get("secrets", []):
                action = ("ssm:GetParameters" if ":ssm:" in secret["valueFrom"]
                          else "secretsmanager:GetSecretValue")
                if role is None or not stack.role_allows(role, action, secret["valueFrom"]):
                    problems.append(f"{task_definition.name}: the execution role may not {action} "
                                    f"{secret['valueFrom']}")
            image = container.get("image", "")
            if f".dkr.ecr.{stack.region}." in image:
                repository = stack.arn("ecr", f"repository/{image.split('/', 1)[1].split(':')[0]}")
                for action, resource in (("ecr:GetAuthorizationToken", "*"),
                                         ("ecr:BatchGetImage", repository),
                                         ("ecr:GetDownloadUrlForLayer", repository)):
                    if role is None or not stack.role_allows(role, action, resource):
                        problems.append(f"{task_definition.name}: the execution "
                                        f"role may not {action} on {resource}")
    return problems


# --- Load balancer, WAF ------------------------------------------------------------------------

ELB_LOG_DELIVERY = "logdelivery.elasticloadbalancing.amazonaws.com"


def check_alb_access_logs(stack: Stack) -> list[str]:
    problems = []
    for balancer in stack.of_type(LOAD_BALANCER):
        logs = balancer.inputs.get("accessLogs") or {}
        if not logs.get("enabled"):
            continue
        bucket = stack.bucket_named(logs.get("bucket", ""))
        if bucket is None:
            problems.append(f"{balancer.name}: the access-log bucket is not a bucket of this stack")
            continue
        algorithm = sse_algorithm(stack, bucket)
        if algorithm != "AES256":
            problems.append(f"{balancer.name}: access-log bucket {bucket.name} uses {algorithm}, not SSE-S3")
        prefix = f"{logs['prefix']}/" if logs.get("prefix") else ""
        objects = f"{stack.bucket_arn(bucket)}/{prefix}AWSLogs/{stack.account}/elasticloadbalancing/x.log.gz"
        if not allows([stack.bucket_policy(bucket)], "s3:PutObject", objects,
                      principal={"Service": ELB_LOG_DELIVERY}):
            problems.append(f"{balancer.name}: {bucket.name}'s policy does not let {ELB_LOG_DELIVERY} write")
        if not stack.after(balancer, stack.side(bucket, BUCKET_POLICY)):
            problems.append(f"{balancer.name} may enable access logs before its bucket policy exists")
    return problems


def check_waf_logging(stack: Stack) -> list[str]:
    problems = []
    for logging in stack.of_type(WAF_LOGGING):
        groups = stack.refs(logging, "logDestinationConfigs", LOG_GROUP)
        if not groups:
            problems.append(f"{logging.name}: the destination is not a log group of this stack")
        for group in groups:
            if not group.inputs["name"].startswith("aws-waf-logs-"):
                problems.append(f"{logging.name}: log group {group.inputs['name']} "
                                "does not start with aws-waf-logs-")
    return problems


# --- AWS Backup --------------------------------------------------------------------------------

BACKUP_MANAGED_POLICIES = ("service-role/AWSBackupServiceRolePolicyForBackup",
                           "service-role/AWSBackupServiceRolePolicyForRestores")
BACKUP_S3_MANAGED_POLICIES = ("AWSBackupServiceRolePolicyForS3Backup",
                              "AWSBackupServiceRolePolicyForS3Restore")


def check_backup_selections(stack: Stack) -> list[str]:
    problems = []
    for selection in stack.of_type(BACKUP_SELECTION):
        role = stack.ref(selection, "iamRoleArn", ROLE)
        if role is None:
            problems.append(f"{selection.name}: iamRoleArn is not a role of this stack")
            continue
        if not trusted_by(stack, role, "backup.amazonaws.com"):
            problems.append(f"{selection.name}: {role.name} is not trusted by backup.amazonaws.com")
        managed = stack.managed_policy_arns(role)
        buckets = stack.refs(selection, "resources", BUCKET)
        wanted = BACKUP_MANAGED_POLICIES + (BACKUP_S3_MANAGED_POLICIES if buckets else ())
        for policy in wanted:
            if f"arn:{stack.partition}:iam::aws:policy/{policy}" not in managed:
                problems.append(f"{selection.name}: {role.name} lacks AWS managed policy {policy}")
        for bucket in buckets:
            versioning = stack.side(bucket, BUCKET_VERSIONING)
            if versioning_status(versioning) != "Enabled":
                problems.append(f"{selection.name}: selected bucket {bucket.name} is not versioned")
        problems += stack.waits_for_role(selection, role)
    return problems


# --- ElastiCache -------------------------------------------------------------------------------

IAM_AUTH_MINIMUM = {"valkey": (7, 2), "redis": (7, 0)}


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", text)[:2])


def check_elasticache_iam_auth(stack: Stack) -> list[str]:
    problems = []
    for group in stack.of_type(REPLICATION_GROUP):
        users = [u for g in stack.refs(group, "userGroupIds", CACHE_USER_GROUP)
                 for u in stack.refs(g, "userIds", CACHE_USER)
                 if (u.inputs.get("authenticationMode") or {}).get("type") == "iam"]
        if not users:
            continue
        if not group.inputs.get("transitEncryptionEnabled"):
            problems.append(f"{group.name}: IAM authentication needs in-transit encryption")
        engine = group.inputs.get("engine", "redis")
        if _version(str(group.inputs.get("engineVersion", "0"))) < IAM_AUTH_MINIMUM.get(engine, (99,)):
            problems.append(f"{group.name}: {engine} {group.inputs.get('engineVersion')} "
                            "has no IAM authentication")
        group_arn = stack.arn("elasticache", f"replicationgroup:{group.inputs['replicationGroupId']}")
        roles = stack.of_type(ROLE)
        for user in users:
            if user.inputs.get("userName") != user.inputs.get("userId"):
                problems.append(f"{user.name}: an IAM user's userName must equal its userId")
            user_arn = stack.arn("elasticache", f"user:{user.inputs['userId']}")
            if not any(stack.role_allows(r, "elasticache:Connect", group_arn)
                       and stack.role_allows(r, "elasticache:Connect", user_arn) for r in roles):
                problems.append(f"{group.name}: no role may elasticache:Connect to it as "
                                f"{user.inputs['userId']}")
    return problems


def check_elasticache_log_delivery(stack: Stack) -> list[str]:
    problems = []
    for group in stack.of_type(REPLICATION_GROUP):
        for delivery in group.inputs.get("logDeliveryConfigurations") or []:
            if delivery.get("destinationType") != "cloudwatch-logs":
                continue
            log_group = stack.log_group_named(delivery["destination"])
            if log_group is None:
                problems.append(f"{group.name}: no log group {delivery['destination']}")
            elif not stack.after(group, log_group):
                problems.append(f"{group.name} may deliver {delivery['logType']} "
                                f"before {log_group.name} exists")
    return problems


# --- Session Manager ---------------------------------------------------------------------------


def _session_preferences(stack: Stack) -> list[dict]:
    return [(_json_or_none(d.inputs.get("content")) or {}).get("inputs", {})
            for d in stack.of_type(SSM_DOCUMENT) if d.inputs.get("documentType") == "Session"]


def check_session_manager(stack: Stack) -> list[str]:
    """Sessions reach the private subnets through the `ssm` and `ssmmessages` endpoints; encrypted
    sessions need `kms` and logged ones `logs` as well."""
    problems = []
    services = {e.inputs["serviceName"].rsplit(".", 1)[-1] for e in stack.of_type(VPC_ENDPOINT)
                if e.inputs.get("vpcEndpointType") == "Interface"}
    needed = {"ssm", "ssmmessages"}
    clusters = _exec_clusters(stack)
    preferences = _session_preferences(stack)
    if any(c["configuration"]["executeCommandConfiguration"].get("kmsKeyId") for c in
           (x.inputs for x in clusters)) or any(p.get("kmsKeyId") for p in preferences):
        needed.add("kms")
    if any((c["configuration"]["executeCommandConfiguration"].get("logConfiguration") or {}).get(
            "cloudWatchLogGroupName") for c in (x.inputs for x in clusters)) or any(
            p.get("cloudWatchLogGroupName") for p in preferences):
        needed.add("logs")
    if clusters and needed - services:
        problems.append(f"the VPC lacks interface endpoints for {', '.join(sorted(needed - services))}")
    for document in stack.of_type(SSM_DOCUMENT):
        inputs = (_json_or_none(document.inputs.get("content")) or {}).get("inputs", {})
        group_name = inputs.get("cloudWatchLogGroupName")
        if group_name:
            group = stack.log_group_named(group_name)
            if group is None or not stack.after(document, group):
                problems.append(f"{document.name}: the session log group {group_name} may not exist first")
            elif inputs.get("cloudWatchEncryptionEnabled") and not group.inputs.get("kmsKeyId"):
                problems.append(f"{document.name}: cloudWatchEncryptionEnabled needs an encrypted log group")
        if inputs.get("kmsKeyId") and not stack.refs(document, "content", KEY):
            problems.append(f"{document.name}: kmsKeyId is not a key of this stack")
    return problems


# --- KMS ---------------------------------------------------------------------------------------


def check_key_rotation(stack: Stack) -> list[str]:
    return [f"{key.name}: automatic rotation is for symmetric encryption keys only"
            for key in stack.of_type(KEY) if key.inputs.get("enableKeyRotation")
            and (key.inputs.get("customerMasterKeySpec") or key.inputs.get("keySpec") or "SYMMETRIC_DEFAULT")
            != "SYMMETRIC_DEFAULT"]


# --- The rows ----------------------------------------------------------------------------------

ROWS: tuple[Row, ...] = (
    Row("S3 server access logging",
        ((BUCKET_LOGGING, ""), (BUCKET_LOGGING, "targetBucket -> s3/bucket")),
        "The target bucket's default encryption is SSE-S3 (S3 cannot deliver to an SSE-KMS target), it has "
        "no Object Lock, its policy lets logging.s3.amazonaws.com s3:PutObject (aws:SourceAccount), and "
        "it exists before logging is switched on.",
        (_page("Enabling Amazon S3 server access logging",
               "https://docs.aws.amazon.com/AmazonS3/latest/userguide/enable-server-access-logging.html"),
         _page("Configuring S3 Object Lock (Object Lock buckets cannot be server access log destinations)",
               "https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock-configure.html")),
        check_server_access_logging,
        "tests/test_phi_bucket.py::test_access_log_bucket_uses_sse_s3_because_s3_log_delivery_requires_it"),
    Row("S3 Object Lock default retention",
        ((OBJECT_LOCK, ""), (BUCKET, "objectLockEnabled")),
        "Versioning is enabled on the bucket before the Object Lock configuration (AWS now also enables "
        "Object Lock on existing versioned buckets; the program enables it at creation).",
        (_page("Configuring S3 Object Lock",
               "https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock-configure.html"),),
        check_object_lock,
        "tests/test_audit_trail.py::test_the_phi_trail_bucket_is_compliance_locked_for_at_least_six_years"),
    Row("CloudTrail log files encrypted with SSE-KMS",
        ((TRAIL, "kmsKeyId -> kms/key"),),
        "The key policy lets cloudtrail.amazonaws.com kms:GenerateDataKey* for this trail's encryption "
        "context (aws:SourceArn = the trail), and kms:Decrypt when the trail bucket uses an S3 Bucket Key; "
        "the key exists before the trail.",
        (_page("Configure AWS KMS key policies for CloudTrail",
               "https://docs.aws.amazon.com/awscloudtrail/latest/userguide/create-kms-key-policy-for-cloudtrail.html"),),
        check_trail_kms,
        "tests/test_key_ring.py::test_each_service_gets_exactly_what_its_guide_documents"),
    Row("CloudTrail delivery to S3",
        ((TRAIL, ""), (TRAIL, "s3BucketName -> s3/bucket"), (TRAIL, "enableLogging"),
         (TRAIL, "enableLogFileValidation"), (TRAIL, "advancedEventSelectors -> s3/bucket")),
        "The bucket policy lets cloudtrail.amazonaws.com s3:GetBucketAcl and s3:PutObject under "
        "AWSLogs/<account>/ (bucket-owner-full-control, aws:SourceArn = the trail) before the trail is "
        "created (CreateTrail: InsufficientS3BucketPolicyException).",
        (_page("Amazon S3 bucket policy for CloudTrail",
               "https://docs.aws.amazon.com/awscloudtrail/latest/userguide/create-s3-bucket-policy-for-cloudtrail.html"),
         _botocore("cloudtrail CreateTrail error InsufficientS3BucketPolicyException")),
        check_trail_bucket,
        "tests/test_audit_trail.py::test_only_this_trail_may_write_and_only_over_tls"),
    Row("CloudTrail to CloudWatch Logs",
        ((TRAIL, "cloudWatchLogsGroupArn -> logs/logGroup"), (TRAIL, "cloudWatchLogsRoleArn -> iam/role")),
        "A role trusted by cloudtrail.amazonaws.com may logs:CreateLogStream and logs:PutLogEvents on the "
        "group's <account>_CloudTrail_<region> streams; cloudWatchLogsGroupArn ends in ':*'; the trail "
        "waits for the group and the role's policy.",
        (_page("Sending events to CloudWatch Logs",
               "https://docs.aws.amazon.com/awscloudtrail/latest/userguide/send-cloudtrail-events-to-cloudwatch-logs.html"),
         _page("Role policy document for CloudTrail to use CloudWatch Logs for monitoring",
               "https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-required-policy-for-cloudwatch-logs.html")),
        check_trail_to_cloudwatch,
        "tests/test_audit_trail.py::test_the_delivery_role_follows_the_cloudtrail_guide"),
    Row("CloudWatch Logs log groups encrypted with a customer key",
        ((LOG_GROUP, "kmsKeyId -> kms/key"),),
        "The key policy lets logs.<region>.amazonaws.com use the key with kms:EncryptionContext:aws:logs:arn "
        "matching this group's ARN; the key exists before the group (CreateLogGroup checks it).",
        (_page("Encrypt log data in CloudWatch Logs using AWS Key Management Service",
               "https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html"),),
        check_log_group_keys,
        "tests/test_key_ring.py::test_each_service_gets_exactly_what_its_guide_documents"),
    Row("CloudWatch Logs metric filters",
        ((METRIC_FILTER, ""), (METRIC_FILTER, "logGroupName -> logs/logGroup")),
        "The log group exists before the filter (PutMetricFilter: ResourceNotFoundException).",
        (_botocore("logs PutMetricFilter error ResourceNotFoundException"),),
        check_metric_filters,
        "tests/test_application_tier.py::test_the_failed_login_filter_waits_for_the_database_log_group"),
    Row("CloudWatch Logs data protection (masking) with a findings log group",
        ((DATA_PROTECTION, ""), (DATA_PROTECTION, "logGroupName -> logs/logGroup"),
         (DATA_PROTECTION, "policyDocument -> logs/logGroup")),
        "The masked log group exists, and so does every audit findings destination (\"If you specify "
        "destinations such as log groups, Firehose streams, and S3 buckets, they must already exist\").",
        (_botocore("logs PutDataProtectionPolicy policyDocument"),
         _page("Understanding data protection policies",
               "https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/cloudwatch-logs-data-protection-policies.html")),
        check_data_protection_policies,
        "tests/test_log_data_protection.py::test_findings_group_exists_first_is_encrypted_and_kept_six_years"),
    Row("CloudWatch Logs anomaly detector encrypted with a customer key",
        ((ANOMALY_DETECTOR, ""), (ANOMALY_DETECTOR, "enabled"), (ANOMALY_DETECTOR, "kmsKeyId -> kms/key"),
         (ANOMALY_DETECTOR, "logGroupArnLists -> logs/logGroup")),
        "The watched log group exists; the key policy lets logs.<region>.amazonaws.com use the key with "
        "kms:EncryptionContext:aws:logs:arn and kms:EncryptionContext:aws-crypto-ec:aws:logs:arn matching "
        "the detector's ARN (arn:aws:logs:<region>:<account>:anomaly-detector:<id>).",
        (_page("Encrypt an anomaly detector and its results with AWS KMS",
               "https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/LogsAnomalyDetection-KMS.html"),
         _botocore("logs CreateLogAnomalyDetector logGroupArnList kmsKeyId")),
        check_anomaly_detector_keys,
        "tests/test_key_ring.py::test_each_service_gets_exactly_what_its_guide_documents"),
    Row("CloudWatch Logs log streams",
        ((LOG_STREAM, ""), (LOG_STREAM, "logGroupName -> logs/logGroup")),
        "The log group exists before the stream (CreateLogStream: ResourceNotFoundException).",
        (_botocore("logs CreateLogStream error ResourceNotFoundException"),),
        check_log_streams,
        "tests/test_app_audit_trail.py::"
        "test_every_audit_event_flows_from_the_log_group_through_firehose_into_the_locked_bucket"),
    Row("EventBridge rule target that opens OpsCenter OpsItems",
        ((EVENT_TARGET, "roleArn -> iam/role"),),
        "A role trusted by events.amazonaws.com (this account, the rule's ARN) may ssm:CreateOpsItem, and "
        "the target waits for the role's policy (EventBridge uses the role as soon as the target exists).",
        (_page("Configure EventBridge rules to create OpsItems",
               "https://docs.aws.amazon.com/systems-manager/latest/userguide/"
               "OpsCenter-automatically-create-OpsItems-2.html"),),
        check_opsitem_targets,
        "tests/test_incident_response.py::"
        "test_owned_finding_rules_each_open_an_opsitem_through_a_role_only_they_may_use"),
    Row("CloudWatch Logs subscription filter to Amazon Data Firehose",
        ((SUBSCRIPTION_FILTER, ""), (SUBSCRIPTION_FILTER, "logGroup -> logs/logGroup"),
         (SUBSCRIPTION_FILTER, "roleArn -> iam/role")),
        "A role trusted by logs.amazonaws.com (aws:SourceArn = this account's log groups) may "
        "firehose:PutRecord and PutRecordBatch on the stream and, for a stream encrypted with a customer "
        "key, kms:GenerateDataKey and kms:Decrypt on that key; the filter waits for the log group, the "
        "stream and the role's policy (PutSubscriptionFilter tests delivery when it is called).",
        (_page("Subscription filters with Amazon Data Firehose",
               "https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/SubscriptionFilters.html"),
         _page("AWS customer notice \"Enhanced security controls for Amazon Data Firehose\" (PutRecord "
               "callers of SSE-CMK streams need kms:GenerateDataKey and kms:Decrypt from 2026-04-20), "
               "as quoted here",
               "https://github.com/ministryofjustice/modernisation-platform/issues/12957"),
         _botocore("logs PutSubscriptionFilter (iam:PassRole; ResourceNotFoundException)")),
        check_subscription_to_firehose,
        "tests/test_app_audit_trail.py::"
        "test_every_audit_event_flows_from_the_log_group_through_firehose_into_the_locked_bucket"),
    Row("Amazon Data Firehose delivery to S3, encrypted with customer keys",
        ((FIREHOSE, ""), (FIREHOSE, "extendedS3Configuration -> iam/role"),
         (FIREHOSE, "extendedS3Configuration -> kms/key"), (FIREHOSE, "extendedS3Configuration -> s3/bucket"),
         (FIREHOSE, "extendedS3Configuration -> logs/logGroup"),
         (FIREHOSE, "extendedS3Configuration.cloudwatchLoggingOptions.enabled"),
         (FIREHOSE, "serverSideEncryption -> kms/key"), (FIREHOSE, "serverSideEncryption.enabled")),
        "A role trusted by firehose.amazonaws.com (sts:ExternalId = the account) may write the bucket "
        "(s3:PutObject, AbortMultipartUpload, GetBucketLocation, ListBucket, ListBucketMultipartUploads), "
        "use the bucket's key through S3 for its objects, and put its error log events; the stream key's "
        "policy lets the account create Firehose's grant through firehose.<region>; the stream waits for "
        "the bucket, its policy and the role's policy.",
        (_page("Grant Firehose access to an Amazon S3 destination",
               "https://docs.aws.amazon.com/firehose/latest/dev/controlling-access.html#using-iam-s3"),
         _botocore("firehose StartDeliveryStreamEncryption (Firehose creates a grant on a "
                   "CUSTOMER_MANAGED_CMK)")),
        check_firehose_to_s3,
        "tests/test_app_audit_trail.py::test_only_the_services_of_this_account_can_assume_the_delivery_roles"),
    Row("VPC flow logs to CloudWatch Logs",
        ((FLOW_LOG, ""), (FLOW_LOG, "iamRoleArn -> iam/role"), (FLOW_LOG, "logDestination -> logs/logGroup")),
        "A role trusted by vpc-flow-logs.amazonaws.com may logs:CreateLogStream, logs:PutLogEvents, "
        "logs:DescribeLogStreams on the group and logs:DescribeLogGroups (logs:CreateLogGroup is not needed: "
        "the group exists); the flow log waits for the group and the role's policy.",
        (_page("IAM role for publishing flow logs to CloudWatch Logs",
               "https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs-iam-role.html"),),
        check_flow_logs,
        "tests/test_aws_lifecycle.py::"
        "test_a_service_starts_with_a_role_only_once_every_permission_is_attached"),
    Row("Private DNS names for interface VPC endpoints",
        ((VPC_ENDPOINT, "privateDnsEnabled"), (VPC, "enableDnsSupport"), (VPC, "enableDnsHostnames")),
        "The VPC has enableDnsSupport and enableDnsHostnames set to true.",
        (_botocore("ec2 CreateVpcEndpoint PrivateDnsEnabled: 'To use a private hosted zone, you must set the "
                   "following VPC attributes to true: enableDnsHostnames and enableDnsSupport'"),),
        check_private_dns,
        "tests/test_network.py::test_aws_api_calls_stay_on_private_endpoints"),
    Row("RDS Enhanced Monitoring",
        ((DB_INSTANCE, "monitoringInterval"), (DB_INSTANCE, "monitoringRoleArn -> iam/role")),
        "monitoringRoleArn names a role trusted by monitoring.rds.amazonaws.com with the AWS managed policy "
        "service-role/AmazonRDSEnhancedMonitoringRole, attached before the instance is created.",
        (_page("Setting up and enabling Enhanced Monitoring",
               "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_Monitoring.OS.Enabling.html"),
         _botocore("rds CreateDBInstance MonitoringRoleArn: required when MonitoringInterval is not 0")),
        check_enhanced_monitoring,
        "tests/test_phi_database.py::test_monitoring_upgrades_snapshots"),
    Row("RDS IAM database authentication",
        ((DB_INSTANCE, "iamDatabaseAuthenticationEnabled"),),
        "The engine supports it, and the application's task role may rds-db:connect as the database user "
        "the task is configured with (arn:aws:rds-db:<region>:<account>:dbuser:<resource id>/<user>).",
        (_page("Creating and using an IAM policy for IAM database access",
               "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/UsingWithRDS.IAMDBAuth.IAMPolicy.html"),
         _page("IAM database authentication for MariaDB, MySQL, and PostgreSQL",
               "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/UsingWithRDS.IAMDBAuth.html")),
        check_iam_database_auth,
        "tests/test_identity_and_backup.py::test_workload_role_has_no_wildcard_action_and_names_only_this_stacks_resources"),
    Row("RDS-managed master password in Secrets Manager with a customer key",
        ((DB_INSTANCE, "manageMasterUserPassword"), (DB_INSTANCE, "masterUserSecretKmsKeyId -> kms/key")),
        "No `password` alongside; the key policy lets the account use the key through Secrets Manager "
        "(kms:ViaService secretsmanager.<region>); the key exists before the instance.",
        (_page("Password management with Amazon RDS and AWS Secrets Manager",
               "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-secrets-manager.html"),
         _page("Secret encryption and decryption in AWS Secrets Manager",
               "https://docs.aws.amazon.com/secretsmanager/latest/userguide/security-encryption.html"),
         _botocore("rds CreateDBInstance MasterUserSecretKmsKeyId")),
        check_managed_master_password,
        "tests/test_phi_database.py::test_master_password_lives_in_secrets_manager_under_the_secrets_key"),
    Row("RDS Performance Insights encrypted with a customer key",
        ((DB_INSTANCE, "performanceInsightsEnabled"),
         (DB_INSTANCE, "performanceInsightsKmsKeyId -> kms/key")),
        "The key policy lets principals kms:Decrypt and kms:GenerateDataKey through RDS (kms:ViaService "
        "rds.<region>); the key exists before the instance (it cannot be changed later).",
        (_page("Changing an AWS KMS policy for Performance Insights",
               "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_PerfInsights.access-control.cmk-policy.html"),),
        check_performance_insights_key,
        "tests/test_phi_database.py::test_storage_and_performance_insights_are_encrypted_with_the_database_key"),
    Row("RDS log exports to CloudWatch Logs",
        ((DB_INSTANCE, "enabledCloudwatchLogsExports"),),
        "RDS exports each log to the group /aws/rds/instance/<id>/<log>; that group is the program's own "
        "(encrypted, six-year retention) and exists before the instance exports to it. The ordering is the "
        "program's requirement (its logs must land in its encrypted group), not one AWS states.",
        (_page("Publishing database logs to Amazon CloudWatch Logs",
               "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_LogAccess.Procedural.UploadtoCloudWatch.html"),),
        check_database_log_groups,
        "tests/test_phi_database.py::test_pgaudit_and_connection_logging_reach_cloudwatch"),
    Row("Encryption with a customer key through a service (RDS, S3, ECR, SNS, ElastiCache, AWS Backup)",
        ((DB_INSTANCE, "kmsKeyId -> kms/key"), (DB_INSTANCE, "storageEncrypted"),
         (BUCKET_SSE, "rules -> kms/key"), (BUCKET_SSE, "rules[].bucketKeyEnabled"),
         (ECR_REPOSITORY, "encryptionConfigurations -> kms/key"), (TOPIC, "kmsMasterKeyId -> kms/key"),
         (REPLICATION_GROUP, "kmsKeyId -> kms/key"), (REPLICATION_GROUP, "atRestEncryptionEnabled"),
         (BACKUP_VAULT, "kmsKeyArn -> kms/key")),
        "The key policy lets principals of the account use the key through that service (kms:ViaService "
        "<service>.<region>) for what the service calls (GenerateDataKey, Decrypt; CreateGrant where the "
        "service creates grants); the key exists before the resource.",
        (_page("AWS KMS key management (Amazon RDS)",
               "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/Overview.Encryption.Keys.html"),
         _page("Using server-side encryption with AWS KMS keys (SSE-KMS)",
               "https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingKMSEncryption.html"),
         _page("Encryption at rest (Amazon ECR)",
               "https://docs.aws.amazon.com/AmazonECR/latest/userguide/encryption-at-rest.html"),
         _page("Key management (Amazon SNS)", "https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html"),
         _page("At-Rest Encryption in ElastiCache",
               "https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/at-rest-encryption.html"),
         _page("Encryption for backups in AWS Backup",
               "https://docs.aws.amazon.com/aws-backup/latest/devguide/encryption.html")),
        check_keys_through_services,
        "tests/test_key_ring.py::test_each_service_gets_exactly_what_its_guide_documents"),
    Row("Encrypted SNS topic receiving CloudWatch alarms and EventBridge rules",
        ((METRIC_ALARM, "alarmActions -> sns/topic"), (METRIC_ALARM, "insufficientDataActions -> sns/topic"),
         (METRIC_ALARM, "okActions -> sns/topic"), (EVENT_TARGET, "arn -> sns/topic")),
        "The topic's key policy lets cloudwatch.amazonaws.com and events.amazonaws.com kms:Decrypt and "
        "kms:GenerateDataKey* (EventBridge without source conditions, which it cannot satisfy); the topic "
        "policy lets CloudWatch publish (aws:SourceAccount) and EventBridge publish from each rule's ARN.",
        (_page("Configure AWS KMS permissions for AWS services (Amazon SNS)",
               "https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services"),
         _page("Amazon SNS permissions (Amazon EventBridge)",
               "https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-use-resource-based.html#eb-sns-permissions")),
        check_encrypted_topic_publishers,
        "tests/test_security_alarms.py::test_eventbridge_is_scoped_by_the_topic_policy_not_the_key_policy"),
    Row("AWS Config recorder and delivery channel",
        ((RECORDER, ""), (RECORDER, "roleArn -> iam/role"), (RECORDER, "recordingGroup.allSupported"),
         (RECORDER, "recordingGroup.includeGlobalResourceTypes"), (RECORDER_STATUS, ""),
         (RECORDER_STATUS, "isEnabled"), (DELIVERY_CHANNEL, ""),
         (DELIVERY_CHANNEL, "s3BucketName -> s3/bucket"),
         (DELIVERY_CHANNEL, "s3KmsKeyArn -> kms/key")),
        "The recorder's role is trusted by config.amazonaws.com with service-role/AWS_ConfigRole; the "
        "bucket policy lets config.amazonaws.com s3:GetBucketAcl and s3:PutObject under "
        "AWSLogs/<account>/Config/; the key lets config.amazonaws.com GenerateDataKey and Decrypt; recording "
        "starts only after the channel and the role's policies (StartConfigurationRecorder: "
        "NoAvailableDeliveryChannelException).",
        (_page("Permissions for the IAM role assigned to AWS Config",
               "https://docs.aws.amazon.com/config/latest/developerguide/iamrole-permissions.html"),
         _page("Permissions for the Amazon S3 bucket for the AWS Config delivery channel",
               "https://docs.aws.amazon.com/config/latest/developerguide/s3-bucket-policy.html"),
         _page("Permissions for the KMS key for the AWS Config delivery channel",
               "https://docs.aws.amazon.com/config/latest/developerguide/s3-kms-key-policy.html"),
         _botocore("config StartConfigurationRecorder error NoAvailableDeliveryChannelException")),
        check_config_recorder,
        "tests/test_threat_detection.py::test_config_records_everything_and_delivers_encrypted"),
    Row("AWS Config conformance pack",
        ((CONFORMANCE_PACK, ""),),
        "The configuration recorder records before the pack is deployed.",
        (_page("Prerequisites for conformance packs",
               "https://docs.aws.amazon.com/config/latest/developerguide/cpack-prerequisites.html"),),
        check_conformance_packs,
        "tests/test_threat_detection.py::test_conformance_pack_template_parses_and_names_only_managed_rules_from_the_table"),
    Row("Security Hub standards",
        ((SECURITY_HUB, ""), (STANDARDS, "")),
        "Security Hub is enabled before a standard is subscribed, and AWS Config records every supported "
        "resource type in the account and region (Security Hub's controls are AWS Config rules).",
        (_page("Enabling and configuring AWS Config for Security Hub CSPM",
               "https://docs.aws.amazon.com/securityhub/latest/userguide/securityhub-setup-prereqs.html"),
         _page("AWS::SecurityHub::Hub (create the hub before other Security Hub resources)",
               "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-securityhub-hub.html")),
        check_security_hub,
        "tests/test_threat_detection.py::test_security_hub_subscribes_to_real_standards_for_the_region"),
    Row("EBS encryption by default with a customer key",
        ((EBS_BY_DEFAULT, ""), (EBS_BY_DEFAULT, "enabled"), (EBS_DEFAULT_KEY, ""),
         (EBS_DEFAULT_KEY, "keyArn -> kms/key"), (SERVICE_LINKED_ROLE, "")),
        "The key policy lets AWSServiceRoleForAutoScaling use the key and create grants for AWS resources "
        "(and EC2 use it through kms:ViaService); the "
        "service-linked role exists before the key policy names it.",
        (_page("Required AWS KMS key policy for use with encrypted volumes (Amazon EC2 Auto Scaling)",
               "https://docs.aws.amazon.com/autoscaling/ec2/userguide/key-policy-requirements-EBS-encryption.html"),),
        check_ebs_default_key,
        "tests/test_key_ring.py::test_each_service_gets_exactly_what_its_guide_documents"),
    Row("GuardDuty Runtime Monitoring with automated agent management for ECS Fargate",
        ((DETECTOR_FEATURE, "[name=RUNTIME_MONITORING].status"),
         (DETECTOR_FEATURE, "[name=RUNTIME_MONITORING].additionalConfigurations"
                            "[name=ECS_FARGATE_AGENT_MANAGEMENT].status")),
        "Fargate platform 1.4.0 or LATEST; every Fargate task (in every stack sharing the account) has an "
        "execution role that may pull "
        "GuardDuty's agent from the aws-guardduty-agent-fargate repository of the region's GuardDuty "
        "account (ecr:GetAuthorizationToken, ecr:BatchGetImage, ecr:GetDownloadUrlForLayer), unless its "
        "cluster is tagged GuardDutyManaged=false.",
        (_page("Prerequisites for AWS Fargate (Amazon ECS only) support",
               "https://docs.aws.amazon.com/guardduty/latest/ug/prereq-runtime-monitoring-ecs-support.html"),
         _page("Amazon ECR repository hosting GuardDuty agent",
               "https://docs.aws.amazon.com/guardduty/latest/ug/ecs-runtime-agent-ecr-image-uri.html"),
         _page("Amazon ECS task execution IAM role (Runtime Monitoring needs it)",
               "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_execution_IAM_role.html")),
        check_guardduty_fargate_agent, account_wide=True),
    Row("ECS Exec with encrypted, logged sessions",
        ((ECS_CLUSTER, "configuration -> kms/key"),
         (ECS_CLUSTER, "configuration.executeCommandConfiguration.logConfiguration"
                       ".cloudWatchEncryptionEnabled"),
         (TASK_DEFINITION, "taskRoleArn -> iam/role"),
         (TASK_DEFINITION, "containerDefinitions(json)[name=db-access].readonlyRootFilesystem")),
        "The task role may ssmmessages:CreateControlChannel, CreateDataChannel, OpenControlChannel, "
        "OpenDataChannel, kms:Decrypt with the cluster's session key, and write to the session log group "
        "(which exists, encrypted, before the cluster); with a read-only root filesystem the agent's "
        "directories are writable volumes (reported workaround: AWS calls read-only roots unsupported).",
        (_page("Monitor Amazon ECS containers with ECS Exec",
               "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs-exec.html"),
         Source("aws/containers-roadmap issue 1359: ECS Exec with readonlyRootFilesystem (/managed-agents, "
                "/var/lib/amazon/ssm, /var/log/amazon/ssm writable)",
                "https://github.com/aws/containers-roadmap/issues/1359", checked=CHECKED_ON)),
        check_ecs_exec,
        "tests/test_application_tier.py::test_operator_sessions_are_encrypted_and_logged_without_any_inbound_port"),
    Row("ECS task execution role (awslogs, Parameter Store secrets, private ECR images)",
        ((TASK_DEFINITION, ""), (TASK_DEFINITION, "executionRoleArn -> iam/role"),
         (TASK_DEFINITION, "containerDefinitions(json)[name=app].essential"),
         (TASK_DEFINITION, "containerDefinitions(json)[name=db-access].essential"),
         (TASK_DEFINITION, "containerDefinitions(json)[name=app].linuxParameters.initProcessEnabled"),
         (TASK_DEFINITION, "containerDefinitions(json)[name=db-access].linuxParameters.initProcessEnabled")),
        "Both roles are trusted by ecs-tasks.amazonaws.com; the execution role may write the awslogs group "
        "(which exists: awslogs creates none unless told to), read each secret's parameter, and pull the "
        "image from the stack's ECR repository.",
        (_page("Amazon ECS task execution IAM role",
               "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_execution_IAM_role.html"),
         _page("Using the awslogs log driver",
               "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/using_awslogs.html")),
        check_task_execution_roles,
        "tests/test_application_tier.py::test_the_task_role_is_exactly_the_workload_role"),
    Row("CloudWatch Container Insights for ECS",
        ((ECS_CLUSTER, "settings[name=containerInsights].value"),),
        "Every task definition has a task execution role (CloudWatch creates the performance log group "
        "itself; the program does not create it).",
        (_page("Configuring CloudWatch Container Insights for Amazon ECS",
               "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/lifecycle-metrics.html"),
         _page("Container Insights performance log reference",
               "https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Container-Insights-reference.html")),
        check_container_insights),
    Row("Application Load Balancer access logs",
        ((LOAD_BALANCER, "accessLogs.enabled"), (LOAD_BALANCER, "accessLogs -> s3/bucket")),
        "The bucket's default encryption is SSE-S3 (the only one ALB log delivery supports), its policy lets "
        "logdelivery.elasticloadbalancing.amazonaws.com (or the region's ELB account) s3:PutObject under "
        "<prefix>/AWSLogs/<account>/, and the policy exists "
        "before the load balancer (ELB writes a test file).",
        (_page("Enable access logs for your Application Load Balancer",
               "https://docs.aws.amazon.com/elasticloadbalancing/latest/application/enable-access-logging.html"),),
        check_alb_access_logs,
        "tests/test_application_tier.py::test_the_load_balancer_drops_invalid_headers_logs_and_resists_deletion_with_phi"),
    Row("WAF logging to CloudWatch Logs",
        ((WAF_LOGGING, ""), (WAF_LOGGING, "logDestinationConfigs -> logs/logGroup")),
        "The log group's name starts with aws-waf-logs- (WAF adds the log group's resource policy itself; "
        "the deploying role needs logs:CreateLogDelivery and "
        "logs:PutResourcePolicy, which bootstrap/ grants).",
        (_page("Sending web ACL traffic logs to an Amazon CloudWatch Logs log group",
               "https://docs.aws.amazon.com/waf/latest/developerguide/logging-cw-logs.html"),
         _botocore("wafv2 PutLoggingConfiguration: 'The name that you "
                   "give the destination must start with aws-waf-logs-'")),
        check_waf_logging,
        "tests/test_application_tier.py::"
        "test_the_waf_is_associated_with_managed_rules_a_rate_limit_and_logs"),
    Row("AWS Backup of RDS and S3",
        ((BACKUP_SELECTION, ""), (BACKUP_SELECTION, "iamRoleArn -> iam/role"),
         (BACKUP_SELECTION, "resources -> s3/bucket")),
        "A role trusted by backup.amazonaws.com with the AWS managed policies "
        "service-role/AWSBackupServiceRolePolicyForBackup and ...ForRestores, and for S3 the top-level "
        "AWSBackupServiceRolePolicyForS3Backup and ...ForS3Restore, attached before the selection; every "
        "selected bucket has versioning enabled.",
        (_page("Amazon S3 backups (prerequisites)",
               "https://docs.aws.amazon.com/aws-backup/latest/devguide/s3-backups.html"),
         _page("AWSBackupServiceRolePolicyForS3Backup (AWS managed policy reference)",
               "https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AWSBackupServiceRolePolicyForS3Backup.html")),
        check_backup_selections,
        "tests/test_identity_and_backup.py::test_backup_vault_is_encrypted_locked_and_the_phi_stores_are_selected"),
    Row("ElastiCache IAM authentication",
        ((REPLICATION_GROUP, "userGroupIds"), (REPLICATION_GROUP, "transitEncryptionEnabled")),
        "In-transit encryption is on, the engine is Valkey 7.2+ or Redis OSS 7.0+, each IAM user's name "
        "equals its id, and some role may elasticache:Connect to both the replication group and the user.",
        (_page("Authenticating with IAM (ElastiCache)",
               "https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/auth-iam.html"),),
        check_elasticache_iam_auth,
        "tests/test_session_cache.py::test_clients_authenticate_with_iam_as_the_application_user"),
    Row("ElastiCache log delivery to CloudWatch Logs",
        ((REPLICATION_GROUP, "logDeliveryConfigurations -> logs/logGroup"),),
        "Each destination is one of the program's log groups (encrypted, with retention), created before the "
        "replication group delivers to it (the program's requirement); the deploying role needs "
        "logs:CreateLogDelivery and logs:PutResourcePolicy, which bootstrap/ci_roles.py grants.",
        (_page("Log delivery (ElastiCache)", "https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/Log_Delivery.html"),
         _page("ElastiCache logging destinations (permissions to publish logs to CloudWatch Logs)",
               "https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/Logging-destinations.html")),
        check_elasticache_log_delivery,
        "tests/test_session_cache.py::test_slow_and_engine_logs_go_to_encrypted_stack_log_groups_kept_for_the_retention"),
    Row("Session Manager sessions (shell preferences and ECS Exec) from private subnets",
        ((SSM_DOCUMENT, ""), (SSM_DOCUMENT, "content -> kms/key"),
         (SSM_DOCUMENT, "content(json).inputs.s3EncryptionEnabled"),
         (SSM_DOCUMENT, "content(json).inputs.cloudWatchEncryptionEnabled"),
         (SSM_DOCUMENT, "content(json).inputs.cloudWatchStreamingEnabled")),
        "Interface endpoints for ssm and ssmmessages (and kms, logs when sessions are encrypted and logged) "
        "in the VPC; the preferences' log group exists, encrypted, before the document.",
        (_page("Improve the security of EC2 instances by using VPC endpoints for Systems Manager",
               "https://docs.aws.amazon.com/systems-manager/latest/userguide/setup-create-vpc.html"),
         _page("Logging session activity (Session Manager)",
               "https://docs.aws.amazon.com/systems-manager/latest/userguide/session-manager-logging.html")),
        check_session_manager,
        "tests/test_application_tier.py::test_the_account_owner_logs_and_encrypts_shell_sessions"),
    Row("Automatic rotation of KMS keys",
        ((KEY, "enableKeyRotation"),),
        "The key is a symmetric encryption key (SYMMETRIC_DEFAULT) with key material KMS generated.",
        (_botocore("kms EnableKeyRotation: 'Enables automatic rotation of the key material of the specified "
                   "symmetric encryption KMS key'"),),
        check_key_rotation,
        "tests/test_key_ring.py::test_each_key_rotates_yearly_with_an_alias"),
)


# ---------------------------------------------------------------------------------------------
# Switched on, no prerequisite (each with the reason)
# ---------------------------------------------------------------------------------------------

_HARDENING = "a protective setting of the resource itself; AWS documents nothing that must exist first"
_PLUMBING = ("wiring between the program's own resources (ids and names passed as outputs, which Pulumi "
             "orders); no AWS feature is switched on by it")
_DESTROY = "changes only what `pulumi destroy` does (emptying before delete); nothing is needed at creation"
_OBSERVE = "monitoring or alerting configuration with no documented prerequisite beyond its inputs"

NO_PREREQUISITE: dict[Switch, str] = {
    # Steps and defaults inside the containment runbook (an Automation document an operator runs during
    # an incident); nothing is switched on at deploy. tests/test_containment_documents.py checks the
    # document against AWS's schema, botocore and its role.
    **{(SSM_DOCUMENT, f"content(json).{path}"): "a step of the containment runbook, run by an operator"
       for path in ("mainSteps[name=CheckScaling].isEnd", "mainSteps[name=IsolateService].isEnd",
                    "mainSteps[name=ResumeScaling].isEnd",
                    "mainSteps[name=ChooseAction].inputs.Choices[].BooleanEquals",
                    "mainSteps[name=SuspendScaling].inputs.SuspendedState.DynamicScalingInSuspended",
                    "mainSteps[name=SuspendScaling].inputs.SuspendedState.DynamicScalingOutSuspended",
                    "mainSteps[name=SuspendScaling].inputs.SuspendedState.ScheduledScalingSuspended",
                    "parameters.DryRun.default")},
    # A flag of the log group, set at CreateLogGroup (botocore logs: deletionProtectionEnabled) or by
    # PutLogGroupDeletionProtection ("Protecting log groups from deletion",
    # https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/protecting-log-groups-from-deletion.html);
    # the deploy role holds logs:PutLogGroupDeletionProtection on the stack's log groups (bootstrap/ci_roles.py).
    ("aws:cloudwatch/logGroup:LogGroup", "deletionProtectionEnabled"):
        "a flag of the log group itself; the deploying role's IAM permission is the only requirement",
    # Account-wide protective settings.
    ("aws:iam/accountPasswordPolicy:AccountPasswordPolicy", ""): _HARDENING,
    **{("aws:iam/accountPasswordPolicy:AccountPasswordPolicy", k): _HARDENING for k in (
        "allowUsersToChangePassword", "requireLowercaseCharacters", "requireNumbers", "requireSymbols",
        "requireUppercaseCharacters")},
    ("aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock", ""): _HARDENING,
    **{("aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock", k): _HARDENING for k in (
        "blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")},
    ("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", ""): _HARDENING,
    **{("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", k): _HARDENING for k in (
        "blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")},
    ("aws:accessanalyzer/analyzer:Analyzer", ""): "IAM Access Analyzer (ACCOUNT) needs no other resource",
    ("aws:guardduty/detector:Detector", ""): "GuardDuty creates its own service-linked role when enabled",
    ("aws:guardduty/detector:Detector", "enable"): "GuardDuty creates its own "
                                                   "service-linked role when enabled",
    ("aws:guardduty/detectorFeature:DetectorFeature", ""): "each feature is judged by its name below",
    ("aws:guardduty/detectorFeature:DetectorFeature", "[name=S3_DATA_EVENTS].status"):
        "GuardDuty reads S3 data events itself; nothing to create",
    ("aws:guardduty/detectorFeature:DetectorFeature", "[name=LAMBDA_NETWORK_LOGS].status"):
        "GuardDuty reads Lambda network activity itself; the program runs no Lambda function",
    ("aws:guardduty/detectorFeature:DetectorFeature", "[name=RDS_LOGIN_EVENTS].status"):
        "GuardDuty reads RDS login activity itself (no database setting or role to create)",
    ("aws:guardduty/detectorFeature:DetectorFeature", "[name=EBS_MALWARE_PROTECTION].status"):
        "agentless scans with GuardDuty's own service-linked role; the program runs no EC2 instance",
    ("aws:guardduty/detectorFeature:DetectorFeature",
     "[name=RUNTIME_MONITORING].additionalConfigurations[name=EC2_AGENT_MANAGEMENT].status"):
        "the program runs no EC2 instance (the agent would need SSM-managed instances)",
    ("aws:securityhub/account:Account", "autoEnableControls"): "turns on new controls "
                                                               "of subscribed standards",
    ("aws:acm/certificate:Certificate", ""):
        "validated by the Route 53 record and CertificateValidation it is given "
        "(tests/test_application_tier.py)",
    ("aws:acm/certificate:Certificate", "options.certificateTransparencyLoggingPreference"): _HARDENING,
    ("aws:acm/certificateValidation:CertificateValidation", ""): _PLUMBING,
    ("aws:route53/record:Record", ""): _PLUMBING,
    ("aws:route53/record:Record", "allowOverwrite"): "replaces an existing validation "
                                                     "record of the same name",
    # Network plumbing.
    **{(t, ""): _PLUMBING for t in (
        VPC, "aws:ec2/subnet:Subnet", "aws:ec2/routeTable:RouteTable", "aws:ec2/route:Route",
        "aws:ec2/routeTableAssociation:RouteTableAssociation", "aws:ec2/internetGateway:InternetGateway",
        "aws:ec2/natGateway:NatGateway", "aws:ec2/eip:Eip", "aws:ec2/securityGroup:SecurityGroup",
        "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup",
        "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
        "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule", VPC_ENDPOINT,
        "aws:rds/subnetGroup:SubnetGroup", "aws:elasticache/subnetGroup:SubnetGroup")},
    ("aws:ec2/securityGroup:SecurityGroup", "revokeRulesOnDelete"): _DESTROY,
    # Keys, roles and policies are the prerequisites themselves (the rows check them).
    **{(t, ""): "a prerequisite the rows check, not a feature" for t in (
        KEY, ALIAS, ROLE, POLICY, ATTACHMENT, LOG_GROUP, BUCKET, BUCKET_POLICY, BUCKET_SSE, BUCKET_VERSIONING,
        TOPIC_POLICY, CACHE_USER, CACHE_USER_GROUP, "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
        "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "aws:ssm/parameter:Parameter")},
    (BUCKET_VERSIONING, "versioningConfiguration.status"): "a prerequisite of Object "
                                                           "Lock and S3 backups (rows)",
    ("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "rules[].status"):
        "lifecycle rules need no other resource (versioned "
        "buckets expire noncurrent versions by these rules)",
    (BUCKET, "forceDestroy"): _DESTROY,
    (BACKUP_VAULT, "forceDestroy"): _DESTROY,
    (ECR_REPOSITORY, "forceDelete"): _DESTROY,
    (KEY, "enableKeyRotation"): "see the rotation row",
    # Databases and caches: settings of the resource itself.
    (DB_INSTANCE, ""): "each of its features is a row or listed here",
    **{(DB_INSTANCE, k): _HARDENING for k in ("autoMinorVersionUpgrade", "copyTagsToSnapshot",
                                              "deletionProtection", "multiAz")},
    (DB_INSTANCE, "deleteAutomatedBackups"): _DESTROY,
    (DB_INSTANCE, "skipFinalSnapshot"): _DESTROY,
    ("aws:rds/parameterGroup:ParameterGroup", ""): "its parameters need only the engine family it names",
    (REPLICATION_GROUP, ""): "each of its features is a row or listed here",
    (REPLICATION_GROUP, "autoMinorVersionUpgrade"): _HARDENING,
    (REPLICATION_GROUP, "automaticFailoverEnabled"): "needs a replica (numCacheClusters >= 2), which "
                                                     "components/application/session_cache.py "
                                                     "validates before creating anything",
    (REPLICATION_GROUP, "multiAzEnabled"): "needs automatic failover and a replica, validated in "
                                           "components/application/session_cache.py (tests/test_session_cache.py)",
    # Application tier.
    (ECS_CLUSTER, ""): "its features are rows (ECS Exec) or listed here",
    (ECS_SERVICE, ""): "its features are rows (ECS Exec) or listed here",
    (TASK_DEFINITION, "containerDefinitions(json)[name=app].readonlyRootFilesystem"):
        "a protective setting; the application's task is not "
        "reached by ECS Exec (the row checks any that is)",
    (ECS_SERVICE, "deploymentCircuitBreaker.enable"): "rolls back failed deployments; nothing to create",
    (ECS_SERVICE, "deploymentCircuitBreaker.rollback"): "rolls back failed deployments; nothing to create",
    (ECR_REPOSITORY, ""): "its encryption is a row; scanning needs nothing",
    (ECR_REPOSITORY, "imageScanningConfiguration.scanOnPush"): "basic scanning needs no other resource",
    ("aws:ecr/lifecyclePolicy:LifecyclePolicy", ""): _PLUMBING,
    (LOAD_BALANCER, ""): "its access logs are a row",
    (LOAD_BALANCER, "dropInvalidHeaderFields"): _HARDENING,
    (LOAD_BALANCER, "enableDeletionProtection"): _HARDENING,
    ("aws:lb/targetGroup:TargetGroup", ""): _PLUMBING,
    ("aws:lb/targetGroup:TargetGroup", "healthCheck.enabled"): "health checks need only the target's port",
    ("aws:lb/listener:Listener", ""): "its certificate is issued by the validation it takes as input",
    ("aws:wafv2/webAcl:WebAcl", ""): "AWS managed rule groups need no subscription",
    **{("aws:wafv2/webAcl:WebAcl", k): _OBSERVE for k in (
        "visibilityConfig.cloudwatchMetricsEnabled", "visibilityConfig.sampledRequestsEnabled",
        "rules[name=AWSManagedRulesCommonRuleSet].visibilityConfig.cloudwatchMetricsEnabled",
        "rules[name=AWSManagedRulesCommonRuleSet].visibilityConfig.sampledRequestsEnabled",
        "rules[name=AWSManagedRulesKnownBadInputsRuleSet].visibilityConfig.cloudwatchMetricsEnabled",
        "rules[name=AWSManagedRulesKnownBadInputsRuleSet].visibilityConfig.sampledRequestsEnabled",
        "rules[name=AWSManagedRulesAmazonIpReputationList].visibilityConfig.cloudwatchMetricsEnabled",
        "rules[name=AWSManagedRulesAmazonIpReputationList].visibilityConfig.sampledRequestsEnabled",
        "rules[name=AWSManagedRulesSQLiRuleSet].visibilityConfig.cloudwatchMetricsEnabled",
        "rules[name=AWSManagedRulesSQLiRuleSet].visibilityConfig.sampledRequestsEnabled",
        "rules[name=rate-limit-per-ip].visibilityConfig.cloudwatchMetricsEnabled",
        "rules[name=rate-limit-per-ip].visibilityConfig.sampledRequestsEnabled")},
    ("aws:wafv2/webAclAssociation:WebAclAssociation", ""): _PLUMBING,
    ("aws:appautoscaling/target:Target", ""): "registers the service it waits for",
    ("aws:appautoscaling/policy:Policy", ""): "scales the target it takes as input",
    # Alerting and monitoring.
    (TOPIC, ""): "its encryption and publishers are rows",
    ("aws:sns/topicSubscription:TopicSubscription", ""):
        "an email subscription needs only its recipient's confirmation (README)",
    (METRIC_ALARM, ""): "its actions are the encrypted-topic row",
    (METRIC_ALARM, "metricQueries[].returnData"): _OBSERVE,
    (EVENT_RULE, ""): "its target is the encrypted-topic row",
    (EVENT_TARGET, ""): "see the encrypted-topic row",
    ("aws:cloudwatch/contributorInsightRule:ContributorInsightRule", ""): _OBSERVE,
    ("aws:cloudwatch/contributorInsightRule:ContributorInsightRule", "ruleState"): _OBSERVE,
    ("aws:cloudwatch/contributorInsightRule:ContributorInsightRule", "ruleDefinition -> logs/logGroup"):
        "the rule reads the trail's log group by name (its output: created after the group); "
        "PutInsightRule documents no prerequisite",
    ("aws:cloudwatch/contributorInsightRule:ContributorInsightRule", "ruleDefinition -> s3/bucket"):
        "the PHI bucket's name is a filter value in the rule, not something the rule uses",
    (TOPIC_POLICY, "arn -> sns/topic"): "the topic's own policy (read by the encrypted-topic row)",
    ("aws:sns/topicSubscription:TopicSubscription", "topic -> sns/topic"):
        "an email subscription needs only its recipient's confirmation (README)",
    # Trail options with no prerequisite of their own.
    (TRAIL, "isMultiRegionTrail"): "records every region from this one; nothing to create elsewhere",
    (TRAIL, "includeGlobalServiceEvents"): "records IAM, STS and other global events; nothing to create",
    # Backup.
    ("aws:backup/plan:Plan", ""): "its vault is given as input; the selection (row) names the role",
    (BACKUP_VAULT, ""): "its key is the customer-key row",
    ("aws:backup/vaultLockConfiguration:VaultLockConfiguration", ""): "locks the vault it takes as input",
    # Workforce access (Identity Center): the assignment waits for the account's policies
    # (tests/test_workforce_access.py::
    #  test_configured_groups_are_assigned_in_this_account_after_their_policies_exist).
    **{(t, ""): "IAM Identity Center: assignments wait for the customer-managed policies they reference "
                "(tests/test_workforce_access.py)" for t in (
        "aws:ssoadmin/permissionSet:PermissionSet", "aws:ssoadmin/accountAssignment:AccountAssignment",
        "aws:ssoadmin/customerManagedPolicyAttachment:CustomerManagedPolicyAttachment",
        "aws:ssoadmin/managedPolicyAttachment:ManagedPolicyAttachment")},
}


def covered() -> dict[Switch, str]:
    """Every switch a row or the no-prerequisite list accounts for, and by which."""
    found: dict[Switch, str] = {s: f"no prerequisite: {reason}" for s, reason in NO_PREREQUISITE.items()}
    for row in ROWS:
        for switch in row.switches:
            found[switch] = row.feature
    return found


def stacks_sharing_account(stack: str) -> list[str]:
    """Stacks deployed into the same AWS account as `stack` (its `aws:allowedAccountIds`)."""
    accounts = set(load_stack_config(stack).allowed_account_ids)
    return [s for s in stack_names() if set(load_stack_config(s).allowed_account_ids) & accounts]

"""Class check: a resource that names another resource of the program by a literal (a log group,
bucket, role, topic, document, parameter, key alias... by its name or ARN) depends on it.

A literal is not a dependency: Pulumi may create the referrer first (PutMetricFilter on a log group
that does not exist yet fails with ResourceNotFoundException, botocore `logs`) and, on destroy,
delete the named resource while the referrer still uses it.

How it works, generically over both whole stacks:
- every custom resource's physical identifiers are built from its own inputs in AWS's formats
  (`IDENTIFIERS`: names, ARNs, the forms other services address it by); a resource left to the
  provider to name has no literal identifier, so nothing can name it by literal;
- every input string of every other resource is scanned (recursively, JSON documents such as policies
  and container definitions included): an identifier that is the whole value, or an ARN that is the
  whole value or a prefix followed by `:` or `/` (a whole ARN segment), is a reference; a bare name
  counts only under a property whose key names the target's kind (`logGroupName` for a log group),
  because names repeat across kinds (the load balancer, WAF ACL, repository and service share one);
- a reference needs a dependency as the engine resolves them: `TransitiveDependenciesOf` in
  pkg/resource/graph/dependency_graph.go follows a resource's `dependencies`, `propertyDependencies`
  and its parent, and a dependency on a component counts as one on each of its descendants; the
  Python SDK records no dependency for a parent's `depends_on` on the child itself (it expands
  `depends_on` of a component into the component's custom descendants, pulumi/runtime/rpc.py
  `_add_dependency`), so only the parent edge carries it, and the check follows exactly that.

References AWS accepts before the target exists are excluded below, each with its reason.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest

from preflight.program_runner import ProgramRun, RecordedResource
from preflight.stack_config import load_stack_config
from tests.conftest import account_of, cached_run


@dataclass(frozen=True)
class Where:
    """The stack's account, region and partition (ARNs are built as AWS builds them)."""

    account: str
    region: str
    partition: str = "aws"
    dns_suffix: str = "amazonaws.com"

    def arn(self, service: str, resource: str, region: bool = True, account: bool = True) -> str:
        return (f"arn:{self.partition}:{service}:{self.region if region else ''}:"
                f"{self.account if account else ''}:{resource}")


@dataclass(frozen=True)
class Identifier:
    value: str
    kind: str  # "arn": whole value or prefix + ":"/"/"; "prefix": any value starting so; "name": see hints
    hints: tuple[str, ...] = ()  # for "name": lower-case tokens one of which the property key holds


def _str(inputs: dict, key: str) -> str:
    value = inputs.get(key)
    return value if isinstance(value, str) else ""


def _name(kind_hints: tuple[str, ...], arn: Callable[[Where, str], str] | None = None, key: str = "name"):
    """Identifiers of a resource named by its `key` input, with its ARN if `arn` builds one."""
    def build(r: RecordedResource, run: ProgramRun, where: Where) -> list[Identifier]:
        name = _str(r.inputs, key)
        if not name:
            return []
        found = [Identifier(name, "name", kind_hints)]
        if arn:
            found.append(Identifier(arn(where, name), "arn"))
        return found
    return build


def _iam(kind: str):
    """Roles and policies: arn:aws:iam::<account>:<kind><path><name> (IAM User Guide, "IAM identifiers")."""
    def build(r: RecordedResource, run: ProgramRun, where: Where) -> list[Identifier]:
        name = _str(r.inputs, "name")
        if not name:
            return []
        path = _str(r.inputs, "path") or "/"
        return [Identifier(name, "name", (kind,)),
                Identifier(where.arn("iam", f"{kind}{path}{name}", region=False), "arn")]
    return build


def _service_linked_role(r: RecordedResource, run: ProgramRun, where: Where) -> list[Identifier]:
    """arn:aws:iam::<account>:role/aws-service-role/<service principal>/<role name> (IAM User Guide,
    "Using service-linked roles"): any ARN under that path names it."""
    service = _str(r.inputs, "awsServiceName")
    prefix = where.arn("iam", f"role/aws-service-role/{service}/", region=False)
    return [Identifier(prefix, "prefix")] if service else []


def _ecs_service(r: RecordedResource, run: ProgramRun, where: Where) -> list[Identifier]:
    """ECS addresses a service as cluster/service: its ARN, and Application Auto Scaling's resource
    id `service/<cluster>/<service>` (botocore application-autoscaling RegisterScalableTarget)."""
    name = _str(r.inputs, "name")
    clusters = [run.by_urn(u) for u in r.property_dependencies.get("cluster", [])]
    cluster = next((_str(c.inputs, "name") for c in clusters if c.type == "aws:ecs/cluster:Cluster"), "")
    if not (name and cluster):
        return []
    return [Identifier(name, "name", ("servicename",)),
            Identifier(where.arn("ecs", f"service/{cluster}/{name}"), "arn"),
            Identifier(f"service/{cluster}/{name}", "arn")]


def _repository(r: RecordedResource, run: ProgramRun, where: Where) -> list[Identifier]:
    name = _str(r.inputs, "name")
    if not name:
        return []
    return [Identifier(name, "name", ("repository",)),
            Identifier(where.arn("ecr", f"repository/{name}"), "arn"),
            Identifier(f"{where.account}.dkr.ecr.{where.region}.{where.dns_suffix}/{name}", "arn")]


# Type -> how AWS names it. Formats: each service's ARN format in the Service Authorization
# Reference ("Resource types defined by ...").
IDENTIFIERS: dict[str, Callable[[RecordedResource, ProgramRun, Where], list[Identifier]]] = {
    "aws:cloudwatch/logGroup:LogGroup": _name(
        ("loggroup", "awslogs-group", "logdestination"), lambda w, n: w.arn("logs", f"log-group:{n}")),
    "aws:s3/bucket:Bucket": _name(("bucket",), lambda w, n: f"arn:{w.partition}:s3:::{n}", key="bucket"),
    "aws:iam/role:Role": _iam("role"),
    "aws:iam/policy:Policy": _iam("policy"),
    "aws:iam/serviceLinkedRole:ServiceLinkedRole": _service_linked_role,
    "aws:sns/topic:Topic": _name(("topic",), lambda w, n: w.arn("sns", n)),
    "aws:ssm/document:Document": _name(("document",), lambda w, n: w.arn("ssm", f"document/{n}")),
    "aws:ssm/parameter:Parameter": _name(
        ("parameter",), lambda w, n: w.arn("ssm", f"parameter{n if n.startswith('/') else '/' + n}")),
    "aws:kms/alias:Alias": _name(("alias", "kmskey", "keyid"), lambda w, n: w.arn("kms", n)),
    "aws:ecr/repository:Repository": _repository,
    "aws:ecs/cluster:Cluster": _name(("cluster",), lambda w, n: w.arn("ecs", f"cluster/{n}")),
    "aws:ecs/service:Service": _ecs_service,
    "aws:ecs/taskDefinition:TaskDefinition": _name(
        ("taskdefinition",), lambda w, n: w.arn("ecs", f"task-definition/{n}"), key="family"),
    "aws:cloudwatch/metricAlarm:MetricAlarm": _name(
        ("alarm",), lambda w, n: w.arn("cloudwatch", f"alarm:{n}")),
    "aws:cloudwatch/logMetricFilter:LogMetricFilter": _name(("metricfilter", "filtername")),
    "aws:cloudwatch/eventRule:EventRule": _name(("rule",), lambda w, n: w.arn("events", f"rule/{n}")),
    "aws:cloudtrail/trail:Trail": _name(("trail",), lambda w, n: w.arn("cloudtrail", f"trail/{n}")),
    "aws:backup/vault:Vault": _name(("vault",), lambda w, n: w.arn("backup", f"backup-vault:{n}")),
    "aws:backup/plan:Plan": _name(("plan",)),
    "aws:rds/instance:Instance": _name(
        ("dbinstance", "instanceidentifier"), lambda w, n: w.arn("rds", f"db:{n}"), key="identifier"),
    "aws:elasticache/replicationGroup:ReplicationGroup": _name(
        ("replicationgroup",), lambda w, n: w.arn("elasticache", f"replicationgroup:{n}"),
        key="replicationGroupId"),
    "aws:elasticache/user:User": _name(("userid", "userids"), lambda w, n: w.arn("elasticache", f"user:{n}"),
                                       key="userId"),
    "aws:elasticache/userGroup:UserGroup": _name(
        ("usergroup",), lambda w, n: w.arn("elasticache", f"usergroup:{n}"), key="userGroupId"),
    "aws:cfg/recorder:Recorder": _name(("recorder",)),
    "aws:cfg/deliveryChannel:DeliveryChannel": _name(("deliverychannel",)),
    "aws:cfg/conformancePack:ConformancePack": _name(("conformancepack",)),
    "aws:wafv2/webAcl:WebAcl": _name(("webacl",)),
    "aws:lb/loadBalancer:LoadBalancer": _name(("loadbalancer",)),
    "aws:lb/targetGroup:TargetGroup": _name(("targetgroup",)),
    "aws:ssoadmin/permissionSet:PermissionSet": _name(("permissionset",)),
}
# Any other resource with a `name` input is named by it, under a key holding its kind.
NAME_KEYS = ("name", "bucket", "identifier", "family", "replicationGroupId", "userId", "userGroupId",
             "awsServiceName")


def identifiers(r: RecordedResource, run: ProgramRun, where: Where) -> list[Identifier]:
    build = IDENTIFIERS.get(r.type)
    if build:
        return build(r, run, where)
    kind = r.type.rsplit(":", 1)[-1].lower()
    return _name((kind,))(r, run, where)


def _walk(value, path: str, key: str = "") -> Iterator[tuple[str, str, str]]:
    """(property path, nearest key, string) for every string, parsing JSON documents."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _walk(v, f"{path}.{k}" if path else k, k)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _walk(v, f"{path}[{i}]", key)
    elif isinstance(value, str):
        text = value.strip()
        if text[:1] in "{[":
            try:
                document = json.loads(text)
            except ValueError:
                document = None
            if isinstance(document, (dict, list)):
                yield from _walk(document, f"{path}<json>", key)
                return
        yield path, key, value


def _refers(value: str, key: str, identifier: Identifier) -> bool:
    if identifier.kind == "prefix":
        return value.startswith(identifier.value)
    if identifier.kind == "arn":
        return value == identifier.value or (
            value.startswith(identifier.value) and value[len(identifier.value)] in ":/")
    token = key.lower()
    return value == identifier.value and any(hint in token for hint in identifier.hints)


# Excluded references, each made before the target exists by design and accepted by AWS.
def _policy_element(path: str) -> str:
    """The policy element a path inside a JSON policy document is in ('' outside one)."""
    if "<json>" not in path or ".Statement" not in path:
        return ""
    inner = path.split(".Statement", 1)[1]
    parts = [p.split("[")[0] for p in inner.split(".")]
    return parts[1] if len(parts) > 1 else ""


def exclusion(referrer: RecordedResource, path: str) -> str:
    """Why a literal reference at `path` of `referrer` needs no dependency ('' if it does)."""
    element = _policy_element(path)
    if element in ("Resource", "NotResource", "Condition"):
        # IAM evaluates Resource and Condition at request time against the request's context; it
        # does not resolve or check them when a policy is saved (only Principal is resolved, to a
        # unique id: IAM User Guide, "AWS JSON policy elements: Principal"), so a policy may name a
        # resource that does not exist yet (the stack's own roles are scoped this way).
        return "policy Resource/Condition: not resolved when the policy is saved"
    if referrer.type == "aws:cloudtrail/trail:Trail" and path.startswith("advancedEventSelectors"):
        # Advanced event selectors are string operators (Equals, StartsWith...) that CloudTrail
        # matches against each event's fields (CloudTrail guide, "Filtering data events by using
        # advanced event selectors"); PutEventSelectors stores them and does not resolve the ARN.
        # The environment's trail names the application tier's archive before it exists (a later layer).
        return "trail selector: a string pattern matched against events"
    if referrer.type == "aws:ecs/taskDefinition:TaskDefinition" and path.startswith("containerDefinitions"):
        # RegisterTaskDefinition stores the image, log group and secret references; ECS resolves
        # them when a task starts. The services that start tasks are checked for them instead
        # (test_a_service_depends_on_what_its_tasks_name_when_they_start).
        return "task definition: resolved when a task starts"
    return ""


@dataclass(frozen=True)
class Reference:
    referrer: RecordedResource
    path: str
    target: RecordedResource
    value: str


def references(run: ProgramRun) -> list[Reference]:
    config = load_stack_config(run.stack)
    where = Where(account=next(iter(config.allowed_account_ids)), region=config.region)
    custom = [r for r in run.resources if r.custom]
    named = [(t, ids) for t in custom if (ids := identifiers(t, run, where))]
    found = []
    for referrer in custom:
        for path, key, value in _walk(referrer.inputs, ""):
            if path.split(".")[0].split("[")[0] in ("tags", "tagsAll"):
                continue
            for target, ids in named:
                if target.urn == referrer.urn:
                    continue  # its own name
                if any(_refers(value, key, i) for i in ids):
                    found.append(Reference(referrer, path, target, value))
    return found


def dependencies_of(run: ProgramRun) -> Callable[[RecordedResource], set[str]]:
    """URN -> every URN it depends on, as the engine's TransitiveDependenciesOf: dependencies,
    property dependencies and the parent, a component standing for all its descendants."""
    by_urn = {r.urn: r for r in run.resources}
    children: dict[str, list[str]] = {}
    for r in run.resources:
        children.setdefault(r.parent, []).append(r.urn)

    def descendants(urn: str) -> list[str]:
        out, todo = [], list(children.get(urn, []))
        while todo:
            u = todo.pop()
            out.append(u)
            todo.extend(children.get(u, []))
        return out

    def direct(r: RecordedResource) -> set[str]:
        urns = set(r.dependencies) | {u for us in r.property_dependencies.values() for u in us}
        for u in list(urns):
            if u in by_urn and not by_urn[u].custom:
                urns |= set(descendants(u))
        if r.parent in by_urn:
            urns.add(r.parent)
        return urns

    cache: dict[str, set[str]] = {}

    def transitive(r: RecordedResource) -> set[str]:
        if r.urn not in cache:
            seen: set[str] = set()
            todo = list(direct(r))
            while todo:
                u = todo.pop()
                if u in seen or u not in by_urn:
                    continue
                seen.add(u)
                todo.extend(direct(by_urn[u]))
            cache[r.urn] = seen
        return cache[r.urn]

    return transitive


def _report(offenders: list[Reference]) -> str:
    return "\n".join(f"{o.referrer.urn}\n    at {o.path} = {o.value!r}\n    names {o.target.urn}"
                     for o in offenders)


STACKS = ["prod", "staging"]


@pytest.mark.parametrize("stack", STACKS)
def test_a_resource_that_names_another_by_literal_depends_on_it(stack):
    run = cached_run(stack)
    depends = dependencies_of(run)
    offenders = [ref for ref in references(run)
                 if not exclusion(ref.referrer, ref.path) and ref.target.urn not in depends(ref.referrer)]
    assert not offenders, f"{len(offenders)} literal references without a dependency:\n{_report(offenders)}"


@pytest.mark.parametrize("stack", STACKS)
def test_a_service_depends_on_what_its_tasks_name_when_they_start(stack):
    """A task starts only if its log group exists (awslogs driver) and its secrets resolve: the
    service that starts tasks at creation depends on what its task definition names."""
    run = cached_run(stack)
    depends = dependencies_of(run)
    by_task = {}
    for ref in references(run):
        if ref.referrer.type == "aws:ecs/taskDefinition:TaskDefinition" and ref.path.startswith(
                "containerDefinitions") and ref.target.type != "aws:ecr/repository:Repository":
            by_task.setdefault(ref.referrer.urn, []).append(ref)
    # The image is pushed by the release process after the repository exists (README): a service
    # waits for it, retrying, rather than failing its creation.
    offenders = []
    services = run.of_type("aws:ecs/service:Service")
    assert services
    for service in services:
        for task in service.property_dependencies.get("taskDefinition", []):
            offenders += [Reference(service, f"taskDefinition -> {ref.path}", ref.target, ref.value)
                          for ref in by_task.get(task, []) if ref.target.urn not in depends(service)]
    assert not offenders, _report(offenders)


# The check itself, on programs built for it: it must see a literal reference without a dependency,
# accept one with a dependency (direct, or through the parent's), and apply each exclusion.
def _record(urn_name: str, type_: str, inputs: dict, parent: str = "", custom: bool = True,
            dependencies: tuple[str, ...] = (),
            property_dependencies: dict | None = None) -> RecordedResource:
    from pulumi.runtime import rpc
    from pulumi.runtime.sync_await import _sync_await
    struct = _sync_await(rpc.serialize_properties(inputs, {}))
    return RecordedResource(
        urn=f"urn:pulumi:staging::hipaa-aws::{type_}::{urn_name}", type=type_, name=urn_name, custom=custom,
        parent=parent, provider="", protect=None, retain_on_delete=None, ignore_changes=[],
        dependencies=list(dependencies), property_dependencies=property_dependencies or {}, properties=struct)


def _offenders(*resources: RecordedResource) -> list[tuple[str, str, str]]:
    run = ProgramRun(stack="staging", resources=list(resources), stack_outputs={}, preview=False)
    depends = dependencies_of(run)
    return [(r.referrer.name, r.path, r.target.name) for r in references(run)
            if not exclusion(r.referrer, r.path) and r.target.urn not in depends(r.referrer)]


GROUP = "aws:cloudwatch/logGroup:LogGroup"
FILTER = "aws:cloudwatch/logMetricFilter:LogMetricFilter"
COMPONENT = "hipaa:components:Thing"


def test_the_check_finds_a_log_group_named_by_a_string():
    group = _record("g", GROUP, {"name": "/app/log"})
    metric_filter = _record("f", FILTER, {"name": "f", "logGroupName": "/app/log", "pattern": "x"})
    assert _offenders(group, metric_filter) == [("f", "logGroupName", "g")]
    wired = _record("f", FILTER, {"name": "f", "logGroupName": "/app/log"},
                    property_dependencies={"logGroupName": [group.urn]})
    assert _offenders(group, wired) == []


def test_a_parent_s_depends_on_covers_its_children_but_a_sibling_s_does_not():
    group = _record("g", GROUP, {"name": "/app/log"})
    parent = _record("c", COMPONENT, {}, custom=False, dependencies=(group.urn,))
    child = _record("f", FILTER, {"logGroupName": "/app/log"}, parent=parent.urn)
    assert _offenders(group, parent, child) == []
    other = _record("d", COMPONENT, {}, custom=False)
    orphan = _record("f", FILTER, {"logGroupName": "/app/log"}, parent=other.urn)
    assert _offenders(group, parent, other, orphan) == [("f", "logGroupName", "g")]


def test_a_dependency_on_a_component_counts_for_its_descendants():
    holder = _record("c", COMPONENT, {}, custom=False)
    group = _record("g", GROUP, {"name": "/app/log"}, parent=holder.urn)
    metric_filter = _record("f", FILTER, {"logGroupName": "/app/log"}, dependencies=(holder.urn,))
    assert _offenders(holder, group, metric_filter) == []


def test_arns_inside_policy_documents_need_a_dependency_only_as_principals():
    role = _record("r", "aws:iam/role:Role", {"name": "ops", "path": "/x/"})
    arn = f"arn:aws:iam::{account_of('staging')}:role/x/ops"  # _offenders judges in staging's account
    document = {"Statement": [{"Effect": "Allow", "Principal": {"AWS": arn}, "Action": "kms:*",
                               "Resource": "*"}]}
    key = _record("k", "aws:kms/key:Key", {"policy": json.dumps(document)})
    # KMS rejects a key policy whose principal does not exist (MalformedPolicyDocumentException).
    assert _offenders(role, key) == [("k", "policy<json>.Statement[0].Principal.AWS", "r")]
    grant = {"Statement": [{"Effect": "Allow", "Action": "iam:PassRole", "Resource": arn}]}
    policy = _record("p", "aws:iam/policy:Policy", {"policy": json.dumps(grant)})
    assert _offenders(role, policy) == []


def test_a_name_counts_only_under_a_key_of_its_kind_and_a_prefix_only_at_a_segment_boundary():
    group = _record("g", GROUP, {"name": "/app/log"})
    unrelated = _record("u", "aws:ssm/parameter:Parameter", {"name": "/p", "value": "/app/log"})
    longer = _record("f", FILTER, {"logGroupName": "/app/log-2"})
    arn = _record("a", "aws:cloudwatch/metricAlarm:MetricAlarm", {
        "name": "a",
        "alarmDescription": f"arn:aws:logs:us-east-1:{account_of('staging')}:log-group:/app/log:*"})
    assert _offenders(group, unrelated, longer, arn) == [("a", "alarmDescription", "g")]

"""SessionCache: what an auditor asks of the optional session cache.

Encrypted at rest with the stack's cache key and in transit (TLS required); clients authenticate
with IAM and the default user has no access; reachable only from the application's security
group; fails over across AZs in a PHI stack; the workload's policy names only this cache; the
policy pack finds nothing to block. The component runs in a small program wired like the
environment (tests/fixtures/programs/session_cache.py) until components/environment/environment.py calls it.
"""

from __future__ import annotations

import functools
from dataclasses import replace
import json
import re
from pathlib import Path
from typing import Any, Optional

import botocore.session
import pulumi
import pytest

from components.app_settings import CacheSettings
from components.aws_context import AwsContext
from components.application.session_cache import (
    CACHE_PORT, CacheNames, SessionCacheArgs, connect_policy, log_types, validate,
)
from preflight.judge import judge
from preflight.policy_pack_client import POLICY_DIR
from preflight.program_runner import ProgramRun, run_program, script_program
from tests.conftest import account_of, arn_of, id_of, run_stack, stack_config

PROGRAM = Path(__file__).parent / "fixtures" / "programs" / "session_cache.py"
COMPONENT = "hipaa:components:SessionCache"
GROUP = "aws:elasticache/replicationGroup:ReplicationGroup"
USER = "aws:elasticache/user:User"
USER_GROUP = "aws:elasticache/userGroup:UserGroup"
SG = "aws:ec2/securityGroup:SecurityGroup"
SG_IN = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
SG_OUT = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
KEY = "aws:kms/key:Key"
WORLD = ("0.0.0.0/0", "::/0")
REDIS = {"engine": "redis", "engineVersion": "7.1"}
# Stack policies about what the fixture leaves out on purpose (a PHI stack's trail and threat
# detection belong to the environment), not about the cache.
FIXTURE_OMISSIONS = {"aws-cloudtrail-phi-stack-trail", "aws-phi-stack-threat-detection"}
CTX = AwsContext(account_id="123456789012", region="us-east-1", partition="aws", dns_suffix="amazonaws.com")


@functools.cache
def cache_run(stack: str, engine: str = "valkey", preview: bool = False) -> ProgramRun:
    cache: dict[str, Any] = REDIS if engine == "redis" else {}
    overrides: dict[str, Any] = {"cache": cache}
    if stack == "staging":
        overrides["cache"] = {**cache, "nodeCount": 1}  # a synthetic stack may run one node
    return run_program(script_program(PROGRAM), stack_config(stack, overrides), preview=preview)


RUNS = [("prod", "valkey"), ("prod", "redis"), ("staging", "valkey"), ("staging", "redis")]


@pytest.fixture(params=RUNS, ids=[f"{s}-{e}" for s, e in RUNS])
def run(request) -> ProgramRun:
    return cache_run(*request.param)


def cache_resources(run: ProgramRun) -> list:
    return [r for r in run.resources if r.custom and f"{COMPONENT}$" in r.urn]


def group(run: ProgramRun):
    return run.named("hipaa-cache", GROUP)


def cache_sg(run: ProgramRun) -> str:
    return id_of(run, "hipaa-cache", SG)


def leaves(value: Any):
    if isinstance(value, dict):
        for item in value.values():
            yield from leaves(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from leaves(item)
    else:
        yield value


# ---------------------------------------------------------------------------------------------
# Validation (no mocks)
# ---------------------------------------------------------------------------------------------


def args(stack: str = "prod", holds_phi: bool = True, subnets: int = 3, retention: int = 2192,
         **cache: Any) -> SessionCacheArgs:
    return SessionCacheArgs(
        stack=stack, aws=CTX, settings=CacheSettings.model_validate(cache), holds_phi=holds_phi,
        vpc_id="vpc-1", data_subnet_ids=[f"subnet-{i}" for i in range(subnets)],
        app_security_group_id="sg-app", cache_key_arn="arn:aws:kms:us-east-1:123456789012:key/cache",
        workload_role_name="hipaa-aws-prod-workload",
        logs_key_arn="arn:aws:kms:us-east-1:123456789012:key/logs", log_retention_days=retention)


def test_names_are_per_stack_and_fit_elasticache_limits():
    names = validate("cache", args())
    assert names.replication_group_id == "hipaa-aws-prod-sessions"
    assert len(names.replication_group_id) <= 40
    staging = CacheNames.of("staging")
    assert set(vars(names).values()).isdisjoint(vars(staging).values())
    assert names.log_group_prefix.startswith("/hipaa-aws/prod/")
    # The longest stack name whose group id fits: 40 - len("hipaa-aws--sessions").
    validate("cache", args(stack="s" * 21))


@pytest.mark.parametrize("stack,problem", [
    ("s" * 22, "is 41 characters; ElastiCache allows 40 (use a stack name of at most 21 characters)"),
    ("Prod", "is not an ElastiCache identifier"),
    ("prod--eu", "is not an ElastiCache identifier"),
])
def test_a_stack_name_that_makes_an_invalid_identifier_is_refused(stack, problem):
    with pytest.raises(pulumi.RunError, match=re.escape(problem)):
        validate("cache", args(stack=stack))


def test_a_phi_cache_needs_a_replica_in_another_az():
    with pytest.raises(pulumi.RunError, match="nodeCount is 1; a stack that holds PHI needs at least 2"):
        validate("cache", args(nodeCount=1))
    with pytest.raises(pulumi.RunError, match="data subnets in at least 2 AZs; got 1"):
        validate("cache", args(subnets=1))
    validate("cache", args(holds_phi=False, subnets=1, nodeCount=1))  # synthetic, one node: fine


def test_log_retention_must_be_a_cloudwatch_value():
    with pytest.raises(pulumi.RunError, match="log_retention_days 2190 is not a CloudWatch Logs retention"):
        validate("cache", args(retention=2190))


def test_log_types_follow_the_engine_versions_aws_documents():
    assert log_types("valkey", "7.2") == ("slow-log", "engine-log")
    assert log_types("redis", "7.1") == ("slow-log", "engine-log")
    assert log_types("redis", "6.0") == ("slow-log",)
    assert log_types("redis", "5.0") == ()


# ---------------------------------------------------------------------------------------------
# The cache as the program registers it
# ---------------------------------------------------------------------------------------------


def test_encrypted_at_rest_with_the_cache_key_and_in_transit_with_tls_required(run):
    inputs = group(run).inputs
    assert inputs["atRestEncryptionEnabled"] is True
    assert inputs["kmsKeyId"] == arn_of(run, "hipaa-keys-cache", KEY)
    assert inputs["transitEncryptionEnabled"] is True
    assert inputs["transitEncryptionMode"] == "required"


def test_clients_authenticate_with_iam_as_the_application_user(run):
    inputs = group(run).inputs
    (user_group,) = [r for r in cache_resources(run) if r.type == USER_GROUP]
    assert inputs["userGroupIds"] == [user_group.outputs["userGroupId"]]
    assert "authToken" not in inputs and "authTokenWo" not in inputs
    app = run.named("hipaa-cache-app", USER).inputs
    assert app["authenticationMode"] == {"type": "iam"}
    assert app["userName"] == app["userId"] == CacheNames.of(run.stack).app_user_id  # AWS requires it
    assert app["accessString"].startswith("on ") and "-@dangerous" in app["accessString"]
    assert not {"passwords", "passwordsWo", "noPasswordRequired"} & set(app)


def test_no_default_user_can_reach_the_cache(run):
    engine = group(run).inputs["engine"]
    (user_group,) = [r for r in cache_resources(run) if r.type == USER_GROUP]
    users = {r.inputs["userId"]: r.inputs for r in run.of_type(USER)}
    members = [users[u] for u in user_group.inputs["userIds"]]
    assert user_group.inputs["engine"] == engine
    assert "default" not in user_group.inputs["userIds"]  # never AWS's built-in, all-access user
    enabled = [m["userName"] for m in members if not m["accessString"].startswith("off")]
    assert enabled == [CacheNames.of(run.stack).app_user_id]
    defaults = [m for m in members if m["userName"] == "default"]
    if engine == "redis":
        # A Redis OSS group must hold a user named default: this one is off and may run nothing.
        (default,) = defaults
        assert default["accessString"] == "off -@all"
        assert default["authenticationMode"] == {"type": "no-password-required"}
    else:
        # A Valkey group has no default user requirement; attached, the default user is off.
        assert defaults == []


def test_reachable_only_from_the_application_security_group(run):
    inputs, own = group(run).inputs, cache_sg(run)
    app_sg = id_of(run, "hipaa-network-app", SG)
    assert inputs["securityGroupIds"] == [own]
    assert inputs["port"] == CACHE_PORT
    ingress = [r.inputs for r in run.of_type(SG_IN) if r.inputs["securityGroupId"] == own]
    assert [(r["referencedSecurityGroupId"], r["ipProtocol"], r["fromPort"], r["toPort"]) for r in ingress] \
        == [(app_sg, "tcp", CACHE_PORT, CACHE_PORT)]
    assert [r.name for r in run.of_type(SG_OUT) if r.inputs["securityGroupId"] == own] == []
    sg = run.named("hipaa-cache", SG).inputs
    assert not sg.get("ingress") and not sg.get("egress")  # rules only as separate resources
    app_out = [r.inputs for r in run.of_type(SG_OUT) if r.inputs.get("referencedSecurityGroupId") == own]
    assert [(r["securityGroupId"], r["fromPort"], r["toPort"]) for r in app_out] \
        == [(app_sg, CACHE_PORT, CACHE_PORT)]


def test_nothing_of_the_cache_is_open_to_the_internet(run):
    for resource in cache_resources(run):
        assert not set(leaves(resource.inputs)) & set(WORLD), resource.name
        assert "cidrIpv4" not in resource.inputs and "cidrIpv6" not in resource.inputs


def test_lives_in_the_data_subnets(run):
    subnet_group = run.named("hipaa-cache", "aws:elasticache/subnetGroup:SubnetGroup")
    data = {r.id for r in run.of_type("aws:ec2/subnet:Subnet") if r.inputs["tags"]["Tier"] == "data"}
    assert set(subnet_group.inputs["subnetIds"]) == data
    assert group(run).inputs["subnetGroupName"] == subnet_group.inputs["name"]


@pytest.mark.parametrize("engine", ["valkey", "redis"])
def test_a_phi_cache_fails_over_across_azs_is_protected_and_keeps_a_final_snapshot(engine):
    cache = group(cache_run("prod", engine))
    inputs = cache.inputs
    assert inputs["numCacheClusters"] >= 2
    assert inputs["automaticFailoverEnabled"] is True and inputs["multiAzEnabled"] is True
    assert inputs["snapshotRetentionLimit"] == 7
    assert re.fullmatch(r"hipaa-aws-prod-sessions-final-\d{14}", inputs["finalSnapshotIdentifier"])
    assert "finalSnapshotIdentifier" in cache.ignore_changes  # the name chosen at creation is kept
    assert cache.protect is True
    logs = [r for r in cache_resources(cache_run("prod", engine)) if r.type == LOG_GROUP]
    assert logs and all(r.protect is True for r in logs)


@pytest.mark.parametrize("engine", ["valkey", "redis"])
def test_pulumi_destroy_removes_a_synthetic_cache_without_a_final_snapshot(engine):
    run = cache_run("staging", engine)
    inputs = group(run).inputs
    assert "finalSnapshotIdentifier" not in inputs
    assert inputs["snapshotRetentionLimit"] >= 1  # automatic snapshots go with the group
    assert [r.name for r in cache_resources(run) if r.protect or r.retain_on_delete] == []
    assert inputs["numCacheClusters"] == 1 and inputs["automaticFailoverEnabled"] is False


def test_maintained_in_place_and_described_as_never_holding_phi(run):
    inputs = group(run).inputs
    assert inputs["autoMinorVersionUpgrade"] is True
    assert inputs["applyImmediately"] is False
    assert "never holds PHI" in inputs["description"]
    assert inputs["tags"]["Contents"] == "sessions-never-phi"
    assert inputs["tags"]["DataClassification"] in ("phi", "synthetic")  # the stack transform's


def _minutes(day: Optional[str], clock: str) -> int:
    days = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]
    hours, minutes = map(int, clock.split(":"))
    return (days.index(day) if day else 0) * 1440 + hours * 60 + minutes


def test_snapshot_and_maintenance_windows_are_valid_and_apart(run):
    inputs = group(run).inputs
    start, end = inputs["snapshotWindow"].split("-")
    snapshot = (_minutes(None, start), _minutes(None, end))
    (d1, t1), (d2, t2) = (part.split(":", 1) for part in inputs["maintenanceWindow"].split("-"))
    maintenance = (_minutes(d1, t1) % 1440, _minutes(d2, t2) % 1440)
    assert snapshot[1] - snapshot[0] >= 60 and maintenance[1] - maintenance[0] >= 60  # AWS minimum
    assert snapshot[1] <= maintenance[0] or maintenance[1] <= snapshot[0]


def test_slow_and_engine_logs_go_to_encrypted_stack_log_groups_kept_for_the_retention(run):
    inputs = group(run).inputs
    logs = {r.inputs["name"]: r.inputs for r in cache_resources(run) if r.type == LOG_GROUP}
    delivered = {(d["logType"], d["destination"]) for d in inputs["logDeliveryConfigurations"]}
    assert {t for t, _ in delivered} == {"slow-log", "engine-log"}
    assert {d for _, d in delivered} == set(logs)
    logs_key = arn_of(run, "hipaa-keys-logs", KEY)
    for name, log in logs.items():
        assert name.startswith(f"/hipaa-aws/{run.stack}/")  # the logs key's StackLogGroups statement
        assert log["kmsKeyId"] == logs_key
        assert log["retentionInDays"] == 2192
    assert all(d["destinationType"] == "cloudwatch-logs" for d in inputs["logDeliveryConfigurations"])


def test_the_workload_may_connect_to_this_cache_as_its_user_and_nothing_else(run):
    attachment = run.named("hipaa-cache-connect", "aws:iam/rolePolicyAttachment:RolePolicyAttachment")
    policy = run.named("hipaa-cache-connect", "aws:iam/policy:Policy")
    assert attachment.inputs["role"] == f"hipaa-aws-{run.stack}-workload"
    assert attachment.inputs["policyArn"] == policy.outputs["arn"]
    assert policy.inputs["path"] == f"/hipaa-aws/{run.stack}/"
    names = CacheNames.of(run.stack)
    (statement,) = json.loads(policy.inputs["policy"])["Statement"]
    account = account_of(run.stack)
    assert statement["Effect"] == "Allow" and statement["Action"] == "elasticache:Connect"
    assert sorted(statement["Resource"]) == sorted([
        f"arn:aws:elasticache:us-east-1:{account}:replicationgroup:{names.replication_group_id}",
        f"arn:aws:elasticache:us-east-1:{account}:user:{names.app_user_id}",
    ])
    assert group(run).inputs["replicationGroupId"] == names.replication_group_id
    # Known at preview, so the policy pack can judge it before anything exists.
    preview = cache_run(run.stack, group(run).inputs["engine"], preview=True)
    assert json.loads(preview.named("hipaa-cache-connect", "aws:iam/policy:Policy").inputs["policy"]) \
        == json.loads(connect_policy(replace(CTX, account_id=account_of(run.stack)), names))


def test_outputs_tell_the_application_where_and_as_whom_to_connect():
    run = cache_run("prod")
    assert run.stack_outputs["cachePort"] == CACHE_PORT
    assert run.stack_outputs["cacheUser"] == CacheNames.of("prod").app_user_id


# ---------------------------------------------------------------------------------------------
# Values against AWS's API models (botocore)
# ---------------------------------------------------------------------------------------------


@functools.cache
def elasticache_model():
    return botocore.session.get_session().get_service_model("elasticache")


def _member(operation: str, *path: str) -> Any:
    """A member of an operation's input (list members stepped through), as botocore models it."""
    shape: Any = elasticache_model().operation_model(operation).input_shape
    for name in path:
        shape = shape.members[name]
        shape = getattr(shape, "member", shape)
    return shape


def _enum(operation: str, *path: str) -> list[str]:
    return list(_member(operation, *path).enum)


def test_enumerated_values_are_ones_the_elasticache_api_accepts(run):
    inputs = group(run).inputs
    assert inputs["transitEncryptionMode"] in _enum("CreateReplicationGroup", "TransitEncryptionMode")
    for delivery in inputs["logDeliveryConfigurations"]:
        for field, member in (("logType", "LogType"), ("destinationType", "DestinationType"),
                              ("logFormat", "LogFormat")):
            assert delivery[field] in _enum("CreateReplicationGroup", "LogDeliveryConfigurations", member)
    for user in run.of_type(USER):
        assert user.inputs["authenticationMode"]["type"] in _enum("CreateUser", "AuthenticationMode", "Type")
        assert re.fullmatch(_member("CreateUser", "UserId").metadata["pattern"], user.inputs["userId"])


# ---------------------------------------------------------------------------------------------
# The policy pack
# ---------------------------------------------------------------------------------------------


def _judged(pack, stack: str, engine: str):
    pack.configure(json.loads((POLICY_DIR / "config" / f"{stack}.json").read_text()))
    try:
        run = cache_run(stack, engine, preview=True)
        return run, judge(run, pack, stack_config(stack))
    finally:
        pack.configure({})


@pytest.mark.parametrize("stack,engine", RUNS)
def test_the_policy_pack_finds_nothing_to_block_or_leave_unjudged(pack, stack, engine):
    run, judgement = _judged(pack, stack, engine)
    ours = {r.urn for r in cache_resources(run)}
    assert [(d.policy, d.urn, d.violation) for d in judgement.diagnostics if d.urn in ours] == []
    assert [(d.policy, d.violation) for d in judgement.mandatory if d.policy not in FIXTURE_OMISSIONS] == []
    assert [(d.policy, d.urn) for d in judgement.not_judged] == []
    assert {r.type for r in cache_resources(run)} >= {GROUP, USER, USER_GROUP, SG, SG_IN, SG_OUT, LOG_GROUP}


def test_the_packs_cache_rules_do_read_this_cache(pack):
    """Not vacuous: the cache's own properties, one control removed, are blocked."""
    cache = group(cache_run("prod"))
    pack.configure(json.loads((POLICY_DIR / "config" / "prod.json").read_text()))
    try:
        def messages(protect: bool = True, **changes: Any) -> list[tuple[str, str]]:
            verdict = pack.analyze(GROUP, {**cache.inputs, **changes}, name="hipaa-cache", protect=protect)
            return [(d.policy, d.violation) for d in verdict.violations]
        assert messages() == []
        assert messages(transitEncryptionEnabled=False) == [
            ("aws-elasticache-encrypted", "Set transitEncryptionEnabled to true.")]
        assert messages(snapshotRetentionLimit=1) == [
            ("aws-elasticache-redis-backups", "Set snapshotRetentionLimit to at least 7.")]
        assert [p for p, _ in messages(protect=False)] == ["hipaa-phi-store-protected"]
    finally:
        pack.configure({})


# ---------------------------------------------------------------------------------------------
# The whole program, once the environment builds the cache
# ---------------------------------------------------------------------------------------------


def test_the_program_with_the_cache_switched_on(pack):
    run = run_stack("prod", preview=True, overrides={"cache": {"engine": "valkey", "nodeCount": 2}})
    if not run.of_type(COMPONENT):
        pytest.skip("components/environment/environment.py does not build SessionCache yet (issue 11)")
    (cache,) = run.of_type(GROUP)
    assert cache.inputs["transitEncryptionEnabled"] is True
    assert cache.inputs["atRestEncryptionEnabled"] is True
    assert cache.protect is True
    pack.configure(json.loads((POLICY_DIR / "config" / "prod.json").read_text()))
    try:
        judgement = judge(run, pack, stack_config("prod"))
    finally:
        pack.configure({})
    ours = {r.urn for r in cache_resources(run)}
    assert [(d.policy, d.urn, d.violation) for d in judgement.mandatory] == []
    assert [(d.policy, d.urn) for d in judgement.not_judged if d.urn in ours] == []

"""Every AWS feature the program switches on has its documented prerequisites in place.

The table (feature -> prerequisite -> AWS page -> check) is tests/feature_prerequisites.py. Here:
each row's check passes in every stack where its feature is on, the generic enumeration of what the
stacks switch on finds nothing that neither a row nor the no-prerequisite list (with its reason)
accounts for, and the checks do catch a prerequisite that is missing.
"""

from __future__ import annotations

import copy
import json

import pytest

from preflight.stack_config import load_stack_config, stack_names
from tests import feature_prerequisites as table
from tests.conftest import cached_run, run_stack, single_account_identity

# The shipped stacks, and each one in an organization member account (`accountBaseline: organization`)
# also as its account's owner (`owned`, `<stack>-owned`): in a member account the organization switches
# on the GuardDuty features and Security Hub standards the owned account layer would (the same lists,
# components/account/threat_detection.py, reused by components/organization/security_services.py), so
# their prerequisites inside the stack (e.g. the task execution role pulling GuardDuty's agent) are
# checked under the owned run; it is also the single-account shape.
SHAPES: dict[str, tuple[str, dict]] = {name: (name, {}) for name in stack_names()}
# The single-account shape of an organization member: it owns its account's layer and creates its own
# Identity Center permission sets (managedBy: stack).
SHAPES |= {f"{name}-owned": (name, {"accountBaseline": "owned", **single_account_identity(name)})
           for name in stack_names()
           if load_stack_config(name).values.get("hipaa-aws:accountBaseline") == "organization"}
STACKS = tuple(SHAPES)


@pytest.fixture(scope="module")
def stacks() -> dict[str, table.Stack]:
    return {name: table.Stack(run_stack(base, overrides=overrides) if overrides else cached_run(base))
            for name, (base, overrides) in SHAPES.items()}


@pytest.fixture(scope="module")
def switches(stacks) -> dict[str, dict[table.Switch, list]]:
    return {name: table.run_switches(stack) for name, stack in stacks.items()}


def _stacks_where_on(row: table.Row, switches) -> list[str]:
    on = [name for name in STACKS if any(s in switches[name] for s in row.switches)]
    if row.account_wide:
        sharing = {shared for name in on for shared in table.stacks_sharing_account(SHAPES[name][0])}
        on = sorted(name for name in STACKS if SHAPES[name][0] in sharing)
    return on


@pytest.mark.parametrize("row", table.ROWS, ids=[r.feature for r in table.ROWS])
def test_each_switched_on_feature_has_its_prerequisites_in_place(row, stacks, switches):
    on = _stacks_where_on(row, switches)
    assert on, f"no stack switches on {row.feature!r}: drop the row or fix its switches"
    problems = [f"{name}: {problem}" for name in on for problem in row.check(stacks[name])]
    sources = "; ".join(s.cite() for s in row.sources)
    assert not problems, f"{row.feature}: {row.prerequisite}\nSource: {sources}\n" + "\n".join(problems)


def test_every_feature_the_program_switches_on_has_a_row_or_a_reason(switches):
    """Adding a feature (a boolean input set true, a resource type, a reference that hands a key, a
    role, a log group, a bucket or a topic to a service) without its prerequisite row fails here."""
    accounted = table.covered()
    missing = sorted({(switch, name) for name, found in switches.items() for switch in found
                      if switch not in accounted})
    assert not missing, "switched on with no row in tests/feature_prerequisites.py ROWS and no reason in " \
                        "NO_PREREQUISITE:\n" + "\n".join(f"{s} (stack {n})" for s, n in missing)


def test_the_table_names_only_what_some_stack_switches_on(switches):
    """A row or a reason for something no stack switches on any more is stale (its check would
    vouch for nothing)."""
    seen = {switch for found in switches.values() for switch in found}
    stale = sorted(set(table.covered()) - seen)
    assert not stale, "listed but switched on by no stack: " + ", ".join(map(str, stale))


def test_every_row_cites_an_aws_page_or_model_and_names_a_detailed_test_that_exists():
    import tests

    names = {r.feature for r in table.ROWS}
    assert len(names) == len(table.ROWS)
    for row in table.ROWS:
        assert row.sources and row.prerequisite and row.switches, row.feature
        for source in row.sources:
            assert source.url.startswith("https://") and source.title, row.feature
        if row.detailed_test:
            path, _, test_name = row.detailed_test.partition("::")
            text = (tests.__path__[0] + "/" + path.removeprefix("tests/"))
            with open(text, encoding="utf-8") as handle:
                assert f"def {test_name}(" in handle.read(), row.detailed_test


# --- The checks find a missing prerequisite (one mutation each) ---------------------------------


def _mutated(stack: table.Stack, name: str, type_token: str, change) -> table.Stack:
    """The stack with one resource's inputs changed (the recorded run itself stays untouched)."""
    run = copy.copy(stack.run)
    resources = []
    for resource in run.resources:
        if resource.name == name and resource.type == type_token:
            resource = copy.copy(resource)
            inputs = resource.inputs
            change(inputs)
            resource.properties = _struct(inputs)
        resources.append(resource)
    run.resources = resources
    return table.Stack(run)


def _struct(inputs: dict):
    from pulumi.runtime import rpc
    from pulumi.runtime.sync_await import _sync_await

    return _sync_await(rpc.serialize_properties(inputs, {}))


def _policy_without(sid: str):
    """Drop one statement of the resource's `policy` (a key policy or an IAM policy)."""
    def change(inputs):
        policy = json.loads(inputs["policy"])
        policy["Statement"] = [s for s in policy["Statement"] if s.get("Sid") != sid]
        inputs["policy"] = json.dumps(policy)
    return change


def _without_mount(path: str):
    def change(inputs):
        containers = json.loads(inputs["containerDefinitions"])
        for container in containers:
            container["mountPoints"] = [m for m in container["mountPoints"] if m["containerPath"] != path]
        inputs["containerDefinitions"] = json.dumps(containers)
    return change


@pytest.mark.parametrize("stack, check, name, type_token, change, expected", [
    ("staging", table.check_log_group_keys, "hipaa-keys-logs", table.KEY,
     _policy_without("StackLogGroups"), "does not let CloudWatch Logs kms:Encrypt"),
    ("staging", table.check_trail_kms, "hipaa-keys-logs", table.KEY,
     _policy_without("CloudTrailDecryptForBucketKey"), "S3 Bucket Key"),
    # The finding rules publishing to the topic are the account owner's (an organization routes them).
    ("prod-owned", table.check_encrypted_topic_publishers, "hipaa-keys-alerting", table.KEY,
     _policy_without("EventBridgeRulesPublish"), "EventBridge kms:Decrypt"),
    ("staging", table.check_server_access_logging, "hipaa-phi-access-logs", table.BUCKET_SSE,
     lambda i: i["rules"][0]["applyServerSideEncryptionByDefault"].update(sseAlgorithm="aws:kms"),
     "not SSE-S3"),
    ("staging", table.check_waf_logging, "hipaa-ingress-waf", table.LOG_GROUP,
     lambda i: i.update(name="/hipaa-aws/staging/waf"), "does not start with aws-waf-logs-"),
    ("staging", table.check_elasticache_iam_auth, "hipaa-cache", table.REPLICATION_GROUP,
     lambda i: i.update(transitEncryptionEnabled=False), "needs in-transit encryption"),
    ("staging", table.check_private_dns, "hipaa-network", table.VPC,
     lambda i: i.update(enableDnsHostnames=False), "private DNS needs"),
    ("prod", table.check_ebs_default_key, "hipaa-account-keys-ebs-default", table.KEY,
     _policy_without("AutoScalingGrantsForVolumes"), "create grants"),
    ("prod", table.check_guardduty_fargate_agent, "hipaa-app-execution", table.POLICY,
     _policy_without("PullGuardDutyAgent"), "GuardDuty's agent repository"),
    ("staging", table.check_ecs_exec, "hipaa-operator", table.TASK_DEFINITION,
     _without_mount("/managed-agents"), "no writable volume at /managed-agents"),
    ("staging", table.check_ecs_exec, "hipaa-operator-task", table.POLICY, _policy_without("ExecSessionKey"),
     "may not kms:Decrypt with the session key"),
    ("prod-owned", table.check_opsitem_targets, "hipaa-alarms-opsitems", table.POLICY,
     _policy_without("CreateOpsItems"), "may not ssm:CreateOpsItem"),
])
def test_each_check_finds_its_prerequisite_missing(stacks, stack, check, name, type_token, change, expected):
    assert not check(stacks[stack])
    problems = check(_mutated(stacks[stack], name, type_token, change))
    assert any(expected in p for p in problems), problems


def test_the_ordering_checks_find_a_feature_created_before_its_prerequisite(stacks):
    """Without its dependency on the role's policy, the flow log may start before it may write."""
    staging = stacks["staging"]
    run = copy.copy(staging.run)
    flow_log = copy.copy(staging.run.named("hipaa-network-flow-logs", table.FLOW_LOG))
    flow_log.dependencies = [u for u in flow_log.dependencies if table.ATTACHMENT not in u]
    run.resources = [flow_log if r.urn == flow_log.urn else r for r in staging.run.resources]
    problems = table.check_flow_logs(table.Stack(run))
    assert any("may be created before" in p for p in problems), problems


def test_the_enumeration_sees_a_new_switch(stacks):
    """A boolean switched on that the table does not know is reported."""
    staging = stacks["staging"]
    mutated = _mutated(staging, "hipaa-db", table.DB_INSTANCE, lambda i: i.update(enablePerformanceFoo=True))
    found = table.run_switches(mutated)
    assert (table.DB_INSTANCE, "enablePerformanceFoo") in found
    assert (table.DB_INSTANCE, "enablePerformanceFoo") not in table.covered()

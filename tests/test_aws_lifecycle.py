"""Classes of mistakes the mock runtime accepts but AWS does not, checked over every stack:
services that start using a role before it holds its permissions, Local Zones taken for
Availability Zones, tag values AWS refuses, roles outside the path the CI deploy role may manage."""

from __future__ import annotations

import re

import pytest

from preflight.stack_config import stack_names
from tests.conftest import cached_run, run_stack

ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
# Resources that make an AWS service start acting with a role as soon as they exist.
STARTS_USING_A_ROLE = {
    "aws:ec2/flowLog:FlowLog", "aws:cloudtrail/trail:Trail", "aws:cfg/recorderStatus:RecorderStatus",
    "aws:backup/selection:Selection", "aws:rds/instance:Instance",
}


def _closure(run, resource) -> set[str]:
    """Every URN `resource` waits for, directly or through what it depends on."""
    by_urn = {r.urn: r for r in run.resources}
    seen: set[str] = set()
    todo = list(resource.dependencies)
    while todo:
        urn = todo.pop()
        if urn in seen or urn not in by_urn:
            continue
        seen.add(urn)
        todo.extend(by_urn[urn].dependencies)
    return seen


@pytest.mark.parametrize("stack", stack_names())
def test_a_service_starts_with_a_role_only_once_every_permission_is_attached(stack):
    """Flow logs, CloudTrail, the Config recorder, Backup and RDS monitoring act as soon as they
    exist; started before the role's policies are attached, they fail or silently drop data."""
    run = cached_run(stack)
    attachments_of: dict[str, set[str]] = {}
    for attachment in run.of_type(ATTACHMENT):
        (role_urn,) = attachment.property_dependencies["role"]
        attachments_of.setdefault(role_urn, set()).add(attachment.urn)
    checked = 0
    for resource in run.resources:
        if resource.type not in STARTS_USING_A_ROLE:
            continue
        waits_for = _closure(run, resource)
        for role_urn, attachments in attachments_of.items():
            if role_urn in waits_for:
                checked += 1
                missing = attachments - waits_for
                assert not missing, f"{resource.name} may start before {sorted(missing)}"
    assert checked >= 4


def test_only_availability_zones_are_used_never_local_zones():
    """The data source returns opted-in Local Zones too (the mocks return one, as AWS does)."""
    run = run_stack("prod", overrides={"availabilityZoneCount": 4})
    zones = {s.inputs["availabilityZone"] for s in run.of_type("aws:ec2/subnet:Subnet")}
    assert zones == {"us-east-1a", "us-east-1b", "us-east-1c", "us-east-1d"}


# AWS's tag character set (Tagging AWS resources, "Tag naming limits and requirements"): letters,
# numbers, spaces representable in UTF-8, and + - = . _ : / @; keys up to 128, values up to 256.
TAG_TEXT = re.compile(r"^[\w\s+\-=._:/@]*$")


@pytest.mark.parametrize("stack", stack_names())
def test_every_tag_is_one_aws_accepts(stack):
    run = cached_run(stack)
    for resource in run.resources:
        for key, value in (resource.inputs.get("tags") or {}).items():
            assert TAG_TEXT.match(key) and 0 < len(key) <= 128 and not key.startswith("aws:"), (resource.name, key)
            assert TAG_TEXT.match(value) and len(value) <= 256, (resource.name, key, value)


@pytest.mark.parametrize("stack", stack_names())
def test_every_role_and_policy_lives_under_the_stacks_iam_path(stack):
    """The CI deploy role may manage role/hipaa-aws/<stack>/* only (bootstrap/ci_roles.py)."""
    run = cached_run(stack)
    for resource in run.of_type("aws:iam/role:Role") + run.of_type("aws:iam/policy:Policy"):
        assert resource.inputs.get("path") == f"/hipaa-aws/{stack}/", resource.name

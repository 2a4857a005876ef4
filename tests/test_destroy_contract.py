"""The destroy contract of every stack in stacks/, by its classification, from what the program
registers (README, "Tearing down"):

- a PHI stack: whatever holds PHI or audit evidence is protected, evidence is COMPLIANCE-locked,
  and nothing can be emptied by `pulumi destroy`;
- a synthetic stack: `pulumi destroy` removes everything it created: nothing protected, no
  COMPLIANCE lock anywhere, every bucket and vault emptied on delete, no final snapshot, keys
  gone after the 7-day minimum.
The account layer (only where a stack owns it) is kept on delete in both: it protects the account.

GuardDuty Runtime Monitoring with automated agents (enabled account-wide by the account layer) puts a
VPC endpoint and a security group, outside Pulumi's state, in every VPC with a covered workload; they
block deleting the subnets and the VPC (GuardDuty User Guide, "Using Infrastructure as Code (IaC)
with GuardDuty automated security agents"). A synthetic stack excludes its workloads with the tag
`GuardDutyManaged`=`false`, on the ECS cluster (ECS Developer Guide, "Remove Runtime Monitoring from
an Amazon ECS cluster": key and value are case-sensitive).
"""

from __future__ import annotations

import pytest

from components.account.threat_detection import GUARDDUTY_EXCLUSION_TAG
from preflight.stack_config import load_stack_config, stack_names
from tests.conftest import cached_run

LAYER = "hipaa:components:AccountLayer"
# What holds PHI or audit evidence.
EVIDENCE_TYPES = {
    "aws:rds/instance:Instance", "aws:s3/bucket:Bucket", "aws:cloudwatch/logGroup:LogGroup",
    "aws:kms/key:Key", "aws:backup/vault:Vault", "aws:cloudtrail/trail:Trail",
}


def _classification(stack: str) -> str:
    return load_stack_config(stack).values["hipaa-aws:dataClassification"]


def _environment_layer(run):
    """Custom resources outside the account layer."""
    layers = {r.urn for r in run.of_type(LAYER)}
    by_urn = {r.urn: r for r in run.resources}

    def in_layer(resource) -> bool:
        parent = resource.parent
        while parent in by_urn:
            if parent in layers:
                return True
            parent = by_urn[parent].parent
        return False

    return [r for r in run.resources if r.custom and not in_layer(r)]


def _stacks(classification: str) -> list[str]:
    found = [s for s in stack_names() if _classification(s) == classification]
    assert found, f"no {classification} stack in stacks/"
    return found


@pytest.mark.parametrize("stack", _stacks("phi"))
def test_a_phi_stack_protects_everything_that_holds_phi_or_evidence(stack):
    run = cached_run(stack)
    evidence = [r for r in _environment_layer(run) if r.type in EVIDENCE_TYPES]
    assert {r.type for r in evidence} == EVIDENCE_TYPES
    assert [r.name for r in evidence if r.protect is not True] == []
    assert [r.name for r in run.resources if r.custom and r.inputs.get("forceDestroy")] == []
    for lock in run.of_type("aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration"):
        assert lock.inputs["rule"]["defaultRetention"]["mode"] == "COMPLIANCE"
    for lock in run.of_type("aws:backup/vaultLockConfiguration:VaultLockConfiguration"):
        assert lock.inputs.get("changeableForDays"), "a PHI vault lock must become COMPLIANCE"
    for key in run.of_type("aws:kms/key:Key"):
        assert key.inputs["deletionWindowInDays"] == 30
    (db,) = run.of_type("aws:rds/instance:Instance")
    assert db.inputs["deletionProtection"] is True and db.inputs["skipFinalSnapshot"] is False


@pytest.mark.parametrize("stack", _stacks("synthetic"))
def test_pulumi_destroy_removes_everything_a_synthetic_stack_created(stack):
    run = cached_run(stack)
    environment = _environment_layer(run)
    assert [r.name for r in environment if r.protect] == []
    assert [r.name for r in environment if r.retain_on_delete] == []
    buckets = [r for r in environment if r.type == "aws:s3/bucket:Bucket"]
    vaults = [r for r in environment if r.type == "aws:backup/vault:Vault"]
    assert buckets and vaults
    assert [r.name for r in buckets + vaults if r.inputs.get("forceDestroy") is not True] == []
    for lock in run.of_type("aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration"):
        assert lock.inputs["rule"]["defaultRetention"]["mode"] != "COMPLIANCE", lock.name
    for lock in run.of_type("aws:backup/vaultLockConfiguration:VaultLockConfiguration"):
        assert "changeableForDays" not in lock.inputs, f"{lock.name} would become immutable"
    for key in environment:
        if key.type == "aws:kms/key:Key":
            assert key.inputs["deletionWindowInDays"] == 7
    (db,) = run.of_type("aws:rds/instance:Instance")
    assert db.inputs["deletionProtection"] is False
    assert db.inputs["skipFinalSnapshot"] is True and db.inputs["deleteAutomatedBackups"] is True
    assert "finalSnapshotIdentifier" not in db.inputs


# What GuardDuty's automated agents cover, each excluded by the tag on itself (EKS and ECS: the
# cluster; EC2: the instance).
GUARDDUTY_AGENT_TARGETS = {"aws:ecs/cluster:Cluster", "aws:eks/cluster:Cluster", "aws:ec2/instance:Instance"}


def test_the_exclusion_tag_is_spelled_as_aws_documents_it():
    assert GUARDDUTY_EXCLUSION_TAG == ("GuardDutyManaged", "false")


@pytest.mark.parametrize("stack", _stacks("synthetic"))
def test_guardduty_creates_nothing_in_a_synthetic_stack_s_vpc(stack):
    """Every workload GuardDuty's automated agents could cover carries `GuardDutyManaged`=`false`
    as registered (after the stack's tag transform), so no GuardDuty-created endpoint or security
    group keeps `pulumi destroy` from deleting the subnets and the VPC."""
    run = cached_run(stack)
    targets = [r for r in _environment_layer(run) if r.type in GUARDDUTY_AGENT_TARGETS]
    assert targets, "the stack has no Fargate cluster: nothing to check"
    key, value = GUARDDUTY_EXCLUSION_TAG
    assert [r.name for r in targets if (r.inputs.get("tags") or {}).get(key) != value] == []


@pytest.mark.parametrize("stack", _stacks("phi"))
def test_a_phi_stack_s_workloads_stay_covered_by_guardduty(stack):
    run = cached_run(stack)
    key, _ = GUARDDUTY_EXCLUSION_TAG
    targets = [r for r in _environment_layer(run) if r.type in GUARDDUTY_AGENT_TARGETS]
    assert targets and [r.name for r in targets if key in (r.inputs.get("tags") or {})] == []


@pytest.mark.parametrize("stack", stack_names())
def test_the_account_layer_is_kept_on_delete_whoever_owns_it(stack):
    run = cached_run(stack)
    layer = [r for r in run.resources if r.custom and r not in _environment_layer(run)]
    assert all(r.retain_on_delete is True for r in layer)
    # owned: the whole layer; organization: the part the AWS Organization leaves to the account.
    baseline = load_stack_config(stack).values["hipaa-aws:accountBaseline"]
    assert bool(layer) is (baseline in ("owned", "organization"))

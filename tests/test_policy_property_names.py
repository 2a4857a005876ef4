"""Every property a resource policy reads must be an input of the resource type it judges.

Input names differ by resource type (Neptune's key is `kmsKeyArn`, RDS's is `kmsKeyId`), and a
policy that reads a name its type does not have judges a value that is never there: it can never
pass, or never fail. This test finds the names each policy really reads by running its check on a
recording property map, for every type the policy claims, and looks each name up among the inputs
of that pulumi-aws resource (its `<Resource>Args` input type, nested input types for nested paths).

How the reads are found: the check runs on `Recorder` maps that log every key asked for (through
`Props.get/is_set/customer_key/bool/number/str/list/size/map/each/document` and `Resource.tags`,
which all end in `key in mapping` / `mapping[key]`). One run only sees the branches its values
lead to, so the values are explored: each key read is given, in turn, the values its SDK type
allows (and, to catch shape mistakes, an object and a list of objects); strings are `Probe`s that
log the literals a check compares them with, which become values to try next. A run is expanded
further only when it read a key, met a literal or produced a message not seen before. The
exploration and the SDK introspection are product code (docs/coverage/policy_reads.py and
docs/coverage/pulumi_aws_inputs.py): the coverage matrix asks the same questions.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Optional

import pytest
from pulumi_policy import ResourceValidationPolicy

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "policy"))

from hipaa_policies import ALL_POLICIES  # noqa: E402
from hipaa_policies.baa import CATALOG  # noqa: E402
from hipaa_policies.framework import ACCESS_CONTROL, Metadata, Resource, resource_policy  # noqa: E402

from docs.coverage.policy_reads import Check, check_of, reads  # noqa: E402
from docs.coverage.pulumi_aws_inputs import (  # noqa: E402
    ITEM, pulumi_aws_version, resolve, resource_inputs,
)

UNTYPED_READS = {"hipaa-no-phi-in-synthetic-stack": {("tags",), ("tags", "DataClassification")}}
"""Policies claiming every type may read these on a type without them: absent there, never judged."""


# ---------------------------------------------------------------- the registry under test

CHECKS = {c.name: c for c in (check_of(p) for p in ALL_POLICIES if isinstance(p, ResourceValidationPolicy))}


def claimed_types(check: Check) -> list[str]:
    """The types a policy claims; a policy over every type is exercised on the types whose
    properties it names (the BAA exclusions) and on every type another policy claims."""
    if check.types is not None:
        return sorted(check.types)
    named = set(CATALOG.exclusions) if check.name == "hipaa-baa-eligible-services" else set()
    others = {t for c in CHECKS.values() if c.types for t in c.types}
    return sorted(named | others)


def mismatches(check: Check) -> list[str]:
    found = []
    for type_ in claimed_types(check):
        if resource_inputs(type_) is None:
            found.append(f"{type_}: pulumi-aws {pulumi_aws_version()} has no such resource type")
            continue
        for path in sorted(reads(check, type_)):
            if check.types is None and path in UNTYPED_READS.get(check.name, ()):
                continue
            _, error = resolve(type_, path)
            if error:
                found.append(f"{type_}: reads {'.'.join(path).replace('.' + ITEM, '[]')}: {error}")
    return found


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_policy_reads_only_inputs_of_the_types_it_claims(name):
    assert mismatches(CHECKS[name]) == []


# ---------------------------------------------------------------- the detector itself

def _synthetic(types: Optional[tuple[str, ...]], check: Callable[[Resource], Iterable[str]]) -> Check:
    meta = Metadata("test-synthetic", "A test policy.", ACCESS_CONTROL, "None.")
    return check_of(resource_policy(meta, types, check))


def test_a_key_input_named_for_another_type_is_found():
    def encrypted(r: Resource) -> Iterable[str]:
        if not r.props.customer_key("kmsKeyId"):
            yield "Set kmsKeyId."
    (problem,) = mismatches(_synthetic(("aws:rds/cluster:Cluster", "aws:neptune/cluster:Cluster"), encrypted))
    assert problem.startswith(
        "aws:neptune/cluster:Cluster: reads kmsKeyId: the resource has no input 'kmsKeyId'")
    assert "kmsKeyArn" in problem


def test_every_props_accessor_is_recorded():
    def everything(r: Resource) -> Iterable[str]:
        r.props.get("a1")
        r.props.is_set("a2")
        r.props.customer_key("a3")
        r.props.is_unknown("a4")
        r.props.bool("a5")
        r.props.number("a6")
        r.props.str("a7")
        r.props.list("a8")
        r.props.size("a9")
        r.props.map("b1").get("inner")
        list(r.props.each("b2"))
        r.props.document("b3")
        r.tags.get("Owner")
        yield from ()
    found = reads(_synthetic(("aws:s3/bucket:Bucket",), everything), "aws:s3/bucket:Bucket")
    assert {p[0] for p in found} == {f"a{i}" for i in range(1, 10)} | {"b1", "b2", "b3", "tags"}
    assert {("b1", "inner"), ("tags", "Owner")} <= found


def test_reads_behind_values_and_nested_shapes_are_found():
    def deep(r: Resource) -> Iterable[str]:
        family = r.props.str("family") or ""
        if family.startswith("postgres"):
            for parameter in r.props.each("parameters"):
                if parameter.get("name") == "rds.force_ssl" and parameter.bool("applyMethod") is True:
                    yield "seen"
        if r.props.bool("storageEncrypted") is True and r.props.get("notAnInput", "deeper"):
            yield "never"
    check = _synthetic(("aws:rds/parameterGroup:ParameterGroup",), deep)
    found = reads(check, "aws:rds/parameterGroup:ParameterGroup")
    assert {("family",), ("parameters",), ("parameters", ITEM, "name"),
            ("parameters", ITEM, "applyMethod"), ("storageEncrypted",)} <= found
    assert [p.split(": ", 2)[1] for p in mismatches(check)] == [
        "reads notAnInput", "reads notAnInput.deeper", "reads storageEncrypted"]


def test_reading_a_list_as_an_object_is_found():
    def root_device(r: Resource) -> Iterable[str]:
        if r.props.bool("ebsBlockDevices", "encrypted") is not True:  # a list of devices
            yield "Set ebsBlockDevices.encrypted."
    problems = mismatches(_synthetic(("aws:ec2/instance:Instance",), root_device))
    assert [p.split(": ", 2)[1] for p in problems] == ["reads ebsBlockDevices.encrypted"]
    assert problems[0].endswith("ebsBlockDevices is of type list of object InstanceEbsBlockDevice, "
                                "which has no field 'encrypted'")


def test_the_sdk_inputs_are_the_names_the_pack_sees():
    neptune = resource_inputs("aws:neptune/cluster:Cluster")
    cluster = resource_inputs("aws:rds/cluster:Cluster")
    assert neptune is not None and cluster is not None
    assert {"kmsKeyArn", "storageEncrypted", "enableCloudwatchLogsExports"} <= set(neptune.fields)
    assert "kmsKeyArn" not in cluster.fields and "kmsKeyId" in cluster.fields
    # a resource whose Args class name is taken by a nested input type of its package
    versioning = resource_inputs("aws:s3/bucketVersioning:BucketVersioning")
    assert versioning is not None and "versioningConfiguration" in versioning.fields
    shape, error = resolve("aws:ec2/securityGroup:SecurityGroup", ("ingress", ITEM, "cidrBlocks", ITEM))
    assert error is None and shape is not None and shape.kind == "string"
    assert resolve("aws:ec2/instance:Instance", ("rootBlockDevice", ITEM, "encrypted"))[1] == (
        "rootBlockDevice is of type object InstanceRootBlockDevice, not a list")
    assert resolve("aws:s3/bucket:Bucket", ("tags", "anything"))[1] is None
    assert resolve("aws:made/up:Thing", ("x",))[1] == "pulumi-aws has no resource type aws:made/up:Thing"

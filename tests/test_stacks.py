"""Whole stacks under mocks: tagging, PHI boundaries, protection, operator outputs."""

from __future__ import annotations

import pytest

from components.tagging import takes_tag_map
from stacks import catalog
from tests.conftest import STACKS, cached_run

REQUIRED_TAGS = {"Environment", "DataClassification", "Owner", "CostCenter", "ManagedBy"}
# Resources that store PHI (or its direct derivatives) in a PHI stack.
PHI_STORES = {"aws:rds/instance:Instance", "aws:s3/bucket:Bucket"}


@pytest.mark.parametrize("stack", STACKS)
@pytest.mark.parametrize("preview", [False, True])
def test_the_whole_program_runs(stack, preview):
    run = cached_run(stack, preview)
    assert len([r for r in run.resources if r.custom]) > 50
    assert set(run.stack_outputs) >= {"vpcId", "appSubnetIds", "dataSubnetIds", "publicSubnetIds",
                                      "databaseEndpoint", "databaseSecretArn", "phiBucketName",
                                      "keyArns"}


def test_every_taggable_resource_carries_the_required_tags(any_stack):
    settings_tags = {"Environment": any_stack.stack,
                     "DataClassification": catalog.stacks()[any_stack.stack].classification,
                     "Owner": "platform-team@example-health.com", "ManagedBy": "pulumi"}
    taggable = [r for r in any_stack.resources if r.custom and takes_tag_map(r.type)]
    assert len(taggable) > 30
    for resource in taggable:
        tags = resource.inputs.get("tags", {})
        assert REQUIRED_TAGS <= set(tags), resource.urn
        assert {k: tags[k] for k in settings_tags} == settings_tags, resource.urn
        assert tags["CostCenter"].startswith("cc-")


def test_staging_has_no_resource_classified_phi(staging):
    classified = [r.urn for r in staging.resources
                  if isinstance(r.inputs.get("tags"), dict)
                  and r.inputs["tags"].get("DataClassification") == "phi"]
    assert classified == []


def test_every_phi_store_in_prod_is_protected(prod):
    stores = [r for r in prod.resources if r.type in PHI_STORES]
    assert stores
    assert [r.urn for r in stores if r.protect is not True] == []


def test_no_deprecated_v2_s3_resources(any_stack):
    assert [r.type for r in any_stack.resources if r.type.endswith("V2")] == []


@pytest.mark.parametrize("token,expected", [
    ("aws:s3/bucket:Bucket", True),
    ("aws:lambda/function:Function", True),           # module is pulumi_aws.lambda_
    ("aws:autoscaling/group:Group", False),          # tags is a list of blocks, not a map
    ("aws:kms/alias:Alias", False),                   # not taggable
    ("hipaa:components:Network", False),
    ("aws:nosuchmodule/thing:Thing", False),
])
def test_tagging_recognises_which_resources_take_a_tag_map(token, expected):
    assert takes_tag_map(token) is expected

"""The account layer: one owner per account and region, kept on delete; every other stack creates
none of the account's singletons, and two stacks can share an account without colliding."""

from __future__ import annotations

from collections import Counter

import pytest

from preflight.stack_config import PROJECT_DIR, account_layer_owners, load_stack_config, stack_names
from tests.conftest import cached_run, run_stack

# Create-once per account and region (a second one fails) or last-writer-wins (a second one
# silently overwrites the first); deleting any of them switches the control off account-wide.
ACCOUNT_SINGLETONS = {
    "aws:guardduty/detector:Detector", "aws:guardduty/detectorFeature:DetectorFeature",
    "aws:securityhub/account:Account", "aws:securityhub/standardsSubscription:StandardsSubscription",
    "aws:cfg/recorder:Recorder", "aws:cfg/deliveryChannel:DeliveryChannel",
    "aws:cfg/recorderStatus:RecorderStatus", "aws:cfg/conformancePack:ConformancePack",
    "aws:accessanalyzer/analyzer:Analyzer", "aws:iam/accountPasswordPolicy:AccountPasswordPolicy",
    "aws:ebs/encryptionByDefault:EncryptionByDefault", "aws:ebs/defaultKmsKey:DefaultKmsKey",
    "aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock",
    "aws:iam/serviceLinkedRole:ServiceLinkedRole",
}
LAYER = "hipaa:components:AccountLayer"


def _layer_resources(run):
    (layer,) = run.of_type(LAYER)
    return [r for r in run.resources if r.custom and layer.urn in _ancestors(run, r)]


def _ancestors(run, resource):
    by_urn = {r.urn: r for r in run.resources}
    chain, parent = [], resource.parent
    while parent in by_urn:
        chain.append(parent)
        parent = by_urn[parent].parent
    return chain


@pytest.mark.parametrize("stack", stack_names())
def test_every_stack_pins_its_account_and_says_who_owns_the_account_layer(stack):
    config = load_stack_config(stack)
    assert len(config.allowed_account_ids) == 1 and config.allowed_account_ids[0].isdigit()
    assert config.values.get("hipaa-aws:accountBaseline") in ("owned", "external")


def test_no_two_stacks_own_the_same_account():
    shared = {where: stacks for where, stacks in account_layer_owners().items() if len(stacks) > 1}
    assert shared == {}, f"two stacks own one account's controls: {shared}"


def test_the_ownership_check_catches_a_second_owner(tmp_path):
    (tmp_path / "stacks").mkdir()
    (tmp_path / "Pulumi.yaml").write_text((PROJECT_DIR / "Pulumi.yaml").read_text())
    for stack in ("prod", "staging"):
        text = (PROJECT_DIR / "stacks" / f"Pulumi.{stack}.yaml").read_text()
        (tmp_path / "stacks" / f"Pulumi.{stack}.yaml").write_text(
            text.replace("accountBaseline: external", "accountBaseline: owned"))
    assert account_layer_owners(tmp_path) == {"123456789012": ["prod", "staging"]}
    # A second region of the same account is still the same account (account-wide settings).
    text = (tmp_path / "stacks" / "Pulumi.staging.yaml").read_text()
    (tmp_path / "stacks" / "Pulumi.staging.yaml").write_text(text.replace("us-east-1", "eu-west-1"))
    assert account_layer_owners(tmp_path) == {"123456789012": ["prod", "staging"]}


def test_the_owner_creates_every_account_singleton_and_keeps_it_on_delete(prod):
    assert ACCOUNT_SINGLETONS <= {r.type for r in prod.resources}
    layer = _layer_resources(prod)
    assert {r.type for r in layer} >= ACCOUNT_SINGLETONS
    singletons = [r for r in prod.resources if r.type in ACCOUNT_SINGLETONS]
    assert {r.urn for r in singletons} <= {r.urn for r in layer}  # nothing of the kind elsewhere
    assert [r.name for r in layer if r.retain_on_delete is not True] == []
    assert [r.name for r in layer if r.protect is not True] == []  # a PHI owner protects them too


def test_a_stack_that_does_not_own_its_account_creates_none_of_its_singletons(staging):
    assert staging.of_type(LAYER) == []
    assert sorted({r.type for r in staging.resources} & ACCOUNT_SINGLETONS) == []
    assert staging.stack_outputs["accountBaseline"] == "external"


def test_staging_in_an_account_of_its_own_owns_that_account_and_keeps_the_layer_on_destroy():
    run = run_stack("staging", overrides={"accountBaseline": "owned",
                                          "aws:allowedAccountIds": '["210987654321"]'},
                    removed=("keyAdministrators",))
    layer = _layer_resources(run)
    assert {r.type for r in layer} >= ACCOUNT_SINGLETONS
    assert all(r.retain_on_delete is True for r in layer)
    assert not any(r.protect for r in layer)  # synthetic: nothing protected, but still retained
    bucket = run.named("hipaa-account-config-delivery", "aws:s3/bucket:Bucket").inputs["bucket"]
    assert bucket == "hipaa-aws-account-us-east-1-config-delivery-210987654321"


# Inputs that name a resource uniquely within an account (and region), by resource type.
ACCOUNT_UNIQUE_NAMES = {
    "aws:s3/bucket:Bucket": "bucket", "aws:iam/role:Role": "name", "aws:kms/alias:Alias": "name",
    "aws:cloudwatch/logGroup:LogGroup": "name", "aws:cloudtrail/trail:Trail": "name",
    "aws:sns/topic:Topic": "name", "aws:cloudwatch/eventRule:EventRule": "name",
    "aws:cloudwatch/metricAlarm:MetricAlarm": "name", "aws:backup/vault:Vault": "name",
    "aws:backup/plan:Plan": "name", "aws:rds/instance:Instance": "identifier",
    "aws:cloudwatch/contributorInsightRule:ContributorInsightRule": "ruleName",
    "aws:cfg/recorder:Recorder": "name", "aws:cfg/deliveryChannel:DeliveryChannel": "name",
    "aws:cfg/conformancePack:ConformancePack": "name",
    "aws:accessanalyzer/analyzer:Analyzer": "analyzerName",
}


def test_two_stacks_in_one_account_never_claim_the_same_name():
    """prod and staging share an account here: every name AWS keeps unique per account (and region)
    must differ, or the second `pulumi up` fails (or, for some types, takes over the first's)."""
    prod, staging = cached_run("prod"), cached_run("staging")
    assert prod.stack_outputs and staging.stack_outputs
    names = Counter()
    for run in (prod, staging):
        for resource in run.resources:
            key = ACCOUNT_UNIQUE_NAMES.get(resource.type)
            if key and resource.inputs.get(key):
                names[(resource.type, resource.inputs[key], resource.inputs.get("region", ""))] += 1
    assert len(names) > 40
    assert [name for name, count in names.items() if count > 1] == []


def _conformance_parameter(run, rule: str, parameter: str) -> str:
    import json
    (pack,) = run.of_type("aws:cfg/conformancePack:ConformancePack")
    resources = json.loads(pack.inputs["templateBody"])["Resources"]
    (properties,) = [r["Properties"] for r in resources.values() if r["Properties"]["ConfigRuleName"] == rule]
    return properties["InputParameters"][parameter]


def test_the_config_recorder_and_channel_adopt_an_existing_one_by_name():
    """AWS Config API Reference, PutConfigurationRecorder / PutDeliveryChannel: one customer-managed
    recorder and one delivery channel per account and region; another name is refused
    (MaxNumberOfConfigurationRecordersExceededException), the same name updates the existing one. An
    account that already records is adopted by its names (then `pulumi import`, README "Accounts")."""
    prod = cached_run("prod")
    (recorder,) = prod.of_type("aws:cfg/recorder:Recorder")
    (channel,) = prod.of_type("aws:cfg/deliveryChannel:DeliveryChannel")
    (status,) = prod.of_type("aws:cfg/recorderStatus:RecorderStatus")
    assert recorder.inputs["name"] == channel.inputs["name"] == "hipaa-aws-prod"

    adopted = run_stack("prod", overrides={"accountLayer": {
        "configRecorderName": "aws-controltower-BaselineConfigRecorder",
        "configDeliveryChannelName": "aws-controltower-BaselineConfigDeliveryChannel"}})
    (recorder,) = adopted.of_type("aws:cfg/recorder:Recorder")
    (channel,) = adopted.of_type("aws:cfg/deliveryChannel:DeliveryChannel")
    assert recorder.inputs["name"] == "aws-controltower-BaselineConfigRecorder"
    assert channel.inputs["name"] == "aws-controltower-BaselineConfigDeliveryChannel"
    assert status.urn in {r.urn for r in prod.resources}


def test_every_vpc_sharing_the_owners_account_may_have_an_internet_gateway():
    """AWS Config managed rule internet-gateway-authorized-vpc-only judges every internet gateway of
    the account and region against AuthorizedVpcIds (a comma-separated list): the VPCs of the other
    stacks in the owner's account are listed (`accountLayer.authorizedVpcIds`) beside its own, or
    their gateways stay non-compliant."""
    prod = run_stack("prod", overrides={"accountLayer": {"authorizedVpcIds": ["vpc-0a1b2c3d4e5f60718"]}})
    (vpc,) = prod.of_type("aws:ec2/vpc:Vpc")
    assert _conformance_parameter(prod, "internet-gateway-authorized-vpc-only", "AuthorizedVpcIds") \
        == f"{vpc.id},vpc-0a1b2c3d4e5f60718"
    alone = cached_run("prod")
    (vpc,) = alone.of_type("aws:ec2/vpc:Vpc")
    assert _conformance_parameter(alone, "internet-gateway-authorized-vpc-only", "AuthorizedVpcIds") == vpc.id


@pytest.mark.parametrize("value,problem", [
    ({"authorizedVpcIds": ["vpc-12"]}, "accountLayer.authorizedVpcIds.0"),
    ({"configRecorderName": ""}, "accountLayer.configRecorderName"),
    ({"recorder": "default"}, "accountLayer.recorder"),
])
def test_bad_account_layer_settings_are_refused_with_the_key(value, problem):
    import pulumi
    from components.settings import parse_settings
    raw = {k.split(":", 1)[1]: v for k, v in load_stack_config("prod").values.items()
           if k.startswith("hipaa-aws:")}
    with pytest.raises(pulumi.RunError, match=problem.replace(".", r"\.")):
        parse_settings("prod", {**raw, "accountLayer": value}, region="us-east-1",
                       allowed_accounts=("123456789012",))


def test_only_the_owner_may_set_account_layer_settings():
    import pulumi
    from components.settings import parse_settings
    raw = {k.split(":", 1)[1]: v for k, v in load_stack_config("staging").values.items()
           if k.startswith("hipaa-aws:")}
    with pytest.raises(pulumi.RunError, match="accountLayer.*only a stack with accountBaseline: owned"):
        parse_settings("staging", {**raw, "accountLayer": {"authorizedVpcIds": []}}, region="us-east-1",
                       allowed_accounts=("123456789012",))

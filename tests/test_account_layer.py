"""The account layer: one owner per account and region, kept on delete; every other stack creates
none of the account's singletons, and two stacks can share an account without colliding.

The shipped stacks live in member accounts of the AWS Organization (`accountBaseline: organization`):
each owns what the organization leaves of its account's layer. The single-account shape (prod
`owned`, staging `external` in prod's account) is still supported and tested through overrides.
"""

from __future__ import annotations

import functools
import json
from collections import Counter

import pytest

from components.account.config_recording import PER_ACCOUNT_RULES
from components.environment.security_alarms import CIS_ALARMS, FINDING_RULES
from preflight.stack_config import PROJECT_DIR, account_layer_owners, load_stack_config, stack_names
from tests.conftest import single_account_identity, cached_run, run_stack

SHARED_ACCOUNT = "123456789012"
"""prod's account in the stack files: the account both stacks share in the single-account shape."""


def single_account(stack: str, baseline: str) -> dict:
    """Overrides that put `stack` in prod's account with `baseline`: its pinned account and the ARNs
    of its own account it names (key administrators, certificate) move there."""
    config = load_stack_config(stack)
    (own,) = config.allowed_account_ids
    overrides: dict = {"accountBaseline": baseline, "aws:allowedAccountIds": json.dumps([SHARED_ACCOUNT]),
                       **(single_account_identity(stack) if baseline != "organization" else {})}
    if own != SHARED_ACCOUNT:
        administrators = json.loads(config.values["hipaa-aws:keyAdministrators"])
        overrides["keyAdministrators"] = [arn.replace(f":{own}:", f":{SHARED_ACCOUNT}:")
                                          for arn in administrators]
        certificate = json.loads(config.values.get("hipaa-aws:app", "{}")).get("certificateArn")
        if certificate:
            overrides["app"] = {"certificateArn": certificate.replace(f":{own}:", f":{SHARED_ACCOUNT}:")}
    return overrides


@functools.cache
def single_account_run(stack: str, baseline: str):
    return run_stack(stack, overrides=single_account(stack, baseline))

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
# What the organization's delegated administrator runs in every member account (GuardDuty and
# Security Hub auto-enabled, the organization analyzer), so a member's stack creates none of it.
ORGANIZATION_PROVIDED = {
    "aws:guardduty/detector:Detector", "aws:guardduty/detectorFeature:DetectorFeature",
    "aws:securityhub/account:Account", "aws:securityhub/standardsSubscription:StandardsSubscription",
    "aws:accessanalyzer/analyzer:Analyzer",
}


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
    assert config.values.get("hipaa-aws:accountBaseline") in ("owned", "organization", "external")


def test_the_shipped_stacks_are_in_member_accounts_of_their_own():
    """prod and staging each in an account of the organization: staging's CI role and its synthetic
    data never share prod's account."""
    configs = {stack: load_stack_config(stack) for stack in ("prod", "staging")}
    assert {s: c.values["hipaa-aws:accountBaseline"] for s, c in configs.items()} == \
        {"prod": "organization", "staging": "organization"}
    assert configs["prod"].allowed_account_ids != configs["staging"].allowed_account_ids


def test_no_two_stacks_own_the_same_account():
    shared = {where: stacks for where, stacks in account_layer_owners().items() if len(stacks) > 1}
    assert shared == {}, f"two stacks own one account's controls: {shared}"


@pytest.mark.parametrize("staging_baseline", ["owned", "organization"])
def test_the_ownership_check_catches_a_second_owner(tmp_path, staging_baseline):
    """staging moved into prod's account while still creating an account layer: two owners."""
    (tmp_path / "stacks").mkdir()
    (tmp_path / "Pulumi.yaml").write_text((PROJECT_DIR / "Pulumi.yaml").read_text())
    for stack in ("prod", "staging"):
        text = (PROJECT_DIR / "stacks" / f"Pulumi.{stack}.yaml").read_text()
        if stack == "staging":
            (own,) = load_stack_config("staging").allowed_account_ids
            text = text.replace(own, SHARED_ACCOUNT).replace(
                "accountBaseline: organization", f"accountBaseline: {staging_baseline}")
        (tmp_path / "stacks" / f"Pulumi.{stack}.yaml").write_text(text)
    assert account_layer_owners(tmp_path) == {"123456789012": ["prod", "staging"]}
    # A second region of the same account is still the same account (account-wide settings).
    text = (tmp_path / "stacks" / "Pulumi.staging.yaml").read_text()
    (tmp_path / "stacks" / "Pulumi.staging.yaml").write_text(text.replace("us-east-1", "eu-west-1"))
    assert account_layer_owners(tmp_path) == {"123456789012": ["prod", "staging"]}


def test_the_owner_creates_every_account_singleton_and_keeps_it_on_delete():
    prod = single_account_run("prod", "owned")
    assert prod.stack_outputs["accountBaseline"] == "owned"
    assert ACCOUNT_SINGLETONS <= {r.type for r in prod.resources}
    layer = _layer_resources(prod)
    assert {r.type for r in layer} >= ACCOUNT_SINGLETONS
    singletons = [r for r in prod.resources if r.type in ACCOUNT_SINGLETONS]
    assert {r.urn for r in singletons} <= {r.urn for r in layer}  # nothing of the kind elsewhere
    assert [r.name for r in layer if r.retain_on_delete is not True] == []
    assert [r.name for r in layer if r.protect is not True] == []  # a PHI owner protects them too


def test_a_stack_that_does_not_own_its_account_creates_none_of_its_singletons():
    staging = single_account_run("staging", "external")
    assert staging.of_type(LAYER) == []
    assert sorted({r.type for r in staging.resources} & ACCOUNT_SINGLETONS) == []
    assert staging.stack_outputs["accountBaseline"] == "external"


def test_staging_in_an_account_of_its_own_owns_that_account_and_keeps_the_layer_on_destroy():
    """A team without the organization gives staging an account of its own and `owned`."""
    run = run_stack("staging", overrides={"accountBaseline": "owned"})
    assert load_stack_config("staging").allowed_account_ids == ["210987654321"]
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
    """prod and staging in one account (the single-account shape): every name AWS keeps unique per
    account (and region) must differ, or the second `pulumi up` fails (or, for some types, takes over
    the first's)."""
    prod, staging = single_account_run("prod", "owned"), single_account_run("staging", "external")
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
    adoption = {"accountLayer": {"authorizedVpcIds": []}}
    with pytest.raises(pulumi.RunError, match=r"accountLayer.*only a stack that creates its account's layer "
                                              r"\(accountBaseline: owned or organization\)"):
        parse_settings("staging", {**raw, **adoption, "accountBaseline": "external"}, region="us-east-1",
                       allowed_accounts=("210987654321",))
    # An organization member's stack owns what the organization leaves of its layer: it may adopt.
    settings = parse_settings("staging", {**raw, **adoption}, region="us-east-1",
                              allowed_accounts=("210987654321",))
    assert settings.account_baseline == "organization" and settings.creates_account_layer


def test_an_unknown_account_baseline_is_refused_with_the_values_allowed():
    import pulumi
    from components.settings import parse_settings
    raw = {k.split(":", 1)[1]: v for k, v in load_stack_config("prod").values.items()
           if k.startswith("hipaa-aws:")}
    with pytest.raises(pulumi.RunError,
                       match=r"hipaa-aws:accountBaseline = 'org'.*'owned', 'organization' or 'external'"):
        parse_settings("prod", {**raw, "accountBaseline": "org"}, region="us-east-1",
                       allowed_accounts=("123456789012",))


def test_an_organization_member_creates_only_what_the_organization_does_not():
    """AWS Config records per account and region: an organization conformance pack deploys only where
    every account it does not exclude already has a recorder (SDK docstring of
    cfg.OrganizationConformancePack; AWS Config Developer Guide, "Prerequisites for conformance
    packs"), so the member keeps its recorder and channel. GuardDuty and Security Hub are enabled by
    the delegated administrator and Access Analyzer is the organization's analyzer: none of them here
    (a second detector, hub or analyzer of the same type fails or overwrites)."""
    for stack in ("prod", "staging"):
        run = cached_run(stack)
        assert run.stack_outputs["accountBaseline"] == "organization"
        layer = _layer_resources(run)
        assert {r.type for r in layer} & ACCOUNT_SINGLETONS == ACCOUNT_SINGLETONS - ORGANIZATION_PROVIDED
        assert sorted({r.type for r in run.resources} & ORGANIZATION_PROVIDED) == []
        assert [r.name for r in layer if r.retain_on_delete is not True] == []
        assert all(r.protect is (stack == "prod") for r in layer)  # a PHI stack protects them too


def test_an_organization_members_pack_holds_only_the_rules_the_organization_pack_cannot():
    """The organization pack applies one parameter set to every account; a rule whose parameters are
    per account (the authorized VPC ids) stays in the member's own pack, and nothing else does."""
    run = cached_run("prod")
    (pack,) = run.of_type("aws:cfg/conformancePack:ConformancePack")
    resources = json.loads(pack.inputs["templateBody"])["Resources"].values()
    rules = {r["Properties"]["ConfigRuleName"] for r in resources}
    assert rules == set(PER_ACCOUNT_RULES) == {"internet-gateway-authorized-vpc-only"}
    (owned_pack,) = single_account_run("prod", "owned").of_type("aws:cfg/conformancePack:ConformancePack")
    assert len(json.loads(owned_pack.inputs["templateBody"])["Resources"]) > 50
    # The same pack, so an owner that joins the organization updates it in place (same URN and name).
    assert (owned_pack.urn, owned_pack.inputs["name"]) == (pack.urn, pack.inputs["name"]) == \
        (owned_pack.urn, "hipaa-security")


def test_an_organization_members_trail_records_only_its_phi_data_events():
    """The organization trail records every member account's management events in every region
    (CloudTrail User Guide, "Creating a trail for an organization"); a second copy is billed. The
    stack's trail records its PHI object reads and writes only, and its alarms are its own: the CIS
    alarms read management events, which are in the organization trail's log group."""
    run = cached_run("prod")
    (trail,) = run.of_type("aws:cloudtrail/trail:Trail")
    assert trail.inputs["isMultiRegionTrail"] is False and trail.inputs["includeGlobalServiceEvents"] is False
    # One data-event selector per PHI bucket: the documents and the app audit archive. Each records
    # S3 object events under that bucket only (CloudTrail API AdvancedFieldSelector: eventCategory,
    # resources.type, resources.ARN with StartsWith), so no management or other bucket's events.
    selectors = trail.inputs["advancedEventSelectors"]
    fields = [{f["field"]: f.get("equals") or f.get("startsWiths") for f in selector["fieldSelectors"]}
              for selector in selectors]
    phi_buckets = [run.named(name, "aws:s3/bucket:Bucket").outputs["bucket"]
                   for name in ("hipaa-phi-documents", "hipaa-app-audit-archive")]
    assert fields == [{"eventCategory": ["Data"], "resources.type": ["AWS::S3::Object"],
                       "resources.ARN": [f"arn:aws:s3:::{bucket}/"]} for bucket in phi_buckets]
    owned = single_account_run("prod", "owned")
    alarms = {r.inputs["name"] for r in run.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")}
    owned_alarms = {r.inputs["name"] for r in owned.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")}
    assert {f"hipaa-aws-prod-{key}" for key in CIS_ALARMS} <= owned_alarms - alarms
    assert alarms < owned_alarms and "hipaa-aws-prod-phi-reads-per-principal" in alarms
    # GuardDuty and Security Hub findings go to the organization's topic (delegated administrator).
    rules = {r.inputs["name"] for r in run.of_type("aws:cloudwatch/eventRule:EventRule")}
    owned_rules = {r.inputs["name"] for r in owned.of_type("aws:cloudwatch/eventRule:EventRule")}
    findings = {f"hipaa-aws-prod-{key}" for key in FINDING_RULES}
    assert findings <= owned_rules and rules & findings == set()


def test_an_owner_that_joins_the_organization_lets_go_only_of_what_the_organization_runs():
    """Moving a single-account owner (prod, `owned`) into the organization (`organization`) creates
    nothing in its account layer (every remaining resource keeps its URN and is updated in place) and
    drops only what the delegated administrator runs, each kept in AWS (retain_on_delete): GuardDuty's
    detector and Security Hub become the organization's members rather than being switched off."""
    owned = {r.urn: r for r in _layer_resources(single_account_run("prod", "owned"))}
    member = {r.urn: r for r in _layer_resources(cached_run("prod"))}
    assert set(member) < set(owned)
    dropped = [owned[urn] for urn in set(owned) - set(member)]
    assert {r.type for r in dropped} == ORGANIZATION_PROVIDED
    assert all(r.retain_on_delete is True for r in dropped)

"""The BAA boundary (hipaa-baa-eligible-services) over the Analyzer protocol: in a PHI stack, only
resources of services on AWS's HIPAA Eligible Services Reference (or control-plane services that
store no customer content) pass; a stack approves a service AWS listed later in its pack config."""

from __future__ import annotations

import json
import re
import sys
from importlib import resources

import pytest
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE as UNKNOWN

from preflight.judge import judge
from preflight.policy_pack_client import POLICY_DIR
from tests.conftest import cached_run

POLICY = "hipaa-baa-eligible-services"
PHI = {"holdsPhi": True}
REFERENCE = "AWS's HIPAA Eligible Services Reference (revision of 2026-05-22)"
APP_RUNNER = "aws:apprunner/service:Service"
APP_RUNNER_MESSAGE = (
    f"Remove this AWS App Runner resource: AWS App Runner is not on {REFERENCE}; if AWS has added it since, "
    "add \"AWS App Runner\" to approvedServices in this stack's pack config after review.")


def _catalog_module():
    sys.path.insert(0, str(POLICY_DIR))
    from hipaa_policies import baa
    return baa


def _pulumi_aws_resource_types() -> set[str]:
    """Every resource type token the installed pulumi-aws registers (its resource_modules table)."""
    source = resources.files("pulumi_aws").joinpath("__init__.py").read_text()
    match = re.search(r'resource_modules="""(.*?)"""', source, re.S)
    assert match, "pulumi-aws no longer registers its resource modules this way; update this test"
    return {token for entry in json.loads(match.group(1)) for token in entry["classes"]}


@pytest.fixture
def configured(pack):
    def configure(config: dict | None = None):
        pack.configure({POLICY: config} if config is not None else {})
        return pack
    yield configure
    pack.configure({})


def messages(verdict):
    return verdict.messages(POLICY)


# ---------------------------------------------------------------- verdicts on one resource

def test_a_phi_stack_refuses_a_service_that_is_not_on_the_reference(configured):
    verdict = configured(PHI).analyze(APP_RUNNER, {"serviceName": "api"})
    assert messages(verdict) == [APP_RUNNER_MESSAGE]
    (diagnostic,) = [d for d in verdict.violations if d.policy == POLICY]
    assert diagnostic.enforcement == "mandatory"


@pytest.mark.parametrize("type_,service", [
    ("aws:grafana/workspace:Workspace", "Amazon Managed Grafana"),
    ("aws:securitylake/dataLake:DataLake", "Amazon Security Lake"),
    ("aws:ec2/vpnConnection:VpnConnection", "AWS Site-to-Site VPN"),  # a VPN in the ec2 module
    ("aws:lambda/microvmsImage:MicrovmsImage", "AWS Lambda MicroVMs"),
    ("aws:cloudcontrol/resource:Resource", "AWS Cloud Control API"),  # could create any type
])
def test_the_message_names_the_service_not_the_module(configured, type_, service):
    assert messages(configured(PHI).analyze(type_, {})) == [
        f"Remove this {service} resource: {service} is not on {REFERENCE}; if AWS has added it since, "
        f"add \"{service}\" to approvedServices in this stack's pack config after review."]


@pytest.mark.parametrize("type_", [
    "aws:s3/bucket:Bucket", "aws:rds/instance:Instance", "aws:ec2/vpc:Vpc", "aws:ec2/instance:Instance",
    "aws:cloudwatch/logGroup:LogGroup", "aws:cloudwatch/eventRule:EventRule",
    "aws:lb/loadBalancer:LoadBalancer", "aws:ssoadmin/permissionSet:PermissionSet",
    "aws:s3tables/tableBucket:TableBucket", "aws:bedrock/agentcoreMemory:AgentcoreMemory",
    "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream",
])
def test_a_service_on_the_reference_passes(configured, type_):
    verdict = configured(PHI).analyze(type_, {})
    assert messages(verdict) == []
    assert POLICY not in verdict.not_applicable  # judged, and found eligible


@pytest.mark.parametrize("type_", [
    "aws:iam/role:Role", "aws:accessanalyzer/analyzer:Analyzer", "aws:appautoscaling/target:Target",
    "aws:budgets/budget:Budget", "aws:account/alternativeContact:AlternativeContact",
])
def test_control_plane_services_that_store_no_customer_content_pass(configured, type_):
    verdict = configured(PHI).analyze(type_, {})
    assert messages(verdict) == []
    assert POLICY not in verdict.not_applicable


@pytest.mark.parametrize("approved", [["AWS App Runner"], ["aws app runner "], ["aws-app-runner"]])
def test_approved_services_in_the_pack_config_let_a_later_listed_service_pass(configured, approved):
    assert messages(configured({**PHI, "approvedServices": approved}).analyze(APP_RUNNER, {})) == []


def test_approving_one_service_does_not_approve_another(configured):
    pack = configured({**PHI, "approvedServices": ["Amazon Managed Grafana"]})
    assert messages(pack.analyze(APP_RUNNER, {})) == [APP_RUNNER_MESSAGE]


def test_a_stack_without_phi_is_not_judged(configured):
    for config in ({}, {"holdsPhi": False}):
        verdict = configured(config).analyze(APP_RUNNER, {})
        assert messages(verdict) == []
        assert POLICY in verdict.not_applicable


@pytest.mark.parametrize("type_", [
    "pulumi:providers:aws", "pulumi:pulumi:Stack", "hipaa:components:PhiBucket",
    "random:index/randomPassword:RandomPassword", "awsx:ec2:Vpc",
])
def test_providers_components_and_other_packages_are_not_applicable(configured, type_):
    verdict = configured(PHI).analyze(type_, {})
    assert messages(verdict) == []
    assert POLICY in verdict.not_applicable


def test_a_module_the_pack_does_not_know_is_refused_until_mapped_or_approved(configured):
    message = (f"Remove this resource of pulumi-aws module brandnew: the policy pack does not know its AWS "
               f"service, so it cannot find it on {REFERENCE}; map the module in the pack's data, or if the "
               "service is listed, add \"brandnew\" to approvedServices in this stack's pack config after "
               "review.")
    new = "aws:brandnew/thing:Thing"
    assert messages(configured(PHI).analyze(new, {})) == [message]
    assert messages(configured({**PHI, "approvedServices": ["brandnew"]}).analyze(new, {})) == []


SIMPLE_AD = ("Set type to MicrosoftAD or ADConnector: Simple AD is excluded from AWS Directory Service on "
             f"{REFERENCE}; if AWS has lifted that exclusion since, add \"Simple AD\" to approvedServices in "
             "this stack's pack config after review.")
DIRECTORY = "aws:directoryservice/directory:Directory"


@pytest.mark.parametrize("props,expected", [
    ({"type": "MicrosoftAD", "edition": "Enterprise"}, []),
    ({"type": "ADConnector"}, []),
    ({"type": "SimpleAD"}, [SIMPLE_AD]),
    ({}, [SIMPLE_AD]),  # the provider's default type is SimpleAD
])
def test_simple_ad_is_excluded_from_directory_service(configured, props, expected):
    assert messages(configured(PHI).analyze(DIRECTORY, props)) == expected


def test_an_unknown_directory_type_is_not_judged(configured):
    verdict = configured(PHI).analyze(DIRECTORY, {"type": UNKNOWN})
    assert messages(verdict) == []
    assert [d.policy for d in verdict.not_judged if d.policy == POLICY] == [POLICY]


def test_approved_services_is_validated_like_the_cli(pack):
    from preflight.policy_pack_client import PolicyConfigError
    with pytest.raises(PolicyConfigError, match=POLICY):
        pack.configure({POLICY: {"holdsPhi": True, "approvedServices": "AWS App Runner"}})
    pack.configure({})


# ---------------------------------------------------------------- the data

def test_every_pulumi_aws_module_is_mapped_to_its_aws_service():
    """Fails when pulumi-aws adds a module: map it (to a listed service, a control-plane service with a
    reason, or a service that is not listed) in policy/hipaa_policies/data/hipaa_eligible_services.json."""
    catalog = _catalog_module().CATALOG
    types = _pulumi_aws_resource_types()
    modules = {t.split(":")[1].split("/")[0] for t in types}
    assert len(modules) > 200
    assert sorted(modules - set(catalog.modules)) == []
    assert sorted(set(catalog.modules) - modules) == [], "modules pulumi-aws no longer has"
    assert all(catalog.service_of(t) is not None for t in types)


def test_type_prefixes_and_exclusions_name_real_pulumi_aws_types():
    catalog = _catalog_module().CATALOG
    types = _pulumi_aws_resource_types()
    members = {(t.split(":")[1].split("/")[0], t.split(":")[1].split("/")[1]) for t in types}
    for module, prefixes in catalog.prefixes.items():
        for prefix, _ in prefixes:
            assert any(m == module and member.startswith(prefix) for m, member in members), (module, prefix)
    assert set(catalog.exclusions) <= types


def test_the_list_names_its_source_and_dates():
    baa = _catalog_module()
    data = json.loads(baa.DATA_FILE.read_text())
    reference = data["reference"]
    assert reference["url"] == "https://aws.amazon.com/compliance/hipaa-eligible-services-reference/"
    assert reference["checked"] == "2026-11-23" and reference["revision"] == baa.CATALOG.revision
    assert reference["provenance"]
    assert len(data["listed"]) == len(set(data["listed"])) > 150
    # A control-plane service may pass without being listed only with a stated reason.
    for key, entry in data["services"].items():
        assert entry["status"] != "no-customer-content" or len(entry["reason"]) > 40, key


def test_inconsistent_data_stops_the_pack(tmp_path):
    baa = _catalog_module()
    data = json.loads(baa.DATA_FILE.read_text())
    data["modules"]["s3"] = "amazon-simple-typo"
    broken = tmp_path / "services.json"
    broken.write_text(json.dumps(data))
    with pytest.raises(baa.CatalogError, match="module s3 maps to unknown service 'amazon-simple-typo'"):
        baa.load_catalog(broken)
    data = json.loads(baa.DATA_FILE.read_text())
    data["services"]["aws-app-runner"]["status"] = "eligible"  # without quoting the reference
    broken.write_text(json.dumps(data))
    with pytest.raises(baa.CatalogError, match="aws-app-runner: an eligible service must quote"):
        baa.load_catalog(broken)


# ---------------------------------------------------------------- the project's own stacks

@pytest.mark.parametrize("stack", ["prod", "staging"])
def test_the_projects_own_resources_are_all_on_eligible_services(pack, stack):
    """Judged as PHI stacks (staging too), so every AWS resource the program declares is checked."""
    config = json.loads((POLICY_DIR / "config" / f"{stack}.json").read_text())
    config[POLICY] = {**config.get(POLICY, {}), "holdsPhi": True}
    pack.configure(config)
    try:
        judgement = judge(cached_run(stack, preview=True), pack)
    finally:
        pack.configure({})
    assert [(d.urn, d.violation) for d in judgement.diagnostics if d.policy == POLICY] == []
    judged = {urn for urn, verdict in judgement.by_resource.items() if POLICY not in verdict.not_applicable}
    aws = {r.urn for r in judgement.resources if r.type.startswith("aws:")}
    assert judged == aws and len(aws) > 100  # every AWS resource judged; the stack and components are not

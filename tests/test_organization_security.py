"""Central security (components/organization/security_services.py) under Pulumi's mock runtime: the
audit account administers GuardDuty, Security Hub, AWS Config and IAM Access Analyzer for the whole
organization, with exactly what the account layer switches on in one account, in the order AWS requires.

The program runs the component with explicit providers for the management and audit accounts, and next
to it the account layer's own ThreatDetection and ConfigRecording in a member account, so "the same
features, standards and pack" is compared with what the account layer really registers.
"""

from __future__ import annotations

import json
from typing import Any, cast

import pulumi
import pulumi_aws as aws
import pytest

from components.account.config_recording import ConfigRecording, ConfigRecordingArgs
from components.account.threat_detection import ThreatDetection, ThreatDetectionArgs
from components.aws_context import AwsContext
from components.conformance_pack import load_rules
from components.organization.security_services import (
    ORGANIZATION_EXCLUDED_RULES, TRUSTED_SERVICE_PRINCIPALS, CentralSecurity, CentralSecurityArgs, linking,
    validate)
from preflight.program_runner import ProgramRun, RecordedResource, run_program
from preflight.stack_config import StackConfig
from tests.aws_reference import enum_values, managed_policies

MANAGEMENT, AUDIT, MEMBER, LOG_ARCHIVE = "111111111111", "222222222222", "333333333333", "444444444444"
HOME, OTHER = "us-east-1", "us-west-2"
ROOT_ID = "r-ab12"
KEY_ADMIN = f"arn:aws:iam::{AUDIT}:role/hipaa-aws/organization/key-admin"
CONFIG_ROLE_POLICY = "arn:aws:iam::aws:policy/service-role/AWSConfigRoleForOrganizations"

GD_DETECTOR = "aws:guardduty/detector:Detector"
GD_ADMIN = "aws:guardduty/organizationAdminAccount:OrganizationAdminAccount"
GD_CONFIGURATION = "aws:guardduty/organizationConfiguration:OrganizationConfiguration"
GD_FEATURE = "aws:guardduty/organizationConfigurationFeature:OrganizationConfigurationFeature"
SH_ADMIN = "aws:securityhub/organizationAdminAccount:OrganizationAdminAccount"
SH_CONFIGURATION = "aws:securityhub/organizationConfiguration:OrganizationConfiguration"
SH_AGGREGATOR = "aws:securityhub/findingAggregator:FindingAggregator"
SH_POLICY = "aws:securityhub/configurationPolicy:ConfigurationPolicy"
SH_ASSOCIATION = "aws:securityhub/configurationPolicyAssociation:ConfigurationPolicyAssociation"
DELEGATED = "aws:organizations/delegatedAdministrator:DelegatedAdministrator"
CFG_AGGREGATOR = "aws:cfg/configurationAggregator:ConfigurationAggregator"
CFG_ORG_PACK = "aws:cfg/organizationConformancePack:OrganizationConformancePack"
ANALYZER = "aws:accessanalyzer/analyzer:Analyzer"


def ctx(account: str, region: str = HOME) -> AwsContext:
    return AwsContext(account_id=account, region=region, partition="aws", dns_suffix="amazonaws.com")


def program(regions: tuple[str, ...] = (HOME, OTHER)) -> None:
    management = aws.Provider("management", region=HOME, allowed_account_ids=[MANAGEMENT])
    audit = aws.Provider("audit", region=HOME, allowed_account_ids=[AUDIT])
    member = aws.Provider("member", region=HOME, allowed_account_ids=[MEMBER])
    organization = aws.organizations.Organization(
        "organization", feature_set="ALL", aws_service_access_principals=list(TRUSTED_SERVICE_PRINCIPALS),
        opts=pulumi.ResourceOptions(provider=management))
    CentralSecurity("central", CentralSecurityArgs(
        management_provider=management, audit_provider=audit, audit=ctx(AUDIT),
        management_account_id=MANAGEMENT, organization_root_id=ROOT_ID, trusted_access=organization,
        alert_email="security@example.com", key_administrators=[KEY_ADMIN], regions=regions,
        config_excluded_account_ids=[MANAGEMENT, AUDIT, LOG_ARCHIVE]))
    # What the account layer registers in one member account.
    in_member = pulumi.ResourceOptions(providers=[member])
    ThreatDetection("member-threats", ThreatDetectionArgs(aws=ctx(MEMBER)), opts=in_member)
    ConfigRecording("member-config", ConfigRecordingArgs(
        stack="account", aws=ctx(MEMBER), config_key_arn=f"arn:aws:kms:{HOME}:{MEMBER}:key/config",
        authorized_vpc_ids=["vpc-0123456789abcdef0"], bucket_scope="account", recorder_name="default",
        delivery_channel_name="default"), opts=in_member)


def run(regions: tuple[str, ...] = (HOME, OTHER)) -> ProgramRun:
    config = StackConfig(project="organization", stack="test", values={"aws:region": HOME})
    return run_program(lambda: program(regions), config, preview=False)


@pytest.fixture(scope="module")
def org() -> ProgramRun:
    return run()


def of_type(result: ProgramRun, token: str) -> list[RecordedResource]:
    return result.of_type(token)


def one(result: ProgramRun, token: str, account: str = "", **inputs: Any) -> RecordedResource:
    found = [r for r in result.of_type(token) if all(r.inputs.get(k) == v for k, v in inputs.items())
             and account in ("", account_of(r))]
    assert len(found) == 1, f"{len(found)} {token} with {inputs}"
    return found[0]


def account_of(resource: RecordedResource) -> str:
    """Which account's provider registers the resource (provider references are '<urn>::<id>')."""
    return resource.provider.split("::")[3]


def after(result: ProgramRun, later: RecordedResource, earlier: RecordedResource) -> bool:
    """`later` depends on `earlier`, directly or through other resources."""
    by_urn = {r.urn: r for r in result.resources}
    seen, todo = set(), [later.urn]
    while todo:
        urn = todo.pop()
        resource = by_urn.get(urn)
        if resource is None or urn in seen:
            continue
        seen.add(urn)
        deps = set(resource.dependencies)
        for urns in resource.property_dependencies.values():
            deps.update(urns)
        if earlier.urn in deps:
            return True
        todo.extend(deps)
    return False


# --- Delegated administrators -------------------------------------------------------------------

def test_every_service_is_administered_by_the_audit_account_registered_from_management(org):
    """GuardDuty and Security Hub designate through their own API (SDK docstrings of
    guardduty/securityhub OrganizationAdminAccount: "must be an Organizations primary account");
    AWS Config (both principals, AWS Config Developer Guide "Register a delegated administrator") and
    IAM Access Analyzer through Organizations' RegisterDelegatedAdministrator."""
    admins = of_type(org, GD_ADMIN) + \
        of_type(org, SH_ADMIN)
    assert {(r.inputs["adminAccountId"], account_of(r)) for r in admins} == {(AUDIT, "management")}
    delegated = of_type(org, DELEGATED)
    assert {r.inputs["servicePrincipal"]: r.inputs["accountId"] for r in delegated} == {
        "config.amazonaws.com": AUDIT, "config-multiaccountsetup.amazonaws.com": AUDIT,
        "access-analyzer.amazonaws.com": AUDIT}
    assert {account_of(r) for r in delegated} == {"management"}


def test_trusted_access_covers_every_registered_service(org):
    """Organizations registers a delegated administrator only for a service with trusted access
    (Organizations User Guide, "Services that work with AWS Organizations")."""
    registered = {r.inputs["servicePrincipal"]
                  for r in of_type(org, DELEGATED)}
    own_api = {"guardduty.amazonaws.com", "securityhub.amazonaws.com"}
    assert registered | own_api == set(TRUSTED_SERVICE_PRINCIPALS)
    # The organization project enables them all (components/organization/structure.py).
    from components.organization.structure import SERVICE_ACCESS_PRINCIPALS
    assert set(TRUSTED_SERVICE_PRINCIPALS) <= set(SERVICE_ACCESS_PRINCIPALS)


def test_identity_center_is_not_delegated_to_the_audit_account(org):
    """IAM Identity Center administration is an identity concern, not security tooling: it stays with
    the management account (or an identity account O1 chooses), never the audit account."""
    delegated = {r.inputs["servicePrincipal"]
                 for r in of_type(org, DELEGATED)}
    assert "sso.amazonaws.com" not in delegated


# --- GuardDuty ------------------------------------------------------------------------------------

def test_guardduty_auto_enables_all_members_with_the_administrators_detector_in_each_region(org):
    """GuardDuty is regional; its organization configuration names the administrator's own detector
    (SDK docstring of guardduty.OrganizationConfiguration, detector_id)."""
    detectors = {r.inputs["region"]: r for r in of_type(org, GD_DETECTOR)
                 if account_of(r) == "audit"}
    assert set(detectors) == {HOME, OTHER}
    configurations = of_type(org, GD_CONFIGURATION)
    assert {(c.inputs["region"], c.inputs["detectorId"], c.inputs["autoEnableOrganizationMembers"])
            for c in configurations} == {(region, d.id, "ALL") for region, d in detectors.items()}
    assert {account_of(c) for c in configurations} == {"audit"}
    admins = of_type(org, GD_ADMIN)
    assert sorted(a.inputs["region"] for a in admins) == [HOME, OTHER]


def _features(resources: list[RecordedResource]) -> set[tuple[str, frozenset]]:
    return {(r.inputs["name"], frozenset(a["name"] for a in r.inputs.get("additionalConfigurations") or []))
            for r in resources}


def test_guardduty_organization_features_are_exactly_the_account_layers(org):
    """The same features and runtime agents the account layer enables in one account (botocore
    `guardduty` OrgFeature / OrgFeatureAdditionalConfiguration enums), auto-enabled for ALL members."""
    account_layer = _features(of_type(org, "aws:guardduty/detectorFeature:DetectorFeature"))
    features = of_type(org, GD_FEATURE)
    for region in (HOME, OTHER):
        here = [f for f in features if f.inputs["region"] == region]
        assert _features(here) == account_layer
    assert {f.inputs["autoEnable"] for f in features} == {"ALL"}
    agents = [a for f in features for a in f.inputs.get("additionalConfigurations") or []]
    assert {a["autoEnable"] for a in agents} == {"ALL"}
    assert {f.inputs["detectorId"] for f in features} == {
        d.id for d in of_type(org, GD_DETECTOR) if account_of(d) == "audit"}


def test_guardduty_order(org):
    """Designating the administrator enables GuardDuty in it (GuardDuty User Guide, "Permissions
    required to designate a delegated GuardDuty administrator account"), so its detector exists first;
    the organization configuration needs the designation, the features the configuration."""
    organization = one(org, "aws:organizations/organization:Organization")
    for admin in of_type(org, GD_ADMIN):
        region = admin.inputs["region"]
        detector = one(org, GD_DETECTOR, account="audit", region=region)
        configuration = one(org, GD_CONFIGURATION, region=region)
        assert after(org, admin, organization) and after(org, admin, detector)
        assert after(org, configuration, admin)
        for feature in of_type(org, GD_FEATURE):
            if feature.inputs["region"] == region:
                assert after(org, feature, configuration)


# --- Security Hub ---------------------------------------------------------------------------------

def test_security_hub_central_configuration_with_the_account_layers_standards(org):
    """CENTRAL needs AutoEnable false and AutoEnableStandards NONE (botocore `securityhub`
    UpdateOrganizationConfiguration; SDK docstring of configuration_type). The policy enables exactly the
    standards the account layer subscribes to; Security Hub has no HIPAA standard (AWS_FACTS: the
    conformance pack covers HIPAA)."""
    central = one(org, SH_CONFIGURATION)
    assert central.inputs["organizationConfiguration"] == {"configurationType": "CENTRAL"}
    assert central.inputs["autoEnable"] is False and central.inputs["autoEnableStandards"] == "NONE"
    policy = one(org, SH_POLICY)
    settings = policy.inputs["configurationPolicy"]
    account_layer = {s.inputs["standardsArn"]
                     for s in of_type(org, "aws:securityhub/standardsSubscription:StandardsSubscription")}
    assert settings["serviceEnabled"] is True
    assert set(settings["enabledStandardArns"]) == account_layer and len(account_layer) == 3
    assert not any("hipaa" in arn for arn in settings["enabledStandardArns"])
    association = one(org, SH_ASSOCIATION)
    assert association.inputs == {"targetId": ROOT_ID, "policyId": policy.id}
    assert {account_of(r) for r in (central, policy, association)} == {"audit"}


def test_security_hub_aggregates_the_allowed_regions_into_the_home_region(org):
    """The administrator is designated in the home Region (Security Hub User Guide, "Enabling central
    configuration"), where the aggregator is created (botocore CreateFindingAggregator: "invoked from the
    home Region only")."""
    assert one(org, SH_ADMIN).inputs["region"] == HOME
    aggregator = one(org, SH_AGGREGATOR)
    assert aggregator.inputs["linkingMode"] == "SPECIFIED_REGIONS"
    assert aggregator.inputs["specifiedRegions"] == [OTHER]
    assert account_of(aggregator) == "audit"  # the audit provider's Region is the home Region


def test_linking_modes():
    """botocore `securityhub` CreateFindingAggregator RegionLinkingMode: ALL_REGIONS when the allowed
    Regions are unknown; NO_REGIONS for the home Region alone."""
    assert linking(HOME, ()) == ("ALL_REGIONS", [])
    assert linking(HOME, (HOME,)) == ("NO_REGIONS", [])
    assert linking(HOME, (OTHER, HOME, "eu-west-1")) == ("SPECIFIED_REGIONS", ["eu-west-1", OTHER])


def test_security_hub_order(org):
    """The hub exists before the designation (it enables Security Hub in the administrator: Security
    Hub User Guide, "Setting up Security Hub"); the home Region's aggregator before central
    configuration (Security Hub User Guide, "Enabling central configuration"; SDK docstring of
    securityhub.OrganizationConfiguration); then the policy, then its association."""
    organization = one(org, "aws:organizations/organization:Organization")
    hub = one(org, "aws:securityhub/account:Account", account="audit")
    admin = one(org, SH_ADMIN)
    aggregator = one(org, SH_AGGREGATOR)
    central = one(org, SH_CONFIGURATION)
    policy = one(org, SH_POLICY)
    association = one(org, SH_ASSOCIATION)
    assert account_of(hub) == "audit" and hub.inputs["enableDefaultStandards"] is False
    assert after(org, admin, organization) and after(org, admin, hub)
    assert after(org, aggregator, admin)
    assert after(org, central, aggregator)
    assert after(org, policy, central)
    assert after(org, association, policy)


# --- AWS Config -----------------------------------------------------------------------------------

def test_organization_conformance_pack_is_the_account_layers_pack_minus_per_account_rules(org):
    """One source: the account layer's pack (components/conformance_pack.py, as ConfigRecording
    registers it) minus the rules that need per-account parameters."""
    account_pack = json.loads(one(org, "aws:cfg/conformancePack:ConformancePack").inputs["templateBody"])
    org_pack = one(org, CFG_ORG_PACK)
    organization = json.loads(org_pack.inputs["templateBody"])["Resources"]
    excluded = {key for key, rule in account_pack["Resources"].items()
                if rule["Properties"]["ConfigRuleName"] in ORGANIZATION_EXCLUDED_RULES}
    assert len(excluded) == len(ORGANIZATION_EXCLUDED_RULES)
    assert organization == {k: v for k, v in account_pack["Resources"].items() if k not in excluded}
    assert len(organization) == sum(r.in_pack for r in load_rules()) - len(excluded)
    # The accounts without a recorder are excluded (SDK docstring of cfg.OrganizationConformancePack).
    assert org_pack.inputs["excludedAccounts"] == [MANAGEMENT, AUDIT, LOG_ARCHIVE]
    assert account_of(org_pack) == "audit"


def test_config_aggregator_reads_the_organization_with_the_managed_role(org):
    """AWS Config Developer Guide (organization aggregator) and the SDK docstring of
    cfg.ConfigurationAggregator: a role config.amazonaws.com assumes, with AWSConfigRoleForOrganizations
    (path from AWS's managed-policy list: service-role/)."""
    aggregator = one(org, CFG_AGGREGATOR)
    source = aggregator.inputs["organizationAggregationSource"]
    assert sorted(source["regions"]) == [HOME, OTHER] and account_of(aggregator) == "audit"
    role = next(r for r in of_type(org, "aws:iam/role:Role") if r.outputs["arn"] == source["roleArn"])
    trust = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
    assert [s["Principal"] for s in trust] == [{"Service": "config.amazonaws.com"}]
    attachment = next(a for a in of_type(org, "aws:iam/rolePolicyAttachment:RolePolicyAttachment")
                      if a.inputs["role"] == role.outputs["name"])
    assert attachment.inputs["policyArn"] == CONFIG_ROLE_POLICY
    assert after(org, aggregator, attachment)


def test_config_order(org):
    organization = one(org, "aws:organizations/organization:Organization")
    config = one(org, DELEGATED,
                 servicePrincipal="config.amazonaws.com")
    multi = one(org, DELEGATED,
                servicePrincipal="config-multiaccountsetup.amazonaws.com")
    assert after(org, config, organization) and after(org, multi, organization)
    assert after(org, one(org, CFG_AGGREGATOR), config)
    assert after(org, one(org, CFG_ORG_PACK), multi)


# --- IAM Access Analyzer --------------------------------------------------------------------------

def test_organization_analyzer_in_the_audit_account_after_its_registration(org):
    analyzer = one(org, ANALYZER)
    assert analyzer.inputs["type"] == "ORGANIZATION" and account_of(analyzer) == "audit"
    registration = one(org, DELEGATED,
                       servicePrincipal="access-analyzer.amazonaws.com")
    assert after(org, analyzer, registration)
    assert after(org, registration, one(org, "aws:organizations/organization:Organization"))


# --- Finding routing ------------------------------------------------------------------------------

def test_high_severity_findings_route_to_an_encrypted_topic(org):
    """GuardDuty severity >= 7 and Security Hub CRITICAL/HIGH (EventBridge event reference for
    GuardDuty: detail-type "GuardDuty Finding"; Security Hub User Guide: "Security Hub Findings -
    Imported", which for an administrator includes its members' findings and, in the home Region, the
    linked Regions')."""
    topic = one(org, "aws:sns/topic:Topic")
    rules = {r.inputs["name"]: json.loads(r.inputs["eventPattern"])
             for r in of_type(org, "aws:cloudwatch/eventRule:EventRule")}
    assert rules == {
        "hipaa-aws-organization-guardduty-high-severity": {
            "source": ["aws.guardduty"], "detail-type": ["GuardDuty Finding"],
            "detail": {"severity": [{"numeric": [">=", 7]}]}},
        "hipaa-aws-organization-securityhub-critical-high": {
            "source": ["aws.securityhub"], "detail-type": ["Security Hub Findings - Imported"],
            "detail": {"findings": {"Severity": {"Label": ["CRITICAL", "HIGH"]}}}},
    }
    # Each rule also opens an OpsItem in the audit account (tests/test_incident_response.py).
    targets = [t for t in of_type(org, "aws:cloudwatch/eventTarget:EventTarget")
               if not t.inputs["arn"].endswith(":opsitem")]
    assert {t.inputs["arn"] for t in targets} == {topic.outputs["arn"]} and len(targets) == 2
    key = one(org, "aws:kms/key:Key")
    assert topic.inputs["kmsMasterKeyId"] == key.outputs["arn"]
    assert {account_of(r) for r in (topic, key, *targets)} == {"audit"}
    subscription = one(org, "aws:sns/topicSubscription:TopicSubscription")
    assert subscription.inputs["protocol"] == "email"
    assert subscription.inputs["endpoint"] == "security@example.com"


def test_eventbridge_is_scoped_by_the_topic_policy_not_the_key_policy(org):
    """SNS Developer Guide: EventBridge cannot satisfy aws:SourceAccount/aws:SourceArn in the key
    policy of an encrypted topic; the topic policy names the rule ARNs instead."""
    key_policy = json.loads(one(org, "aws:kms/key:Key").inputs["policy"])
    events = [s for s in key_policy["Statement"] if s.get("Principal") == {"Service": "events.amazonaws.com"}]
    assert len(events) == 1 and "Condition" not in events[0]
    assert {"kms:Decrypt", "kms:GenerateDataKey*"} <= set(events[0]["Action"])
    topic_policy = json.loads(one(org, "aws:sns/topicPolicy:TopicPolicy").inputs["policy"])
    publish = next(s for s in topic_policy["Statement"] if s["Sid"] == "FindingRulesPublish")
    assert sorted(publish["Condition"]["ArnEquals"]["aws:SourceArn"]) == sorted(
        f"arn:aws:events:{HOME}:{AUDIT}:rule/{r.inputs['name']}"
        for r in of_type(org, "aws:cloudwatch/eventRule:EventRule"))


# --- Values AWS accepts ---------------------------------------------------------------------------

def test_every_enumerated_value_is_one_aws_accepts(org):
    """Mocks accept anything; these are the values AWS's API models enumerate (botocore `guardduty`,
    `securityhub`, `accessanalyzer`), and the managed policy as AWS lists it (moto's copy)."""
    features = of_type(org, GD_FEATURE)
    assert {f.inputs["name"] for f in features} <= set(enum_values("guardduty", "OrgFeature"))
    agents = {a["name"] for f in features for a in f.inputs.get("additionalConfigurations") or []}
    assert agents <= set(enum_values("guardduty", "OrgFeatureAdditionalConfiguration"))
    assert {f.inputs["autoEnable"] for f in features} <= set(enum_values("guardduty", "OrgFeatureStatus"))
    for c in of_type(org, GD_CONFIGURATION):
        assert c.inputs["autoEnableOrganizationMembers"] in enum_values("guardduty", "AutoEnableMembers")
    central = one(org, SH_CONFIGURATION)
    assert central.inputs["autoEnableStandards"] in enum_values("securityhub", "AutoEnableStandards")
    assert central.inputs["organizationConfiguration"]["configurationType"] in enum_values(
        "securityhub", "OrganizationConfigurationConfigurationType")
    assert one(org, ANALYZER).inputs["type"] in enum_values("accessanalyzer", "Type")
    # RegionLinkingMode is a plain string in the model; its values are in its documentation.
    assert one(org, SH_AGGREGATOR).inputs["linkingMode"] in (
        "ALL_REGIONS", "ALL_REGIONS_EXCEPT_SPECIFIED", "SPECIFIED_REGIONS", "NO_REGIONS")
    assert managed_policies().paths["AWSConfigRoleForOrganizations"] == "/service-role/"


# --- Arguments ------------------------------------------------------------------------------------

def _args(**changes: Any) -> CentralSecurityArgs:
    values: dict[str, Any] = dict(
        management_provider=cast(Any, None), audit_provider=cast(Any, None), audit=ctx(AUDIT),
        management_account_id=MANAGEMENT, organization_root_id=ROOT_ID, trusted_access=cast(Any, None),
        alert_email="security@example.com", key_administrators=[KEY_ADMIN], regions=[HOME, OTHER],
        config_excluded_account_ids=[MANAGEMENT])
    values.update(changes)
    return CentralSecurityArgs(**values)


def test_valid_arguments_pass():
    validate(_args())


@pytest.mark.parametrize("changes, message", [
    # Security Hub User Guide, "Enabling central configuration": the management account cannot be
    # the delegated administrator.
    ({"audit": ctx(MANAGEMENT)}, "is the management account"),
    ({"regions": [OTHER]}, "home Region us-east-1 is not among the allowed Regions"),
    ({"key_administrators": []}, "named administrator"),
    ({"alert_email": "security"}, "not an email address"),
])
def test_arguments_aws_would_refuse_are_refused(changes, message):
    with pytest.raises(pulumi.RunError, match=message):
        validate(_args(**changes))


def test_without_allowed_regions_security_hub_and_config_aggregate_everywhere():
    result = run(regions=())
    assert one(result, SH_AGGREGATOR).inputs["linkingMode"] == "ALL_REGIONS"
    source = one(result, CFG_AGGREGATOR).inputs[
        "organizationAggregationSource"]
    assert source["allRegions"] is True and "regions" not in source
    assert [d.inputs["region"] for d in of_type(result, GD_DETECTOR)
            if account_of(d) == "audit"] == [HOME]


def test_guardduty_also_runs_in_the_management_account_in_every_region(org):
    """Auto-enable does not cover a management account without a detector (pulumi-aws
    guardduty.OrganizationAdminAccount example; superwerker/superwerker#84): one detector per Region
    there, kept on destroy, before the designation."""
    detectors = [r for r in org.of_type("aws:guardduty/detector:Detector") if r.name.endswith("-management")]
    admins = org.of_type("aws:guardduty/organizationAdminAccount:OrganizationAdminAccount")
    assert len(detectors) == len(admins) >= 1
    for detector in detectors:
        assert detector.retain_on_delete is True and detector.inputs["enable"] is True
        assert account_of(detector) == account_of(admins[0])  # the management account's provider
    by_region = {d.inputs["region"]: d.urn for d in detectors}
    for admin in admins:
        assert by_region[admin.inputs["region"]] in admin.dependencies

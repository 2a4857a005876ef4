"""Central security for the organization: the audit (security tooling) account is the delegated
administrator of GuardDuty, Security Hub, AWS Config and IAM Access Analyzer, and routes high-severity
findings of every member account to the security team.

Order, as AWS requires it (each step names its source; tests/test_organization_security.py pins it):
1. Trusted access (the organization's `aws_service_access_principals`, passed in as `trusted_access`)
   comes first: Organizations refuses a delegated administrator for a service without it
   (Organizations User Guide, "Services that work with AWS Organizations").
2. GuardDuty and Security Hub switch themselves on in the account designated as their administrator
   (GuardDuty User Guide, "Permissions required to designate a delegated GuardDuty administrator
   account": designating "also enables GuardDuty for the delegated GuardDuty administrator account";
   Security Hub User Guide, "Setting up Security Hub": "Security Hub is enabled automatically for the
   chosen account"). A detector or hub created after the designation would then fail as a duplicate
   (one per account and region), so the audit account's detector and hub come first and the
   designation depends on them.
3. Everything the administrator configures for the organization depends on the designation:
   GuardDuty's organization configuration (which names the administrator's own detector id) and its
   features; Security Hub's finding aggregator (the home Region) before central configuration (Security
   Hub User Guide, "Enabling central configuration": integrate with Organizations and designate a home
   Region first; SDK docstring of `securityhub.OrganizationConfiguration`: central configuration
   "requires an `securityhub.FindingAggregator`"), then the configuration policy, then its association;
   the Config aggregator and organization conformance pack; the organization analyzer.
`pulumi destroy` undoes this in reverse, which is the order Security Hub requires to stop central
configuration: associations, then policies, then the configuration type (Security Hub User Guide, "Stop
using central configuration"). The audit account's detector and hub are kept: deleting the detector
deletes the organization's GuardDuty findings.

Not here: IAM Identity Center's delegated administration. AWS recommends delegating it to a member
account to keep people out of the management account (IAM Identity Center User Guide, "Delegated
administration"), not to the security tooling account, and a delegated administrator cannot manage
permission sets provisioned to the management account; it stays with the management account.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_aws as aws

from components.aws_context import AwsContext
from components.conformance_pack import load_rules, template_body
from components.key_ring import KeyRing, KeyRingArgs, purpose
from components.policy_documents import service_trust_policy
from components.role_policy import iam_path
from components.environment.security_alarms import FINDING_RULES, alert_topic_policy
from components.environment.incident_response import finding_opsitem_targets
from components.account.threat_detection import GUARDDUTY_FEATURES, RUNTIME_AGENTS, security_hub_standard_arns

STACK = "organization"
"""Middle of every name this component gives (IAM path, key alias, topic, rules, analyzer)."""

# The service principals whose trusted access (`aws.organizations.Organization.aws_service_access_principals`)
# this component needs: GuardDuty and Security Hub designate their administrator through their own
# API; AWS Config's aggregator uses config.amazonaws.com and its organization rules and conformance
# packs config-multiaccountsetup.amazonaws.com (AWS Config Developer Guide, "Register a delegated
# administrator"; API Reference, PutConfigurationAggregator and PutOrganizationConformancePack); IAM
# Access Analyzer access-analyzer.amazonaws.com (IAM User Guide, "Delegated administrator for IAM Access
# Analyzer").
TRUSTED_SERVICE_PRINCIPALS = (
    "guardduty.amazonaws.com",
    "securityhub.amazonaws.com",
    "config.amazonaws.com",
    "config-multiaccountsetup.amazonaws.com",
    "access-analyzer.amazonaws.com",
)
CONFIG_DELEGATED_SERVICES = ("config.amazonaws.com", "config-multiaccountsetup.amazonaws.com")
ACCESS_ANALYZER_SERVICE = "access-analyzer.amazonaws.com"

# The organization aggregator's role: AWS Config Developer Guide, "Setting up an aggregator using the
# AWS CLI" (organization source) and the SDK docstring of `cfg.ConfigurationAggregator`.
CONFIG_ORGANIZATIONS_POLICY = "service-role/AWSConfigRoleForOrganizations"

# Rules of the account layer's HIPAA pack left out of the organization-wide pack, and why.
# internet-gateway-authorized-vpc-only takes one comma-separated list of authorized VPC ids
# (AWS Config managed rule INTERNET_GATEWAY_AUTHORIZED_VPC_ONLY, parameter AuthorizedVpcIds): an
# organization pack applies one parameter set to every account, and VPC ids differ per account.
# Without the parameter every attached internet gateway is NON_COMPLIANT, so every environment's
# public load balancer would be flagged. Each account layer's own pack keeps the rule with its VPC ids.
ORGANIZATION_EXCLUDED_RULES = {
    "internet-gateway-authorized-vpc-only":
        "its authorized VPC ids differ per account; the account layer's pack evaluates it",
}
CONFORMANCE_PACK_NAME = "hipaa-security-organization"


def organization_pack_template() -> str:
    """The account layer's HIPAA pack (same rule table, same generator), minus the per-account rules."""
    return template_body(rules=[rule for rule in load_rules()
                                if rule.name not in ORGANIZATION_EXCLUDED_RULES])


def linking(home_region: str, regions: Sequence[str]) -> tuple[str, list[str]]:
    """Security Hub's finding aggregator linking mode and linked Regions (botocore `securityhub`
    CreateFindingAggregator, RegionLinkingMode).

    No allowed Regions given: ALL_REGIONS, so a Region nobody expected is still aggregated. Allowed
    Regions given: SPECIFIED_REGIONS links exactly those other than the home Region (the guardrails deny
    the rest), or NO_REGIONS when the home Region is the only one.
    """
    if not regions:
        return "ALL_REGIONS", []
    linked = sorted(set(regions) - {home_region})
    return ("SPECIFIED_REGIONS", linked) if linked else ("NO_REGIONS", [])


@dataclass(frozen=True)
class CentralSecurityArgs:
    management_provider: pulumi.ProviderResource
    """The organization's management account (delegated administrator registrations)."""
    audit_provider: pulumi.ProviderResource
    """The audit (security tooling) account, in the home Region."""
    audit: AwsContext
    """The audit account and the home Region. The account id must be known at preview (an adopted
    account, or one recorded after the run that created it): key, topic and rule ARNs are built from it."""
    management_account_id: str
    organization_root_id: pulumi.Input[str]
    """The root (`r-...`) Security Hub's configuration policy is associated with."""
    trusted_access: pulumi.Resource
    """The `aws.organizations.Organization` whose service access principals include
    TRUSTED_SERVICE_PRINCIPALS."""
    alert_email: str
    key_administrators: Sequence[str]
    """Role ARNs in the audit account that administer the alert topic's key."""
    config_excluded_account_ids: Sequence[pulumi.Input[str]]
    """Accounts without an AWS Config recorder in the home Region. An organization conformance pack
    fails to create or update until every account it does not exclude records (SDK docstring of
    cfg.OrganizationConformancePack): the management, audit and log-archive accounts where no account
    layer runs, and an environment account until its stack's account layer has been deployed."""
    regions: Sequence[str] = ()
    """Regions the organization may use (the guardrails deny the others), the home Region among them:
    GuardDuty is administered in each, Security Hub and AWS Config aggregate from them. Empty: GuardDuty
    in the home Region only, Security Hub and AWS Config aggregate from all Regions."""


def validate(args: CentralSecurityArgs) -> None:
    """Refuse arguments AWS would refuse, before anything is created."""
    problems = []
    audit = args.audit.account_id
    if audit == args.management_account_id:
        # Security Hub User Guide, "Enabling central configuration": the management account cannot
        # be the delegated administrator for central configuration.
        problems.append(f"the audit account {audit} is the management account: central configuration "
                        "needs a member account as Security Hub's delegated administrator")
    if args.regions and args.audit.region not in args.regions:
        problems.append(f"the home Region {args.audit.region} is not among the allowed Regions "
                        f"{list(args.regions)}")
    if not args.key_administrators:
        problems.append("the alert topic's key needs at least one named administrator role")
    if not args.alert_email or "@" not in args.alert_email:
        problems.append(f"alert_email {args.alert_email!r} is not an email address")
    if problems:
        raise pulumi.RunError("CentralSecurity: " + "; ".join(problems))


class CentralSecurity(pulumi.ComponentResource):
    guardduty_detector_ids: dict[str, pulumi.Output[str]]
    """The audit account's GuardDuty detector in each Region."""
    security_hub_policy_id: pulumi.Output[str]
    """Security Hub's central configuration policy, associated with the root."""
    analyzer_arn: pulumi.Output[str]
    """The organization's IAM Access Analyzer."""
    topic_arn: pulumi.Output[str]
    """The encrypted SNS topic high-severity findings go to."""

    def __init__(self, name: str, args: CentralSecurityArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("hipaa:organization:CentralSecurity", name, None, opts)
        validate(args)
        self._name = name
        self._args = args
        self._regions = sorted(set(args.regions) | {args.audit.region})
        self._guardduty()
        self._security_hub()
        self._config()
        self._access_analyzer()
        self._finding_routing()
        self.register_outputs({
            "security_hub_policy_id": self.security_hub_policy_id,
            "analyzer_arn": self.analyzer_arn,
            "topic_arn": self.topic_arn,
        })

    def _management(self, *depends_on: pulumi.Resource) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self, provider=self._args.management_provider,
                                      depends_on=[self._args.trusted_access, *depends_on])

    def _audit(self, *depends_on: pulumi.Resource, retain: bool = False) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self, provider=self._args.audit_provider,
                                      depends_on=list(depends_on) or None, retain_on_delete=retain or None)

    def _guardduty(self) -> None:
        """GuardDuty is regional: the administrator is designated, and members auto-enabled, in each
        Region (GuardDuty User Guide, "Designating a delegated GuardDuty administrator account":
        recommended in every Region where GuardDuty is enabled)."""
        name, audit = self._name, self._args.audit
        self.guardduty_detector_ids = {}
        for region in self._regions:
            prefix = f"{name}-guardduty-{region}"
            # Kept on destroy: deleting the administrator's detector deletes its findings.
            detector = aws.guardduty.Detector(
                prefix, enable=True, finding_publishing_frequency="FIFTEEN_MINUTES", region=region,
                opts=self._audit(retain=True))
            # The management account is covered only with a detector of its own: auto-enable does not
            # add a management account that has none (the pulumi-aws OrganizationAdminAccount example
            # creates one there; reported in superwerker/superwerker#84). Kept on destroy, as above.
            management_detector = aws.guardduty.Detector(
                f"{prefix}-management", enable=True, finding_publishing_frequency="FIFTEEN_MINUTES",
                region=region, opts=pulumi.ResourceOptions.merge(
                    self._management(), pulumi.ResourceOptions(retain_on_delete=True)))
            admin = aws.guardduty.OrganizationAdminAccount(
                prefix, admin_account_id=audit.account_id, region=region,
                opts=self._management(detector, management_detector))
            # SDK docstring: the organization configuration takes the administrator's detector id
            # and needs the account designated first.
            configuration = aws.guardduty.OrganizationConfiguration(
                prefix, detector_id=detector.id, auto_enable_organization_members="ALL", region=region,
                opts=self._audit(admin))
            for feature in GUARDDUTY_FEATURES:
                agents = None
                if feature == "RUNTIME_MONITORING":
                    agents = [aws.guardduty.OrganizationConfigurationFeatureAdditionalConfigurationArgs(
                        name=agent, auto_enable="ALL") for agent in RUNTIME_AGENTS]
                aws.guardduty.OrganizationConfigurationFeature(
                    f"{prefix}-{feature.lower().replace('_', '-')}", detector_id=detector.id,
                    name=feature, auto_enable="ALL", additional_configurations=agents, region=region,
                    opts=self._audit(configuration))
            self.guardduty_detector_ids[region] = detector.id

    def _security_hub(self) -> None:
        name, audit = self._name, self._args.audit
        prefix = f"{name}-securityhub"
        # The administrator's own hub, before the designation (module docstring, step 2). Its
        # standards come from the configuration policy below, which covers it too.
        hub = aws.securityhub.Account(
            prefix, enable_default_standards=False, auto_enable_controls=True,
            control_finding_generator="SECURITY_CONTROL", opts=self._audit(retain=True))
        # Designated in the home Region (Security Hub User Guide, "Enabling central configuration":
        # "designate your delegated administrator in your intended home Region"), whatever Region the
        # management provider defaults to.
        admin = aws.securityhub.OrganizationAdminAccount(
            prefix, admin_account_id=audit.account_id, region=audit.region, opts=self._management(hub))
        mode, linked = linking(audit.region, self._args.regions)
        # From the home Region only (botocore `securityhub` CreateFindingAggregator), which is the
        # audit provider's Region.
        aggregator = aws.securityhub.FindingAggregator(
            prefix, linking_mode=mode, specified_regions=linked or None, opts=self._audit(admin))
        # Central configuration: AutoEnable is false and cannot be changed, and AutoEnableStandards
        # must be NONE (botocore `securityhub` UpdateOrganizationConfiguration; SDK docstring of
        # OrganizationConfigurationOrganizationConfigurationArgs.configuration_type).
        central = aws.securityhub.OrganizationConfiguration(
            prefix, auto_enable=False, auto_enable_standards="NONE",
            organization_configuration=aws.securityhub.OrganizationConfigurationOrganizationConfigurationArgs(
                configuration_type="CENTRAL"),
            opts=self._audit(aggregator))
        # The account layer's standards (components/account/threat_detection.py), in the home Region's ARNs;
        # the policy applies in the home and linked Regions (Security Hub User Guide, "Central
        # configuration and cross-Region aggregation"). No HIPAA standard exists in Security Hub.
        policy = aws.securityhub.ConfigurationPolicy(
            prefix, name="hipaa-aws-organization",
            description="Security Hub on, with the account layer's standards, in every account",
            configuration_policy=aws.securityhub.ConfigurationPolicyConfigurationPolicyArgs(
                service_enabled=True,
                enabled_standard_arns=sorted(security_hub_standard_arns(audit).values()),
                security_controls_configuration=aws.securityhub.ConfigurationPolicyConfigurationPolicySecurityControlsConfigurationArgs(
                    disabled_control_identifiers=[])),
            opts=self._audit(central))
        aws.securityhub.ConfigurationPolicyAssociation(
            prefix, target_id=self._args.organization_root_id, policy_id=policy.id, opts=self._audit(policy))
        self.security_hub_policy_id = policy.id

    def _config(self) -> None:
        name, audit = self._name, self._args.audit
        registrations = {
            service: aws.organizations.DelegatedAdministrator(
                f"{name}-{service.split('.')[0]}", account_id=audit.account_id, service_principal=service,
                opts=self._management())
            for service in CONFIG_DELEGATED_SERVICES}
        role = aws.iam.Role(
            f"{name}-config-aggregator", path=iam_path(STACK),
            description="AWS Config reads the organization's accounts for the organization aggregator",
            assume_role_policy=service_trust_policy("config.amazonaws.com", audit),
            opts=self._audit())
        managed = aws.iam.RolePolicyAttachment(
            f"{name}-config-aggregator", role=role.name,
            policy_arn=f"arn:{audit.partition}:iam::aws:policy/{CONFIG_ORGANIZATIONS_POLICY}",
            opts=self._audit())
        aws.cfg.ConfigurationAggregator(
            f"{name}-config", name="hipaa-aws-organization",
            organization_aggregation_source=aws.cfg.ConfigurationAggregatorOrganizationAggregationSourceArgs(
                role_arn=role.arn, regions=list(self._regions) if self._args.regions else None,
                all_regions=None if self._args.regions else True),
            opts=self._audit(registrations["config.amazonaws.com"], managed))
        aws.cfg.OrganizationConformancePack(
            f"{name}-hipaa", name=CONFORMANCE_PACK_NAME, template_body=organization_pack_template(),
            excluded_accounts=list(self._args.config_excluded_account_ids) or None,
            opts=self._audit(registrations["config-multiaccountsetup.amazonaws.com"]))

    def _access_analyzer(self) -> None:
        name, audit = self._name, self._args.audit
        registration = aws.organizations.DelegatedAdministrator(
            f"{name}-access-analyzer", account_id=audit.account_id, service_principal=ACCESS_ANALYZER_SERVICE,
            opts=self._management())
        analyzer = aws.accessanalyzer.Analyzer(
            f"{name}-organization", analyzer_name="hipaa-aws-organization", type="ORGANIZATION",
            opts=self._audit(registration))
        self.analyzer_arn = analyzer.arn

    def _finding_routing(self) -> None:
        """High-severity findings of every member account, seen by the administrator in the home
        Region, to an encrypted topic. Security Hub sends the administrator the findings of its
        members and, in the home Region, of the linked Regions (Security Hub User Guide, "Types of
        Security Hub integration with EventBridge"); GuardDuty findings are imported into Security
        Hub, so those of other Regions arrive through the Security Hub rule."""
        name, audit = self._name, self._args.audit
        keys = KeyRing(f"{name}-keys", KeyRingArgs(
            stack=STACK, aws=audit, administrators=self._args.key_administrators,
            purposes=(purpose("alerting"),), alias_scope=STACK, retain_on_delete=True),
            opts=pulumi.ResourceOptions(parent=self, providers=[self._args.audit_provider]))
        topic_name = f"hipaa-aws-{STACK}-security-findings"
        topic_arn = audit.arn("sns", topic_name)  # known at preview, so the policy can be judged
        topic = aws.sns.Topic(f"{name}-findings", name=topic_name, kms_master_key_id=keys.arn("alerting"),
                              opts=self._audit())
        rule_names = {key: f"hipaa-aws-{STACK}-{key}" for key in FINDING_RULES}
        aws.sns.TopicPolicy(f"{name}-findings", arn=topic.arn, policy=alert_topic_policy(
            audit, topic_arn, alarms=False,
            rule_arns=[audit.arn("events", f"rule/{rule}") for rule in rule_names.values()]),
            opts=self._audit())
        aws.sns.TopicSubscription(f"{name}-findings", topic=topic.arn, protocol="email",
                                  endpoint=self._args.alert_email, opts=self._audit())
        rules = {}
        for key, (description, pattern) in FINDING_RULES.items():
            rule = aws.cloudwatch.EventRule(
                f"{name}-{key}", name=rule_names[key], description=f"{description} (whole organization)",
                event_pattern=json.dumps(pattern), opts=self._audit())
            aws.cloudwatch.EventTarget(f"{name}-{key}", rule=rule.name, arn=topic.arn, opts=self._audit())
            rules[key] = rule
        # The breach clock for the whole organization: the delegated administrator sees every member's
        # findings, so each opens an OpsItem here, in the security team's account, stamped with the
        # time EventBridge received it (incident_response.py).
        finding_opsitem_targets(name, audit, STACK, rules, self,
                                opts=pulumi.ResourceOptions(provider=self._args.audit_provider))
        self.topic_arn = topic.arn

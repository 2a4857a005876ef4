"""The AWS organization hipaa-aws runs in (run once, from the organization's management account;
or adopt an existing organization, with or without AWS Control Tower):

- the organization (all features; SCPs, RCPs and tag policies enabled; trusted access for the
  services run organization-wide), OUs Security, Infrastructure, Workloads (PHI, NonPHI) and
  Suspended, a log archive and an audit account, one member account per environment stack
  (components/organization/structure.py); nothing here ever closes an account;
- one provider per member account, assuming the organization access role there
  (components/organization/providers.py);
- the guardrails (SCPs, RCP, tag policy), the organization trail into the log-archive account and the
  central security services run by the audit account (components/organization/guardrails.py,
  organization_trail.py, security_services.py);
- the exports each environment stack pins itself to (`aws:allowedAccountIds`).

With `controlTower: true` the project relies on what the landing zone already provides and does not
create it again: the organization itself (adopted: existingOrganization), the Security OU with its log
archive and audit accounts (adopted by id), the `AWSControlTowerExecution` role in every enrolled
account (the providers assume it; accounts created here get it as their Organizations role, so they
can be enrolled), the landing zone's organization trail (its "organization logging" must be on; the
guardrails protect its name) and its AWS Config recorders and delivery channels in enrolled accounts.
Trusted access for controltower.amazonaws.com is kept; every other principal Control Tower enabled
must be listed in existingOrganization.keepServiceAccessPrincipals. Accounts and OUs created here are
not enrolled in Control Tower until registered there.

Settings: components/organization/settings.py. Offline preflight:
`python -m preflight organization --project-dir organization`.
"""

import sys
from pathlib import Path

import pulumi

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the project's components/

from components.aws_context import AwsContext, lookup_aws_context  # noqa: E402
from components.organization.guardrails import Guardrails, GuardrailsArgs, OrganizationTargets  # noqa: E402
from components.organization.identity_center import (  # noqa: E402
    WorkforcePermissionSets, WorkforcePermissionSetsArgs, environment_workforce,
)
from components.organization.organization_alarms import (  # noqa: E402
    OrganizationAlarms, OrganizationAlarmsArgs, WatchedAccount, environment_account,
)
from components.organization.organization_trail import OrganizationTrail, OrganizationTrailArgs  # noqa: E402
from components.organization.providers import (  # noqa: E402
    MemberAccountProviders, MemberAccountProvidersArgs, management_provider,
)
from components.organization.security_services import CentralSecurity, CentralSecurityArgs  # noqa: E402
from components.organization.settings import OU_KEYS, load_organization_settings, program_stack_config  # noqa: E402
from components.organization.structure import (  # noqa: E402
    CONTROL_TOWER_PRINCIPAL, CONTROL_TOWER_ROLE, ORGANIZATION_ACCESS_ROLE, POLICY_TYPES,
    SERVICE_ACCESS_PRINCIPALS, MemberAccount, OrganizationStructure, OrganizationStructureArgs,
)
from components.tagging import register_tagging  # noqa: E402
from components.placeholders import refuse_placeholders_on_update  # noqa: E402

refuse_placeholders_on_update()  # `pulumi up` with an example value left (placeholders.yaml)
ctx = lookup_aws_context()  # the management account
settings, classifications = load_organization_settings(ctx.account_id)
register_tagging({"Environment": "organization", "DataClassification": "internal",
                  "Owner": settings.owner, "CostCenter": settings.cost_center, "ManagedBy": "pulumi"})

existing = settings.existing_organization
role_name = CONTROL_TOWER_ROLE if settings.control_tower else ORGANIZATION_ACCESS_ROLE
accounts = settings.accounts
members = [
    MemberAccount("logArchive", accounts.log_archive.email, accounts.log_archive.name, "security",
                  accounts.log_archive.id),
    MemberAccount("audit", accounts.audit.email, accounts.audit.name, "security", accounts.audit.id),
    *(MemberAccount(stack, account.email, account.name,
                    "workloadsPhi" if classifications[stack] == "phi" else "workloadsNonPhi", account.id)
      for stack, account in accounts.environments.items()),
]
structure = OrganizationStructure("organization", OrganizationStructureArgs(
    accounts=members, account_role_name=role_name,
    service_access_principals=[*SERVICE_ACCESS_PRINCIPALS,
                               *([CONTROL_TOWER_PRINCIPAL] if settings.control_tower else []),
                               *(existing.keep_service_access_principals if existing else ())],
    policy_types=[*POLICY_TYPES, *(existing.keep_policy_types if existing else ())],
    ou_names={key: settings.ou_name(key) for key in OU_KEYS},
    adopted_ous={key: ou_id for key in settings.ous if (ou_id := settings.ou_id(key))},
    existing_organization_id=existing.organization_id if existing else None,
    existing_root_id=existing.root_id if existing else None))

member_providers = MemberAccountProviders("member", MemberAccountProvidersArgs(
    account_ids=structure.account_ids, role_name=role_name, partition=ctx.partition,
    region=settings.home_region))
providers = member_providers.providers
management = management_provider("management", ctx.account_id, settings.home_region)


def member_context(account_id: str) -> AwsContext:
    return AwsContext(account_id=account_id, region=settings.home_region, partition=ctx.partition,
                      dns_suffix=ctx.dns_suffix)


def access_role(account_id: str) -> str:
    """The role the member account's provider assumes: it deploys there, so it administers the keys."""
    return f"arn:{ctx.partition}:iam::{account_id}:role/{role_name}"


# Control Tower keeps its own organization trail, whose name the guardrails protect instead of this
# project's (the name landing zones use, as reported; check `aws cloudtrail describe-trails`).
TRAIL_NAME = "aws-controltower-BaselineCloudTrail" if settings.control_tower else "hipaa-aws-organization"
ou = structure.ou_ids
guardrails = Guardrails("guardrails", GuardrailsArgs(
    management_provider=management,
    targets=OrganizationTargets(root=structure.root_id, security=ou["security"],
                                infrastructure=ou["infrastructure"], workloads=ou["workloads"],
                                workloads_phi=ou["workloadsPhi"], workloads_non_phi=ou["workloadsNonPhi"],
                                suspended=ou["suspended"]),
    organization_id=structure.organization_id, allowed_regions=list(settings.allowed_regions),
    organization_trail_name=TRAIL_NAME,
    # SCPs never apply to the management account, so its roles need no exemption; in member accounts
    # the organization access role and each account's platform administrator (bootstrap/, recovery
    # and teardown) may still stop or change the protected services.
    administrator_role_arns=[f"arn:{ctx.partition}:iam::*:role/{role_name}",
                             f"arn:{ctx.partition}:iam::*:role/hipaa-aws-platform-admin"],
    # Under Control Tower its own Region deny control governs Regions (the guardrails' docstring).
    region_deny=not settings.control_tower,
    organization=structure.organization))

# The trail and central security name accounts and the organization in documents built at preview:
# they need those ids as strings. A new organization's first `pulumi up` creates the organization and
# the accounts; copy the ids from its outputs into the stack file (existingOrganization and
# accounts.*.id: the resources are in the state already, so nothing is imported again) and run again.
# Each waits only for the ids it names: a new environment account added later changes neither.
trail_ids = settings.known_ids("logArchive")
if trail_ids and not settings.control_tower:
    trail = OrganizationTrail("organization-trail", OrganizationTrailArgs(
        stack=pulumi.get_stack(), management_provider=management,
        log_archive_provider=providers["logArchive"],
        management_account_id=ctx.account_id, log_archive_account_id=trail_ids["logArchive"],
        organization_id=trail_ids["organization"], home_region=settings.home_region,
        log_archive_key_administrators=[access_role(trail_ids["logArchive"])],
        management_key_administrators=list(settings.key_administrators),
        trail_name=TRAIL_NAME, partition=ctx.partition, dns_suffix=ctx.dns_suffix,
        trusted_access=[structure.organization]))
    pulumi.export("organizationTrailArn", trail.trail_arn)
    pulumi.export("organizationTrailBucket", trail.bucket_name)

    # Management events of every account reach the organization trail's log group only: the CIS
    # alarms, and per environment its port-forwarding, break-glass and key-administration alarms,
    # live there (an environment with accountBaseline: organization has none of its own).
    environment_configs = {stack: program_stack_config(stack) or {} for stack in accounts.environments}
    watched = [environment_account(stack, account.id, environment_configs[stack])
               for stack, account in accounts.environments.items()
               if account.id
               and environment_configs[stack].get("hipaa-aws:accountBaseline") == "organization"]
    shared = [WatchedAccount("logarchive", trail_ids["logArchive"], (access_role(trail_ids["logArchive"]),),
                             environment=False)]
    if accounts.audit.id:
        shared.append(WatchedAccount("audit", accounts.audit.id, (access_role(accounts.audit.id),),
                                     environment=False))
    workforce = ([w for stack, account in accounts.environments.items() if account.id
                  and (w := environment_workforce(stack, account.id, environment_configs[stack],
                                                  settings.identity_center.instance_arn))]
                 if settings.identity_center else [])
    organization_alarms = OrganizationAlarms("organization-alarms", OrganizationAlarmsArgs(
        management_provider=management, management=member_context(ctx.account_id),
        log_group_name=trail.log_group_name, alert_email=settings.security_alert_email,
        key_administrators=list(settings.key_administrators), environments=watched,
        shared_accounts=shared,
        # Each environment's break-glass sign-in filter goes on the same log group (100 filters at most).
        other_metric_filters=sum(1 for w in workforce if w.alarm_in_organization_trail)))
    pulumi.export("organizationAlertsTopicArn", organization_alarms.topic_arn)
    if settings.identity_center and workforce:
        WorkforcePermissionSets("workforce", WorkforcePermissionSetsArgs(
            identity_center_provider=management_provider(
                "identity-center", ctx.account_id, settings.identity_center.region),
            instance_arn=settings.identity_center.instance_arn, partition=ctx.partition,
            management_account_id=ctx.account_id, environments=workforce,
            organization_trail_alarms=organization_alarms.trail_alarms))
elif not settings.control_tower:
    pulumi.log.warn("the organization trail waits for existingOrganization and accounts.logArchive.id "
                    "(from this stack's outputs): set them and run again")
security_ids = settings.known_ids("audit", "logArchive")
if security_ids:
    security = CentralSecurity("central-security", CentralSecurityArgs(
        management_provider=management, audit_provider=providers["audit"],
        audit=member_context(security_ids["audit"]), management_account_id=ctx.account_id,
        organization_root_id=security_ids["root"],
        trusted_access=structure.organization, alert_email=settings.security_alert_email,
        key_administrators=[access_role(security_ids["audit"])], regions=list(settings.allowed_regions),
        # No account layer (so no Config recorder) runs in the management, audit and log-archive
        # accounts; under Control Tower, its baseline records in the audit and log-archive accounts.
        config_excluded_account_ids=[ctx.account_id, *(
            [] if settings.control_tower else [security_ids["audit"], security_ids["logArchive"]]),
            *settings.accounts_without_config_recorder]))
    pulumi.export("securityFindingsTopicArn", security.topic_arn)
else:
    pulumi.log.warn("the central security services wait for existingOrganization, accounts.audit.id and "
                    "accounts.logArchive.id (from this stack's outputs): set them and run again")

pulumi.export("managementAccountId", ctx.account_id)
pulumi.export("organizationId", structure.organization_id)
pulumi.export("rootId", structure.root_id)
pulumi.export("ouIds", structure.ou_ids)
pulumi.export("logArchiveAccountId", structure.account_ids["logArchive"])
pulumi.export("auditAccountId", structure.account_ids["audit"])
# Each environment stack's `aws:allowedAccountIds: ["<id>"]`.
pulumi.export("environmentAccountIds",
              {stack: structure.account_ids[stack] for stack in accounts.environments})
pulumi.export("accountRoleArns", member_providers.role_arns)

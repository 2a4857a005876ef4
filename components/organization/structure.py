"""The organization, its OUs and its member accounts (run from the management account).

- The organization: all features (`feature_set="ALL"`, which SCPs, RCPs and tag policies need), the
  trusted-access principals of the services the organization project runs organization-wide, and
  the policy types it attaches. Both lists are managed as a whole by the provider: a principal or a
  policy type enabled today and missing from them is switched off by `pulumi up`, so an adopted
  organization lists what it keeps (`existingOrganization.keepServiceAccessPrincipals`,
  `keepPolicyTypes`; `aws organizations list-aws-service-access-for-organization` shows them).
  Adopted with the `import` resource option (import id `o-...`, SDK docstring of
  `aws.organizations.Organization`), then protected and retained: nothing here deletes it. An
  organization with consolidated billing only must enable all features first (Organizations asks
  every member account to approve), outside this program.
- OUs under the root: Security (log archive, audit), Infrastructure, Workloads with PHI and NonPHI
  under it, Suspended. An OU that exists already is adopted by id (`ous.<ou>.id`), e.g. Control
  Tower's Security OU.
- Member accounts: created, or adopted by id with the `import` option (Pulumi imports, then moves the
  account into its OU; pulumi/pulumi#19339 made an import with a difference succeed and update).
  An account is never closed by this program: `close_on_deletion=False` (the provider's delete then
  only calls RemoveAccountFromOrganization), and `retain_on_delete=True` and `protect=True` so that
  neither a destroy nor a replacement ever reaches that call. Organizations cannot read back the
  role name or the billing-access setting after creation, and the provider replaces the account when
  email, name, role name or billing access change (its schema marks them ForceNew; SDK docstring of
  `aws.organizations.Account`): those are in `ignore_changes`. Rename an account or change its root
  email in the console (Account Management), never here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Optional

import pulumi
import pulumi_aws as aws

from .settings import DEFAULT_OU_NAMES, OU_KEYS, OU_PARENTS

# Trusted access (AWS Organizations user guide, "AWS services that you can use with AWS Organizations"
# and each service's page there) for what the organization project runs organization-wide:
SERVICE_ACCESS_PRINCIPALS: tuple[str, ...] = (
    "cloudtrail.amazonaws.com",                      # the organization trail
    "config.amazonaws.com",                          # organization-wide aggregator
    "config-multiaccountsetup.amazonaws.com",        # organization Config rules and conformance packs
    "guardduty.amazonaws.com",                       # GuardDuty with a delegated administrator
    "malware-protection.guardduty.amazonaws.com",    # GuardDuty Malware Protection's service-linked role
    "securityhub.amazonaws.com",                     # Security Hub with a delegated administrator
    "access-analyzer.amazonaws.com",                 # an ORGANIZATION analyzer in the audit account
    "sso.amazonaws.com",                             # IAM Identity Center's organization instance
)
# Control Tower's own principal (Organizations user guide, "AWS Control Tower and AWS Organizations").
CONTROL_TOWER_PRINCIPAL = "controltower.amazonaws.com"
POLICY_TYPES: tuple[str, ...] = ("SERVICE_CONTROL_POLICY", "RESOURCE_CONTROL_POLICY", "TAG_POLICY")

# The role Organizations creates in a new member account (CreateAccount RoleName's default) and the
# one Control Tower has Organizations create and uses in every enrolled account (Control Tower user
# guide, "How AWS Control Tower works with roles to create and manage accounts").
ORGANIZATION_ACCESS_ROLE = "OrganizationAccountAccessRole"
CONTROL_TOWER_ROLE = "AWSControlTowerExecution"
# Inputs Organizations cannot change (or read back) after CreateAccount; see the module docstring.
ACCOUNT_CREATE_ONLY = ["email", "name", "roleName", "iamUserAccessToBilling"]


@dataclass(frozen=True)
class MemberAccount:
    """One member account: its role in the organization, its OU, and how it comes to exist."""

    key: str
    """logArchive, audit, or the environment stack's name."""
    email: str
    name: Optional[str]
    """None only for an adopted account (its name is then left as it is)."""
    ou: str
    """The OU key (settings.OU_KEYS) it belongs in."""
    id: Optional[str] = None
    """Adopt this existing account (imported); None creates it."""


@dataclass(frozen=True)
class OrganizationStructureArgs:
    accounts: Sequence[MemberAccount]
    account_role_name: str = ORGANIZATION_ACCESS_ROLE
    """The role Organizations creates in each new account (the providers assume it)."""
    service_access_principals: Sequence[str] = SERVICE_ACCESS_PRINCIPALS
    policy_types: Sequence[str] = POLICY_TYPES
    ou_names: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_OU_NAMES))
    adopted_ous: Mapping[str, str] = field(default_factory=dict)
    """OU key -> the id of an existing OU to import."""
    existing_organization_id: Optional[str] = None
    """Adopt this organization (o-...); with it, existing_root_id."""
    existing_root_id: Optional[str] = None


def validate_structure_args(args: OrganizationStructureArgs) -> None:
    """Refuse what AWS or this design would refuse, before any resource is registered."""
    problems = []
    if (args.existing_organization_id is None) != (args.existing_root_id is None):
        problems.append("existing_organization_id and existing_root_id go together")
    keys = [a.key for a in args.accounts]
    if len(set(keys)) != len(keys):
        problems.append(f"account keys must be unique: {keys}")
    for account in args.accounts:
        if account.ou not in OU_KEYS:
            problems.append(f"account {account.key}: OU {account.ou!r} is not one of {', '.join(OU_KEYS)}")
    unknown_ous = [k for k in args.adopted_ous if k not in OU_KEYS]
    if unknown_ous:
        problems.append(f"adopted OUs {unknown_ous} are not among {', '.join(OU_KEYS)}")
    if args.adopted_ous and args.existing_organization_id is None:
        problems.append("an OU can be adopted only in an adopted organization")
    if problems:
        raise pulumi.RunError("OrganizationStructure: " + "; ".join(problems))


class OrganizationStructure(pulumi.ComponentResource):
    organization_id: pulumi.Output[str]
    """The organization's id (o-...)."""
    root_id: pulumi.Output[str]
    """The root's id (r-...), parent of the top-level OUs."""
    ou_ids: dict[str, pulumi.Output[str]]
    """OU key (settings.OU_KEYS) -> its id."""
    account_ids: dict[str, pulumi.Output[str]]
    """Member account key (logArchive, audit, environment stack) -> its 12-digit id."""
    accounts: dict[str, aws.organizations.Account]
    organization: aws.organizations.Organization
    """The organization (what trusted access and the enabled policy types depend on)."""

    def __init__(self, name: str, args: OrganizationStructureArgs,
                 opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("hipaa:components:OrganizationStructure", name, None, opts)
        validate_structure_args(args)
        adopting = args.existing_organization_id is not None
        organization = aws.organizations.Organization(
            name, feature_set="ALL",
            aws_service_access_principals=sorted(set(args.service_access_principals)),
            enabled_policy_types=sorted(set(args.policy_types)),
            opts=pulumi.ResourceOptions(parent=self, protect=True, retain_on_delete=True,
                                        import_=args.existing_organization_id))
        self.organization = organization
        self.organization_id = organization.id
        if adopting:
            self.root_id = pulumi.Output.from_input(str(args.existing_root_id))
        else:
            self.root_id = organization.roots.apply(lambda roots: str(roots[0].id))

        self.ou_ids = {}
        for key in OU_KEYS:  # parents come before their children
            parent_key = OU_PARENTS[key]
            parent_id = self.root_id if parent_key is None else self.ou_ids[parent_key]
            ou = aws.organizations.OrganizationalUnit(
                f"{name}-{key}", name=args.ou_names.get(key, DEFAULT_OU_NAMES[key]), parent_id=parent_id,
                # Created after the organization (its policy types and trusted access in place).
                opts=pulumi.ResourceOptions(parent=self, protect=True, depends_on=[organization],
                                            import_=args.adopted_ous.get(key)))
            self.ou_ids[key] = ou.id

        self.accounts = {}
        self.account_ids = {}
        for account in args.accounts:
            resource = aws.organizations.Account(
                f"{name}-{account.key}", email=account.email, name=account.name,  # name: None keeps it
                parent_id=self.ou_ids[account.ou], role_name=args.account_role_name,
                iam_user_access_to_billing="DENY", close_on_deletion=False,
                opts=pulumi.ResourceOptions(parent=self, protect=True, retain_on_delete=True,
                                            ignore_changes=ACCOUNT_CREATE_ONLY, import_=account.id))
            self.accounts[account.key] = resource
            self.account_ids[account.key] = resource.id

        self.register_outputs({"organizationId": self.organization_id, "rootId": self.root_id,
                               "ouIds": self.ou_ids, "accountIds": self.account_ids})

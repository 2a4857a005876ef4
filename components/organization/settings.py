"""Typed, validated settings of the organization project (`organization/`), read once.

Every problem is reported in one `pulumi.RunError` naming the stack, the key, the bad value and
what is allowed; an unknown key is refused with the keys its object allows.

Accounts are created (`{email, name}`) or adopted (`{id, email}`, the name optional: the program
imports the account with the `import` resource option, keeps its email and name as Organizations has
them, and only moves it into its OU). After the first `pulumi up` of a new organization, its id, root
id and the new account ids go into the stack file the same way (the resources are in the state
already, so nothing is imported again): the organization trail and the central security services
name them in documents built at preview. Each environment stack of the
hipaa-aws program (`stacks/Pulumi.<stack>.yaml`) gets its own account, one entry in
`accounts.environments`; its OU (Workloads/PHI or Workloads/NonPHI) follows that stack file's
`hipaa-aws:dataClassification`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, Optional

import pulumi
import pulumi.runtime.config as runtime_config
import yaml
from botocore.loaders import create_loader
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from components import aws_regions

NAMESPACE = "hipaa-aws-organization"
# The hipaa-aws program's stack files, whose dataClassification places each environment account.
PROGRAM_NAMESPACE = "hipaa-aws"
PROGRAM_STACKS_DIR = Path(__file__).resolve().parent.parent.parent / "stacks"

# botocore `organizations` model: CreateAccountRequest.Email / AccountName, AccountId, RootId,
# OrganizationId, OrganizationalUnitId / Name, ServicePrincipal, PolicyType.
_ORGANIZATIONS = create_loader().load_service_model("organizations", "service-2")["shapes"]
EMAIL_PATTERN = _ORGANIZATIONS["Email"]["pattern"]
ACCOUNT_NAME_PATTERN = _ORGANIZATIONS["CreateAccountName"]["pattern"]
ACCOUNT_ID_PATTERN = _ORGANIZATIONS["AccountId"]["pattern"]
ROOT_ID_PATTERN = _ORGANIZATIONS["RootId"]["pattern"]
ORGANIZATION_ID_PATTERN = _ORGANIZATIONS["OrganizationId"]["pattern"]
OU_ID_PATTERN = _ORGANIZATIONS["OrganizationalUnitId"]["pattern"]
SERVICE_PRINCIPAL_PATTERN = r"[\w+=,.@-]+\.amazonaws\.com"

POLICY_TYPES: tuple[str, ...] = tuple(_ORGANIZATIONS["PolicyType"]["enum"])

# The bootstrap's rule for stack names (bootstrap/ci_roles.py STACK_PATTERN): each environment also
# gets CI roles there.
STACK_PATTERN = r"[a-z][a-z0-9]{1,11}"

# The OUs, their default names and parents (None: the root).
OU_KEYS = ("security", "infrastructure", "workloads", "workloadsPhi", "workloadsNonPhi", "suspended")
OuKey = Literal["security", "infrastructure", "workloads", "workloadsPhi", "workloadsNonPhi", "suspended"]
DEFAULT_OU_NAMES = {"security": "Security", "infrastructure": "Infrastructure", "workloads": "Workloads",
                    "workloadsPhi": "PHI", "workloadsNonPhi": "NonPHI", "suspended": "Suspended"}
OU_PARENTS: dict[str, Optional[str]] = {"security": None, "infrastructure": None, "workloads": None,
                                        "workloadsPhi": "workloads", "workloadsNonPhi": "workloads",
                                        "suspended": None}

# What each top-level key allows (the error message's "expected ...").
ALLOWED = {
    "owner": "the accountable team's email address (Owner tag)",
    "costCenter": "the cost center (CostCenter tag)",
    "homeRegion": "one of allowedRegions: where the member-account providers and the central services run",
    "allowedRegions": "a list of AWS regions of one partition (botocore's list), including homeRegion",
    "securityAlertEmail": "the email address that receives security findings",
    "accounts": "{logArchive: ACCOUNT, audit: ACCOUNT, environments: {<stack>: ACCOUNT}} where ACCOUNT is "
                "{email, name} to create or {id, email} to adopt",
    "keyAdministratorRoleArns": "a list of IAM role ARNs of the management account that administer its KMS "
                                "keys (must include the role that runs this project)",
    "existingOrganization": "{organizationId: o-..., rootId: r-..., keepServiceAccessPrincipals: [...], "
                            "keepPolicyTypes: [...]} to adopt an organization (omit to create one)",
    "controlTower": "true when an AWS Control Tower landing zone governs the organization, else false",
    "ous": f"{{<ou>: {{name, id}}}} with <ou> one of {', '.join(OU_KEYS)}",
    "accountsWithoutConfigRecorder": "a list of the 12-digit ids of other member accounts that do not record "
                                      "with AWS Config (the organization conformance pack excludes them)",
    "identityCenter": "{instanceArn: arn:aws:sso:::instance/ssoins-..., region: <the instance's region>} to "
                      "create the environments' permission sets here",
}
_OBJECT_KEYS = ("allowedRegions", "accounts", "existingOrganization", "ous", "keyAdministratorRoleArns",
                "accountsWithoutConfigRecorder",
                "identityCenter")
# What a nested value allows, by its key (shown when a pattern or length rule refuses it).
FIELD_RULES = {
    "id": "a 12-digit account id in quotes (an OU's id: ou-<4 to 32>-<8 to 32 lowercase letters or "
          "digits>)",
    "email": "an email address of 6 to 64 characters (an account's root user email; unused by any AWS "
             "account when the account is created)",
    "name": "1 to 50 printable ASCII characters (an OU's name: 1 to 128 characters)",
    "organizationId": "o- then 10 to 32 lowercase letters or digits",
    "rootId": "r- then 4 to 32 lowercase letters or digits",
    "dataClassification": "phi or synthetic",
}
CROSS_KEY_SEPARATOR = "\n"
# An IAM role ARN, with its path (bootstrap and program settings use the same rule).
IAM_ROLE_ARN = r"arn:aws[a-z-]*:iam::(?P<account>\d{12}):role/[\w+=,.@/-]{1,512}"


class _Strict(BaseModel):
    """Frozen; an unknown key is refused with the keys this object allows."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    @model_validator(mode="before")
    @classmethod
    def _known_keys(cls, data: Any) -> Any:
        if isinstance(data, Mapping):
            allowed = [f.alias or name for name, f in cls.model_fields.items()]
            unknown = [k for k in data if k not in allowed]
            if unknown:
                raise ValueError(f"unknown key(s) {', '.join(map(repr, unknown))}; allowed keys: "
                                 f"{', '.join(allowed)}")
        return data


class AccountSettings(_Strict):
    """A member account: created ({email, name}) or adopted ({id, email}; name optional)."""

    id: Optional[str] = Field(None, pattern=ACCOUNT_ID_PATTERN)
    email: str = Field(min_length=6, max_length=64, pattern=f"^{EMAIL_PATTERN}$")
    name: Optional[str] = Field(None, min_length=1, max_length=50, pattern=f"^{ACCOUNT_NAME_PATTERN}$")

    @model_validator(mode="after")
    def _name_to_create(self) -> AccountSettings:
        if self.id is None and self.name is None:
            raise ValueError("a new account needs a name (or give the id of an existing account to adopt)")
        return self

    @property
    def adopted(self) -> bool:
        return self.id is not None


class EnvironmentAccount(AccountSettings):
    """An environment stack's account; dataClassification only when the stack has no stack file."""

    data_classification: Optional[Literal["phi", "synthetic"]] = Field(None, alias="dataClassification")


class Accounts(_Strict):
    log_archive: AccountSettings = Field(alias="logArchive")
    audit: AccountSettings
    environments: dict[str, EnvironmentAccount] = Field(min_length=1)

    @field_validator("environments")
    @classmethod
    def _stack_names(cls, value: dict[str, EnvironmentAccount]) -> dict[str, EnvironmentAccount]:
        bad = [s for s in value if not re.fullmatch(STACK_PATTERN, s)]
        if bad:
            raise ValueError(f"stack name(s) {', '.join(map(repr, bad))} not allowed; a stack name is "
                             f"{STACK_PATTERN} (the bootstrap's rule)")
        return value

    def all(self) -> dict[str, AccountSettings]:
        """Every member account by its role: logArchive, audit, then each environment by stack."""
        return {"logArchive": self.log_archive, "audit": self.audit, **self.environments}


# botocore `sso-admin` model: InstanceArn.
_SSO_ADMIN = create_loader().load_service_model("sso-admin", "service-2")["shapes"]
INSTANCE_ARN_PATTERN = _SSO_ADMIN["InstanceArn"]["pattern"]


class IdentityCenterInstance(_Strict):
    """The organization's IAM Identity Center instance, administered from the management account
    in the instance's region (components/organization/identity_center.py)."""
    instance_arn: str = Field(alias="instanceArn", pattern=f"^{INSTANCE_ARN_PATTERN}$")
    region: str

    @field_validator("region")
    @classmethod
    def _real_region(cls, value: str) -> str:
        if aws_regions.partition_of(value) is None:
            raise ValueError(aws_regions.known_regions_text(value))
        return value


class ExistingOrganization(_Strict):
    organization_id: str = Field(alias="organizationId", pattern=ORGANIZATION_ID_PATTERN)
    root_id: str = Field(alias="rootId", pattern=ROOT_ID_PATTERN)
    # The organization's trusted-access and policy-type lists are managed as a whole: anything enabled
    # today and not listed here (or among the project's own) is switched off by the first `pulumi up`.
    keep_service_access_principals: tuple[str, ...] = Field((), alias="keepServiceAccessPrincipals")
    keep_policy_types: tuple[str, ...] = Field((), alias="keepPolicyTypes")

    @field_validator("keep_service_access_principals")
    @classmethod
    def _principals(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        bad = [p for p in value if not re.fullmatch(SERVICE_PRINCIPAL_PATTERN, p) or len(p) > 128]
        if bad:
            raise ValueError(f"{', '.join(map(repr, bad))}: a service principal is <service>.amazonaws.com")
        return value

    @field_validator("keep_policy_types")
    @classmethod
    def _policy_types(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        bad = [p for p in value if p not in POLICY_TYPES]
        if bad:
            raise ValueError(f"{', '.join(map(repr, bad))}: allowed policy types (botocore): "
                             f"{', '.join(POLICY_TYPES)}")
        return value


class OuOverride(_Strict):
    name: Optional[str] = Field(None, min_length=1, max_length=128)
    id: Optional[str] = Field(None, pattern=OU_ID_PATTERN)


class OrganizationSettings(_Strict):
    """The organization stack's settings, validated once."""

    owner: str = Field(min_length=1)
    cost_center: str = Field(alias="costCenter", min_length=1)
    home_region: str = Field(alias="homeRegion")
    allowed_regions: tuple[str, ...] = Field(alias="allowedRegions", min_length=1)
    security_alert_email: str = Field(alias="securityAlertEmail", max_length=254,
                                      pattern=f"^{EMAIL_PATTERN}$")
    accounts: Accounts
    key_administrators: tuple[str, ...] = Field(alias="keyAdministratorRoleArns", min_length=1, max_length=10)
    existing_organization: Optional[ExistingOrganization] = Field(None, alias="existingOrganization")
    control_tower: bool = Field(False, alias="controlTower")
    identity_center: Optional[IdentityCenterInstance] = Field(None, alias="identityCenter")
    # The organization conformance pack fails to create or update while any account it does not
    # exclude has no AWS Config recorder (SDK docstring of cfg.OrganizationConformancePack): the other
    # accounts of an adopted organization (sandboxes, Suspended) that do not record.
    accounts_without_config_recorder: tuple[str, ...] = Field((), alias="accountsWithoutConfigRecorder")

    @field_validator("accounts_without_config_recorder")
    @classmethod
    def _account_ids(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        bad = [a for a in value if not re.fullmatch(ACCOUNT_ID_PATTERN, a)]
        if bad:
            raise ValueError(f"{', '.join(map(repr, bad))}: account ids are 12 digits, quoted")
        return value
    ous: dict[OuKey, OuOverride] = Field(default_factory=dict)

    @field_validator("allowed_regions")
    @classmethod
    def _regions(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [r for r in value if aws_regions.partition_of(r) is None]
        if unknown:
            raise ValueError(f"{', '.join(map(repr, unknown))}: not an AWS region; use "
                             f"{aws_regions.known_regions_text(unknown[0])}")
        if len({aws_regions.partition_of(r) for r in value}) > 1:
            raise ValueError("regions of more than one partition; an organization lives in one partition")
        if len(set(value)) != len(value):
            raise ValueError("a region is listed twice")
        return value

    @field_validator("key_administrators")
    @classmethod
    def _role_arns(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        bad = [arn for arn in value if not re.fullmatch(IAM_ROLE_ARN, arn)]
        if bad:
            raise ValueError(f"{', '.join(map(repr, bad))} not IAM role ARNs "
                             "(arn:aws:iam::<account>:role/<path><name>)")
        return value

    def known_ids(self, *roles: str) -> Optional[dict[str, str]]:
        """The organization's id (`organization`), its root's (`root`) and the ids of the member
        accounts `roles` (logArchive, audit, a stack) when the settings give them all (an adopted
        organization, or the run after the one that created them); else None."""
        existing = self.existing_organization
        accounts = self.accounts.all()
        found = {role: accounts[role].id for role in roles}
        if existing is None or not all(found.values()):
            return None
        return {"organization": existing.organization_id, "root": existing.root_id,
                **{role: str(account_id) for role, account_id in found.items()}}

    @model_validator(mode="after")
    def _consistent(self) -> OrganizationSettings:
        """Rules across keys; each problem starts with its key, all of them in one error."""
        problems = []
        if self.home_region not in self.allowed_regions:
            problems.append(f"homeRegion = {self.home_region!r} is not allowed: must be one of "
                            f"allowedRegions ({', '.join(self.allowed_regions)})")
        accounts = self.accounts.all()
        ids = [a.id for a in accounts.values() if a.id]
        emails = [a.email.lower() for a in accounts.values()]
        if len(set(ids)) != len(ids) or len(set(emails)) != len(emails):
            problems.append("accounts is not allowed: each account needs its own id and its own email "
                            "address (one environment per account)")
        if self.control_tower:
            if self.existing_organization is None:
                problems.append("controlTower = true needs existingOrganization: a Control Tower landing "
                                "zone runs in an existing organization; set existingOrganization")
            if not (self.accounts.log_archive.adopted and self.accounts.audit.adopted):
                problems.append("controlTower = true needs accounts.logArchive.id and accounts.audit.id: "
                                "adopt Control Tower's log archive and audit accounts")
            if self.ou_id("security") is None:
                # Moving the shared accounts out of Control Tower's Security OU is drift, and a second
                # OU of the same name under the root is refused (DuplicateOrganizationalUnitException).
                problems.append("controlTower = true needs ous.security.id: adopt Control Tower's Security "
                                "OU, where its log archive and audit accounts stay")
        if self.existing_organization is None and any(o.id for o in self.ous.values()):
            problems.append("ous.<ou>.id adopts an OU of an existing organization: set existingOrganization")
        if problems:
            raise ValueError(CROSS_KEY_SEPARATOR.join(problems))
        return self

    def ou_name(self, key: str) -> str:
        override = self.ous.get(key)  # type: ignore[call-overload]
        return (override.name if override and override.name else None) or DEFAULT_OU_NAMES[key]

    def ou_id(self, key: str) -> Optional[str]:
        override = self.ous.get(key)  # type: ignore[call-overload]
        return override.id if override else None


def _describe(value: Any) -> str:
    text = repr(value) if isinstance(value, str) else json.dumps(value, default=repr)
    return text if len(text) <= 100 else text[:97] + "..."


def _lookup(values: Mapping[str, Any], loc: tuple) -> Any:
    current: Any = values
    for part in loc:
        if isinstance(current, Mapping) and part in current:
            current = current[part]
        elif isinstance(current, (list, tuple)) and isinstance(part, int) and part < len(current):
            current = current[part]
        else:
            return None
    return current


def program_stack_config(stack: str, stacks_dir: Optional[Path] = None) -> Optional[Mapping[str, Any]]:
    """The `config` mapping of the program's stack file `stacks/Pulumi.<stack>.yaml` (None: no file)."""
    path = (stacks_dir or PROGRAM_STACKS_DIR) / f"Pulumi.{stack}.yaml"
    if not path.is_file():
        return None
    document = yaml.safe_load(path.read_text()) or {}
    config = document.get("config") if isinstance(document, Mapping) else None
    return config if isinstance(config, Mapping) else {}


def stack_classification(stack: str, stacks_dir: Optional[Path] = None) -> Optional[str]:
    """`hipaa-aws:dataClassification` of the program's stack file (None: no file or no value)."""
    value = (program_stack_config(stack, stacks_dir) or {}).get(f"{PROGRAM_NAMESPACE}:dataClassification")
    return value if isinstance(value, str) else None


def parse_organization_settings(stack: str, raw: Mapping[str, Any], management_account_id: str,
                                stacks_dir: Optional[Path] = None) -> tuple[OrganizationSettings,
                                                                                 dict[str, str]]:
    """The settings and each environment's data classification ("phi" or "synthetic"), from the raw
    config values (objects as JSON text). Raises one pulumi.RunError listing every problem."""
    problems: list[str] = []
    unknown = [k for k in raw if k not in ALLOWED]
    for key in unknown:
        problems.append(f"{NAMESPACE}:{key} is not a setting of this project; allowed: {', '.join(ALLOWED)}")
    values: dict[str, Any] = {}
    for key in ALLOWED:
        value = raw.get(key)
        if isinstance(value, str) and key in _OBJECT_KEYS:
            try:
                value = json.loads(value)
            except json.JSONDecodeError as err:
                problems.append(f"{NAMESPACE}:{key} = {_describe(value)}: not valid JSON ({err}); expected "
                                f"{ALLOWED[key]}")
                continue
        if isinstance(value, str) and key == "controlTower" and value in ("true", "false"):
            value = value == "true"
        if value is not None:
            values[key] = value
    settings: Optional[OrganizationSettings] = None
    try:
        settings = OrganizationSettings.model_validate(values)
    except ValidationError as err:
        for error in err.errors():
            loc: tuple[Any, ...] = tuple(error["loc"])
            where = ".".join(str(p) for p in loc) if loc else "(settings)"
            top = str(loc[0]) if loc else ""
            expected = f"; expected {ALLOWED[top]}" if top in ALLOWED and len(loc) == 1 else ""
            if error["type"] == "missing":
                problems.append(f"{NAMESPACE}:{where} is not set{expected or '; it is required'}")
                continue
            message = error["msg"].removeprefix("Value error, ")
            if not loc:  # rules across keys, each naming its key
                problems.extend(f"{NAMESPACE}:{line}" for line in message.split(CROSS_KEY_SEPARATOR))
                continue
            if len(loc) >= 2 and loc[-1] == "[key]":  # a map key that is not allowed (an OU name)
                parent, key = ".".join(str(p) for p in loc[:-2]), loc[-2]
                problems.append(f"{NAMESPACE}:{parent}: key {key!r} is not allowed: "
                                f"{message.removeprefix('Input should be ')}")
                continue
            leaf = str(error["loc"][-1])
            if error["type"].startswith(("string_", "too_")) and (leaf in FIELD_RULES or expected):
                message, expected = f"expected {FIELD_RULES.get(leaf) or ALLOWED[top]}", ""
            problems.append(f"{NAMESPACE}:{where} = {_describe(_lookup(values, loc))} is not allowed: "
                            f"{message}{expected}")
    classifications: dict[str, str] = {}
    if settings is not None:
        for stack_name, account in settings.accounts.environments.items():
            if account.id == management_account_id:
                problems.append(f"{NAMESPACE}:accounts.environments.{stack_name}.id = {account.id!r} is the "
                                "management account; each environment runs in its own member account")
            from_file = stack_classification(stack_name, stacks_dir)
            given = account.data_classification
            if from_file and given and from_file != given:
                problems.append(f"{NAMESPACE}:accounts.environments.{stack_name}.dataClassification = "
                                f"{given!r} is not allowed: stacks/Pulumi.{stack_name}.yaml says "
                                f"{from_file!r}; remove it (the stack file decides)")
            elif (from_file or given) not in ("phi", "synthetic"):
                problems.append(f"{NAMESPACE}:accounts.environments.{stack_name}: no data classification; "
                                f"stacks/Pulumi.{stack_name}.yaml has no hipaa-aws:dataClassification "
                                "(phi or synthetic), so set dataClassification: phi or synthetic here")
            else:
                classifications[stack_name] = str(from_file or given)
        for arn in settings.key_administrators:
            match = re.fullmatch(IAM_ROLE_ARN, arn)
            if match and match["account"] != management_account_id:
                problems.append(f"{NAMESPACE}:keyAdministratorRoleArns: {arn!r} is not a role of the "
                                f"management account {management_account_id}; the management account's "
                                "keys are administered by its own roles")
        shared = (("logArchive", settings.accounts.log_archive), ("audit", settings.accounts.audit))
        for role, account in shared:
            if account.id == management_account_id:
                problems.append(f"{NAMESPACE}:accounts.{role}.id = {account.id!r} is the management "
                                "account; the log archive and audit accounts are member accounts")
    if problems or settings is None:
        lines = "\n".join(f"  - {p}" for p in problems)
        raise pulumi.RunError(f"stack '{stack}': {len(problems)} invalid organization setting(s) in "
                              f"organization/Pulumi.{stack}.yaml; nothing was created:\n{lines}")
    return settings, classifications


def configured_keys() -> dict[str, Any]:
    """Every `hipaa-aws-organization:*` key the engine passed to the program, with its raw value."""
    raw = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    prefix = f"{NAMESPACE}:"
    return {k[len(prefix):]: v for k, v in raw.items() if k.startswith(prefix)}


def load_organization_settings(management_account_id: str) -> tuple[OrganizationSettings, dict[str, str]]:
    """This stack's settings from its config (every key of the project's namespace)."""
    return parse_organization_settings(pulumi.get_stack(), configured_keys(), management_account_id)

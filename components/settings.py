"""Typed, validated, immutable stack settings.

Built once from the stack's config before any resource is registered. Every problem
found is reported in one `pulumi.RunError` that names the stack, the key, the value and
what is allowed, so an operator fixes a stack file in one pass.
"""

from __future__ import annotations

import difflib
import ipaddress
import json
import re
from collections.abc import Mapping
from typing import Any, Literal, Optional, get_args

import pulumi
import pulumi.runtime.config as runtime_config
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from components import aws_regions
from components.account_settings import AccountLayerSettings
from components.app_settings import AppSettings, CacheSettings, IdentityCenterSettings
from components.audit_settings import AuditSettings
from components.trail_patterns import METRIC_FILTER_PATTERN_LIMIT, key_administration_pattern

NAMESPACE = "hipaa-aws"

# Values CloudWatch Logs accepts for retentionInDays.
CLOUDWATCH_RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827,
    2192, 2557, 2922, 3288, 3653,
)
# HIPAA 164.316(b)(2)(i): keep documentation (audit logs included) six years.
SIX_YEARS_DAYS = 2192

# PostgreSQL major versions RDS supports with pgAudit; each maps to a parameter group family.
POSTGRES_MAJOR_VERSIONS = ("14", "15", "16", "17")

# The VPC is cut into 4 equal tier blocks (public, app, data, reserved), each into 8 AZ
# slots, so subnets are VPC prefix + 5 and addresses stay stable when the AZ count changes.
SUBNET_PREFIX_DELTA = 5
LARGEST_VPC_PREFIX = 16  # AWS allows no VPC larger than /16
SMALLEST_VPC_PREFIX = 21  # -> /26 subnets (59 usable addresses after AWS reserves 5)

# An IAM role ARN (with its path, which a key policy principal must include).
IAM_ROLE_ARN = r"arn:aws[a-z-]*:iam::(?P<account>\d{12}):role/[\w+=,.@/-]{1,512}"

# The stack name goes into bucket, role, database-user and permission-set names. The tightest:
# Identity Center permission set names (`hipaa-<stack>-phi-operator`, components/workforce_access.py)
# have at most 32 characters (CreatePermissionSet, botocore `sso-admin` PermissionSetName), which
# leaves 13 for the stack.
MAX_STACK_NAME = 13
STACK_NAME_RULE = (f"a stack name must have 1 to {MAX_STACK_NAME} characters, a lower-case letter first, "
                   "then lower-case letters, digits or hyphens: it is part of the stack's resource names, "
                   "the longest being the Identity Center permission set hipaa-<stack>-phi-operator, which "
                   "AWS limits to 32 characters (no underscores either, so a-b and a_b never map to the "
                   "same database user)")

# The baselines whose stack creates its account's layer: one such stack per account.
ACCOUNT_LAYER_BASELINES = ("owned", "organization")

_PRIVATE_RANGES = tuple(
    ipaddress.IPv4Network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")
)


def _holds_phi(info: ValidationInfo) -> Optional[bool]:
    """Whether the stack holds PHI, from the validation context (None when unknown)."""
    return (info.context or {}).get("holds_phi")


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class DatabaseSettings(_Strict):
    """The PHI database (RDS PostgreSQL)."""

    instance_class: str = Field(
        "db.m7g.large", alias="instanceClass", pattern=r"^db\.[a-z0-9]+\.[a-z0-9]+$"
    )
    engine_version: str = Field("16", alias="engineVersion")
    allocated_storage_gb: int = Field(100, alias="allocatedStorageGb", ge=20, le=65536)
    max_allocated_storage_gb: int = Field(
        500, alias="maxAllocatedStorageGb", ge=20, le=65536
    )
    multi_az: bool = Field(True, alias="multiAz")
    deletion_protection: bool = Field(True, alias="deletionProtection")
    backup_retention_days: int = Field(35, alias="backupRetentionDays", ge=1, le=35)
    # Data sources: allowed only where the stack may hold PHI (e.g. prod disaster recovery).
    snapshot_identifier: Optional[str] = Field(None, alias="snapshotIdentifier", min_length=1)
    restore_from_instance: Optional[str] = Field(
        None, alias="restoreFromInstance", min_length=1
    )

    @field_validator("engine_version")
    @classmethod
    def _supported_major(cls, value: str) -> str:
        if value.split(".")[0] not in POSTGRES_MAJOR_VERSIONS:
            raise ValueError(
                f"must be a PostgreSQL major version RDS supports with pgAudit: "
                f"{', '.join(POSTGRES_MAJOR_VERSIONS)} (optionally with a minor, e.g. 16.4)"
            )
        return value

    @field_validator("multi_az", "deletion_protection")
    @classmethod
    def _required_for_phi(cls, value: bool, info: ValidationInfo) -> bool:
        if _holds_phi(info) and not value:
            raise ValueError("must be true in a stack that holds PHI")
        return value

    @field_validator("backup_retention_days")
    @classmethod
    def _phi_backup_floor(cls, value: int, info: ValidationInfo) -> int:
        if _holds_phi(info) and value < 7:
            raise ValueError("must be between 7 and 35 in a stack that holds PHI")
        return value

    @field_validator("snapshot_identifier", "restore_from_instance")
    @classmethod
    def _no_phi_source_in_synthetic(
        cls, value: Optional[str], info: ValidationInfo
    ) -> Optional[str]:
        if value is not None and _holds_phi(info) is False:
            raise ValueError(
                "must not be set in a stack without PHI: restoring copies data from another "
                "database, which may hold PHI; load synthetic data instead"
            )
        return value

    @model_validator(mode="after")
    def _storage_can_grow(self) -> DatabaseSettings:
        if self.max_allocated_storage_gb < self.allocated_storage_gb:
            raise ValueError(
                f"maxAllocatedStorageGb ({self.max_allocated_storage_gb}) must be at least "
                f"allocatedStorageGb ({self.allocated_storage_gb})"
            )
        if self.snapshot_identifier and self.restore_from_instance:
            raise ValueError("set snapshotIdentifier or restoreFromInstance, not both")
        return self

    @property
    def parameter_group_family(self) -> str:
        return f"postgres{self.engine_version.split('.')[0]}"


class StorageSettings(_Strict):
    """The PHI document bucket's lifecycle."""

    archive_transition_days: int = Field(90, alias="archiveTransitionDays", ge=1, le=3650)
    """Days before current PHI documents move to S3 Glacier Instant Retrieval (still read at once,
    still backed up)."""
    noncurrent_version_expiration_days: int = Field(
        SIX_YEARS_DAYS, alias="noncurrentVersionExpirationDays", ge=30, le=36500
    )


class Settings(_Strict):
    """Everything the environment is built from, validated."""

    stack: str
    data_classification: Literal["phi", "synthetic"] = Field(alias="dataClassification")
    owner: str = Field(alias="owner", pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    cost_center: str = Field(alias="costCenter", min_length=1, max_length=128)
    vpc_cidr: str = Field("10.0.0.0/16", alias="vpcCidr")
    availability_zone_count: int = Field(3, alias="availabilityZoneCount", ge=2, le=6)
    nat_gateway_per_az: bool = Field(True, alias="natGatewayPerAz")
    audit_log_retention_days: int = Field(SIX_YEARS_DAYS, alias="auditLogRetentionDays")
    app_port: int = Field(8443, alias="appPort", ge=1024, le=65535)
    alert_email: str = Field(alias="alertEmail", pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    phi_read_alarm_threshold: int = Field(500, alias="phiReadAlarmThreshold", ge=1, le=1_000_000)
    # A region of the stack's partition (components/aws_regions.py, botocore's partition data).
    backup_copy_region: Optional[str] = Field(None, alias="backupCopyRegion", min_length=1)
    # owned: this stack creates and keeps the account's region-wide controls (GuardDuty, Security
    # Hub, AWS Config, Access Analyzer, password policy, EBS default encryption, S3 account block)
    # and its trail records the account's management events.
    # organization: the account is a member of the AWS Organization built by organization/, whose
    # delegated administrator runs GuardDuty, Security Hub, the organization analyzer and the HIPAA
    # conformance pack, and whose organization trail records management events; this stack creates
    # the rest of its account's controls (components/account/account_layer.py, ORGANIZATION_SCOPE).
    # external: another stack or Control Tower owns them; this stack creates none.
    account_baseline: Literal["owned", "organization", "external"] = Field(alias="accountBaseline")
    # Roles that administer this stack's KMS keys (put key policies, create grants, schedule
    # deletion). Unset: the stack's CI deploy role created by bootstrap/.
    key_administrators: Optional[tuple[str, ...]] = Field(
        None, alias="keyAdministrators", min_length=1, max_length=10)
    database: DatabaseSettings = Field(default_factory=lambda: DatabaseSettings.model_validate({}))
    storage: StorageSettings = Field(default_factory=lambda: StorageSettings.model_validate({}))
    # The application tier; each part is built only when its object is set.
    app: Optional[AppSettings] = None
    identity_center: Optional[IdentityCenterSettings] = Field(None, alias="identityCenter")
    cache: Optional[CacheSettings] = None
    # How the account layer adopts what its account already has (owner stack only).
    account_layer: Optional[AccountLayerSettings] = Field(None, alias="accountLayer")
    # Thresholds of the alarms on the application's audit events (components/audit_settings.py).
    audit: AuditSettings = Field(default_factory=lambda: AuditSettings.model_validate({}))

    @field_validator("stack")
    @classmethod
    def _usable_stack_name(cls, value: str) -> str:
        if not re.fullmatch(f"[a-z][a-z0-9-]{{0,{MAX_STACK_NAME - 1}}}", value):
            raise ValueError(STACK_NAME_RULE)
        return value

    @field_validator("vpc_cidr")
    @classmethod
    def _private_and_big_enough(cls, value: str) -> str:
        try:
            network = ipaddress.IPv4Network(value, strict=True)
        except ValueError as err:
            raise ValueError(
                f"must be an IPv4 network in CIDR form such as 10.20.0.0/16 ({err})"
            ) from None
        if not any(network.subnet_of(r) for r in _PRIVATE_RANGES):
            raise ValueError("must be inside an RFC 1918 private range (10/8, 172.16/12, 192.168/16)")
        if not LARGEST_VPC_PREFIX <= network.prefixlen <= SMALLEST_VPC_PREFIX:
            raise ValueError(
                f"must be /{LARGEST_VPC_PREFIX} to /{SMALLEST_VPC_PREFIX}: it holds 3 tiers "
                f"of up to 8 AZ subnets of /{network.prefixlen + SUBNET_PREFIX_DELTA} each, "
                f"and AWS allows no VPC larger than /16"
            )
        return value

    @field_validator("availability_zone_count")
    @classmethod
    def _phi_needs_three_azs(cls, value: int, info: ValidationInfo) -> int:
        if _holds_phi(info) and value < 3:
            raise ValueError("must be between 3 and 6 in a stack that holds PHI")
        return value

    @field_validator("audit_log_retention_days")
    @classmethod
    def _six_year_cloudwatch_value(cls, value: int) -> int:
        allowed = [d for d in CLOUDWATCH_RETENTION_DAYS if d >= SIX_YEARS_DAYS]
        if value not in allowed:
            raise ValueError(
                "must be a CloudWatch Logs retention of at least six years "
                f"(HIPAA 164.316(b)(2)(i)): one of {', '.join(map(str, allowed))}"
            )
        return value

    @field_validator("key_administrators")
    @classmethod
    def _roles_of_this_account(cls, value: Optional[tuple[str, ...]],
                               info: ValidationInfo) -> Optional[tuple[str, ...]]:
        accounts = (info.context or {}).get("allowed_accounts") or ()
        for arn in value or ():
            match = re.fullmatch(IAM_ROLE_ARN, arn)
            if not match:
                raise ValueError(f"{arn!r} is not an IAM role ARN (arn:aws:iam::<account>:role/<path/name>)")
            if accounts and match["account"] not in accounts:
                raise ValueError(f"{arn!r} is a role of account {match['account']}, not of this "
                                 f"stack's account ({', '.join(accounts)}, aws:allowedAccountIds)")
        if value is None:
            return value
        # KMS refuses a key policy that would lock out its creator: CI creates the keys as the
        # stack's deploy role, so that role must be one of the administrators.
        if "stack" not in info.data:
            return value  # the stack name is refused on its own line; no role name can be built from it
        deploy_role = f":role/hipaa-aws/ci/hipaa-aws-{info.data['stack']}-deploy"
        if not any(arn.endswith(deploy_role) for arn in value):
            raise ValueError(f"must include the stack's CI deploy role (arn:aws:iam::<account>"
                             f"{deploy_role}, created by bootstrap/), which creates the keys: KMS "
                             f"refuses a key policy that locks out its creator")
        pattern = key_administration_pattern(value)
        if len(pattern) > METRIC_FILTER_PATTERN_LIMIT:
            raise ValueError(f"too many or too long for the alarm on key administration by anyone "
                             f"else: its CloudWatch filter pattern would be {len(pattern)} characters, "
                             f"AWS allows {METRIC_FILTER_PATTERN_LIMIT}")
        return value

    @field_validator("backup_copy_region")
    @classmethod
    def _copy_goes_elsewhere(cls, value: Optional[str], info: ValidationInfo) -> Optional[str]:
        region = (info.context or {}).get("region")
        if value is None:
            return value
        partition = aws_regions.partition_of(value)
        if partition is None:
            raise ValueError(f"not an AWS region; use {aws_regions.known_regions_text(value)}")
        if value == region:
            raise ValueError(f"must be a region other than the stack's own ({region})")
        home = aws_regions.partition_of(region) if region else None
        if home is not None and partition != home:
            # AWS Backup copies between regions of one partition only (Amazon Backup in China:
            # "Cross Region Backups are only allowed between the Beijing Region and the Ningxia Region").
            raise ValueError(f"must be a region of the stack's partition ({home}, aws:region {region}); "
                             f"{value} is in {partition}, and AWS Backup copies within a partition only")
        return value

    @field_validator("account_layer")
    @classmethod
    def _only_for_the_owner(cls, value: Optional[AccountLayerSettings],
                            info: ValidationInfo) -> Optional[AccountLayerSettings]:
        if value is not None and info.data.get("account_baseline") not in ACCOUNT_LAYER_BASELINES:
            raise ValueError("only a stack that creates its account's layer (accountBaseline: owned or "
                             "organization) takes accountLayer; remove accountLayer or make this stack "
                             "the account's owner")
        return value

    @field_validator("identity_center")
    @classmethod
    def _sets_from_where_they_can_be_made(cls, value: Optional[IdentityCenterSettings],
                                          info: ValidationInfo) -> Optional[IdentityCenterSettings]:
        # Permission sets are created only from the management account or Identity Center's delegated
        # administrator (Identity Center user guide, "Delegated administration"): a member account's
        # stack that tried would fail with AccessDenied at `pulumi up`.
        if (value is not None and value.managed_by == "stack"
                and info.data.get("account_baseline") == "organization"):
            raise ValueError("managedBy must be organization in a member account of the organization "
                             "(accountBaseline: organization): only the management account creates "
                             "permission sets; organization/ then creates and assigns them")
        return value

    @property
    def holds_phi(self) -> bool:
        return self.data_classification == "phi"

    @property
    def creates_account_layer(self) -> bool:
        """This stack owns its account's layer (all of it, or the part the organization leaves)."""
        return self.account_baseline in ACCOUNT_LAYER_BASELINES

    @property
    def records_management_events(self) -> bool:
        """This stack's trail records its account's management events (elsewhere the owner stack's or
        the organization trail does, and this one records its PHI data events only)."""
        return self.account_baseline == "owned"

    @property
    def subnet_prefix(self) -> int:
        return ipaddress.IPv4Network(self.vpc_cidr).prefixlen + SUBNET_PREFIX_DELTA

    def tags(self) -> dict[str, str]:
        """The tags every taggable AWS resource carries."""
        return {
            "Environment": self.stack,
            "DataClassification": self.data_classification,
            "Owner": self.owner,
            "CostCenter": self.cost_center,
            "ManagedBy": "pulumi",
        }


# Keys whose stack value is a JSON object rather than a scalar.
_OBJECT_KEYS = {"database", "storage", "keyAdministrators", "app", "identityCenter", "cache", "accountLayer",
                "audit"}
_KNOWN_KEYS = {
    field.alias or name for name, field in Settings.model_fields.items() if name != "stack"
}


def configured_keys() -> dict[str, Any]:
    """Every `hipaa-aws:*` key the engine passed to the program, with its raw value."""
    raw = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    prefix = f"{NAMESPACE}:"
    return {k[len(prefix):]: v for k, v in raw.items() if k.startswith(prefix)}


def _describe(value: Any) -> str:
    text = json.dumps(value, default=repr) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _printable(name: str) -> str:
    """A key as written, or quoted with escapes when it holds line breaks or other controls."""
    return name if name.isprintable() else repr(name)


def _location(loc: tuple) -> str:
    return ".".join(_printable(str(part)) for part in loc)


def _lookup(raw: Mapping[str, Any], loc: tuple) -> Any:
    value: Any = raw
    for part in loc:
        if isinstance(value, Mapping) and part in value:
            value = value[part]
        else:
            return "<missing>"
    return value


def parse_settings(stack: str, raw: Mapping[str, Any], region: Optional[str] = None,
                   allowed_accounts: Optional[tuple[str, ...]] = None, *,
                   aws: Optional[Mapping[str, Any]] = None) -> Settings:
    """Validate raw config values (strings or JSON text, as the engine passes them).

    `aws` is the stack's `aws:` provider config as the engine passes it (`region`,
    `allowedAccountIds`): validated (a region that exists, exactly one account; missing keys are
    refused), it gives the region and the account. Without it (tests of the project's own keys),
    `region` and `allowed_accounts` are used as given (None: not checked; no accounts: refused).

    Raises pulumi.RunError listing every problem at once.
    """
    problems: list[str] = []
    values: dict[str, Any] = {}
    accounts = allowed_accounts
    if aws is not None:
        region, accounts = _provider_config(aws, problems)
    elif allowed_accounts is not None and not allowed_accounts:
        problems.append("aws:allowedAccountIds: required but not set")
    for key, value in raw.items():
        if key not in _KNOWN_KEYS:
            problems.append(
                f"{NAMESPACE}:{_printable(key)} = {_describe(value)}: unknown key; allowed keys are "
                f"{', '.join(sorted(_KNOWN_KEYS))}"
            )
            continue
        if key in _OBJECT_KEYS and isinstance(value, str):
            try:
                value = json.loads(value)
            except json.JSONDecodeError as err:
                problems.append(f"{NAMESPACE}:{key} = {_describe(value)}: not a valid object ({err})")
                continue
        values[key] = value

    classification = values.get("dataClassification")
    holds_phi = {"phi": True, "synthetic": False}.get(str(classification))  # None: not judged
    try:
        settings = Settings.model_validate(
            {"stack": stack, **values}, context={"holds_phi": holds_phi, "region": region,
                                                 "allowed_accounts": accounts or ()}
        )
    except ValidationError as err:
        settings = None
        for error in err.errors():
            loc = error["loc"]
            where = _location(loc) if loc else "(settings)"
            shown = _describe(error["input"]) if loc else ""
            if error["type"] == "missing":
                problems.append(f"{NAMESPACE}:{where}: required but not set")
                continue
            message = error["msg"].removeprefix("Value error, ")
            if loc == ("stack",):
                problems.append(f"stack name {stack!r} ({len(stack)} characters): {message}")
                continue
            if error["type"] == "extra_forbidden":
                message = _unknown_nested_key(loc)
            elif loc and isinstance(error["input"], Mapping):
                shown = _describe(_lookup(values, loc))
            problems.append(f"{NAMESPACE}:{where} = {shown}: {message}")

    if problems or settings is None:
        lines = "\n".join(f"  - {p}" for p in problems)
        raise pulumi.RunError(
            f"stack '{stack}' has {len(problems)} invalid setting(s) in "
            f"stacks/Pulumi.{stack}.yaml; nothing was created:\n{lines}"
        )
    return settings


def _provider_config(aws: Mapping[str, Any], problems: list[str]) -> tuple[Optional[str], tuple[str, ...]]:
    """The stack's region and its one account, from the `aws:` config; what is wrong goes to
    `problems`. A stack file pins both, so that it deploys where it says and nowhere else."""
    region = aws.get("region")
    if not region:
        problems.append("aws:region: required but not set; pin the stack's region (e.g. aws:region: "
                        "us-east-1), so that it never deploys where a shell's AWS_REGION points")
        region = None
    elif aws_regions.partition_of(str(region)) is None:
        problems.append(f"aws:region = {_describe(region)}: not an AWS region; use "
                        f"{aws_regions.known_regions_text(str(region))}")
        region = None
    raw = aws.get("allowedAccountIds")
    one = ('a list of exactly one 12-digit account id in quotes, e.g. aws:allowedAccountIds: '
           '["123456789012"] (quoted: YAML reads an unquoted id as a number, and drops leading zeros)')
    if not raw:
        problems.append(f"aws:allowedAccountIds: required but not set; pin the stack to its AWS account "
                        f"so it can never deploy elsewhere: {one}")
        return region, ()
    try:
        value = json.loads(raw) if isinstance(raw, str) else raw
    except json.JSONDecodeError:
        value = raw
    if (not isinstance(value, list) or len(value) != 1 or not isinstance(value[0], str)
            or not re.fullmatch(r"\d{12}", value[0])):
        # One account: the stack's key policies, role ARNs and account layer are of one account.
        problems.append(f"aws:allowedAccountIds = {_describe(raw)}: must be {one}; one stack "
                        f"deploys to one account")
        return region, ()
    return region, (value[0],)


def _unknown_nested_key(loc: tuple) -> str:
    """An unknown key inside an object setting, with the keys that object allows."""
    model: Optional[type[BaseModel]] = Settings
    for part in loc[:-1]:
        fields = {f.alias or n: f for n, f in model.model_fields.items()} if model else {}
        field = fields.get(str(part))
        # The object's model: the field's type, or the model inside Optional[...].
        model = next((a for a in (field.annotation, *get_args(field.annotation))
                      if isinstance(a, type) and issubclass(a, BaseModel)), None) if field else None
    if model is None:
        return "unknown key"
    allowed = sorted(f.alias or n for n, f in model.model_fields.items())
    close = difflib.get_close_matches(str(loc[-1]), allowed, n=1, cutoff=0.6)
    hint = f" (did you mean {close[0]}?)" if close else ""
    return f"unknown key{hint}; allowed keys are {', '.join(allowed)}"


def load_settings() -> Settings:
    """Read and validate this stack's settings from the Pulumi config."""
    aws = pulumi.Config("aws")
    return parse_settings(pulumi.get_stack(), configured_keys(),
                          aws={key: aws.get(key) for key in ("region", "allowedAccountIds")})

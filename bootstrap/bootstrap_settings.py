"""The bootstrap stack's settings, validated once (one pulumi.RunError naming the stack, each bad key,
its value and what is allowed). Which stacks it serves is not a setting: account_stacks.py reads it from
the program's stack files."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any, Optional

import pulumi
from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator

from ci_roles import REPOSITORY_PATTERN, RESERVED_STACKS, STACK_PATTERN
from components.settings import IAM_ROLE_ARN
from platform_admin import PermissionSet

ALLOWED = {
    "githubRepository": "OWNER/REPO exactly as GitHub spells it, e.g. example-health/hipaa-aws",
    "keyAdministratorRoleArns": "a non-empty list (at most 10) of IAM role ARNs of this account "
                                "(arn:aws:iam::<account>:role/<path/name>), including the role that runs "
                                "the bootstrap",
    "stacks": (f"unset (every stack whose stack file pins this account), or a non-empty list of distinct "
               f"stack names matching {STACK_PATTERN} (lowercase letter, then lowercase letters or digits, "
               f"no hyphen), none of {', '.join(sorted(RESERVED_STACKS))}"),
    "platformAdminPermissionSet": "an object {managementAccountId: <12-digit id>, name: <permission set "
                                  "name, 1-32 of letters, digits and +=,.@_->}: the organization's "
                                  "administrator permission set",
    "platformAdminPrincipals": "a list (at most 10) of IAM role or user ARNs "
                               "(arn:aws:iam::<account>:role/<path/name> or :user/...), never an "
                               "Identity Center role (its sessions carry no MFA: use "
                               "platformAdminPermissionSet)",
}
REQUIRED = ("githubRepository", "keyAdministratorRoleArns")
JSON_KEYS = ("stacks", "keyAdministratorRoleArns", "platformAdminPrincipals", "platformAdminPermissionSet")
PLATFORM_ADMIN_KEYS = ("platformAdminPermissionSet", "platformAdminPrincipals")
# Settings this project no longer reads, and why (a stack file still setting one is refused, not ignored).
RETIRED = {
    "accountBaselineOwner": "the account layer's owner is now read from the stack files: the stack pinned "
                            "to this account whose accountBaseline is owned or organization; remove it",
}
IAM_PRINCIPAL_ARN = r"arn:aws[a-z-]*:iam::\d{12}:(role|user)/[\w+=,.@/-]{1,512}"
# Identity Center's permission-set names (botocore `sso-admin` CreatePermissionSet: Name, 1-32, [\w+=,.@-]+).
PERMISSION_SET_NAME = r"[\w+=,.@-]{1,32}"


class PermissionSetSetting(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    management_account_id: str = Field(alias="managementAccountId", pattern=r"^\d{12}$")
    name: str = Field(pattern=f"^{PERMISSION_SET_NAME}$")


class BootstrapSettings(BaseModel):
    """The bootstrap stack's settings, validated once."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    github_repository: str = Field(alias="githubRepository")
    key_administrators: tuple[str, ...] = Field(alias="keyAdministratorRoleArns", min_length=1, max_length=10)
    stacks: Optional[tuple[str, ...]] = Field(None, alias="stacks", min_length=1)
    permission_set: Optional[PermissionSetSetting] = Field(None, alias="platformAdminPermissionSet")
    platform_admin_principals: tuple[str, ...] = Field((), alias="platformAdminPrincipals", max_length=10)

    @field_validator("github_repository")
    @classmethod
    def _repository(cls, value: str) -> str:
        if not re.fullmatch(REPOSITORY_PATTERN, value):
            raise ValueError("invalid")
        return value

    @field_validator("stacks")
    @classmethod
    def _stack_names(cls, value: Optional[tuple[str, ...]]) -> Optional[tuple[str, ...]]:
        bad = [s for s in value or () if not re.fullmatch(STACK_PATTERN, s) or s in RESERVED_STACKS]
        if value is not None and (bad or len(set(value)) != len(value)):
            raise ValueError("invalid")
        return value

    @field_validator("key_administrators")
    @classmethod
    def _roles_of_this_account(cls, value: tuple[str, ...], info: ValidationInfo) -> tuple[str, ...]:
        account = (info.context or {}).get("account_id")
        for arn in value:
            match = re.fullmatch(IAM_ROLE_ARN, arn)
            if not match or (account and match["account"] != account):
                raise ValueError("invalid")
        return value

    @field_validator("platform_admin_principals")
    @classmethod
    def _iam_principals(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if len(set(value)) != len(value) or any(
                not re.fullmatch(IAM_PRINCIPAL_ARN, arn) or ":role/aws-reserved/" in arn for arn in value):
            raise ValueError("invalid")
        return value

    @property
    def platform_admin_permission_set(self) -> Optional[PermissionSet]:
        """The permission set whose Identity Center roles may assume the platform administrator role."""
        setting = self.permission_set
        return PermissionSet(setting.management_account_id, setting.name) if setting else None


def _describe(value: Any) -> str:
    return repr(value) if isinstance(value, str) else json.dumps(value)


def parse_bootstrap_settings(stack: str, project: str, raw: Mapping[str, Any],
                             account_id: Optional[str] = None) -> BootstrapSettings:
    """Validate the raw config values (strings, lists and objects as JSON text). Raises one
    pulumi.RunError that names the stack and, for each bad key, its value and what is allowed."""
    values: dict[str, Any] = {}
    problems: list[str] = []
    for key in ALLOWED:
        value = raw.get(key)
        if isinstance(value, str) and key in JSON_KEYS:
            try:
                value = json.loads(value)
            except json.JSONDecodeError:
                pass
        if value is None:
            if key in REQUIRED:
                problems.append(f"{project}:{key} is not set; expected {ALLOWED[key]}")
        else:
            values[key] = value
    for key, why in RETIRED.items():
        if raw.get(key) is not None:
            problems.append(f"{project}:{key} = {_describe(raw[key])} is no longer a setting: {why}")
    if not any(key in values for key in PLATFORM_ADMIN_KEYS):
        problems.append(f"{project}: neither {' nor '.join(PLATFORM_ADMIN_KEYS)} is set, so nobody "
                        f"could assume the platform administrator role; set platformAdminPermissionSet to "
                        f"{ALLOWED['platformAdminPermissionSet']}, or platformAdminPrincipals")
    if not problems:
        try:
            return BootstrapSettings.model_validate(values, context={"account_id": account_id})
        except ValidationError as err:
            for key in dict.fromkeys(str(e["loc"][0]) for e in err.errors()):
                problems.append(f"{project}:{key} = {_describe(values.get(key))} is not allowed; "
                                f"expected {ALLOWED[key]}")
    raise pulumi.RunError(f"stack '{stack}': invalid bootstrap settings:\n  " + "\n  ".join(problems))


def load_bootstrap_settings(account_id: str) -> BootstrapSettings:
    """This stack's settings from the Pulumi config."""
    config = pulumi.Config()
    raw = {key: config.get(key) for key in (*ALLOWED, *RETIRED)}
    return parse_bootstrap_settings(pulumi.get_stack(), pulumi.get_project(), raw, account_id)

"""Exceptions an auditor can see: every deviation from the pack's defaults in a PHI stack is approved,
dated and listed, and a short list of policies cannot be lowered at all.

A deviation is a policy whose level in the pack config is lower than the pack's default for it
(mandatory or remediate > advisory > disabled; the `all` entry counts, the engine applies it before
Configure), or a setting whose value differs from its schema default. `holdsPhi` is not a deviation:
it is the stack's classification, checked against the stack file's `hipaa-aws:dataClassification`.

In a PHI stack (the stack file OR the pack config says so: fail safe) each deviation needs an entry
in this policy's `exceptions` (policy, setting for a setting change, reason, approver, expires
YYYY-MM-DD). The entries live in the pack config itself, in the config of a real policy of the pack,
so the CLI validates them against this schema (`pulumi preview --policy-pack-config` refuses a bad
date or a missing approver before anything runs) and a change to them is a reviewed change of
`policy/` (CODEOWNERS).

"Today" is the pack process's system clock, as a UTC date, read at each evaluation: an exception
is valid through its `expires` day and expired the day after. There is deliberately no override
(an environment variable that moved the clock would be a way around expiry).

The pack only sees what the engine sends: the levels and settings (Configure, after schema defaults
and `all`) and the stack's config (ConfigureStack). It cannot see the organization's account map;
the offline preflight adds that evidence when the classifications disagree.

This module is also read by the preflight (preflight/report.py) to list the same deviations in every
report format: the logic below takes plain data, no SDK objects.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Optional

from pulumi_policy import (
    EnforcementLevel,
    PolicyComplianceFramework,
    PolicyConfigSchema,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)

from .framework import FRAMEWORK_NAME, FRAMEWORK_VERSION

GOVERNANCE_POLICY = "hipaa-policy-exceptions-approved"
CLASSIFICATION_SETTING = "holdsPhi"
DATA_CLASSIFICATION_KEY = "dataClassification"  # `<project>:dataClassification` in the stack's config

# Levels from strongest to weakest; remediate reports as mandatory (the SDK maps it so).
_RANK = {"remediate": 2, "mandatory": 2, "advisory": 1, "disabled": 0}

# Policies a PHI stack can never lower, each with why. The analyzer service keeps them mandatory
# whatever the pack config says (an exception does not lower them either), and this policy reports
# the attempt. Their settings cannot be weakened either (shrinking blockedPorts would lower the
# admin-ports rule as surely as disabling it): see REVIEWABLE_SETTINGS and TIGHTER below.
NON_LOWERABLE: Mapping[str, str] = {
    # Public PHI stores.
    "aws-s3-public-access-block-complete": "a PHI bucket without every public access block can be made public",
    "aws-s3-account-public-access-block": "the account's S3 public access block is the last guard of every PHI bucket",
    "aws-s3-bucket-has-public-access-block": "a PHI bucket without public access blocks can be made public",
    "aws-s3-bucket-policy-not-public": "a bucket policy granting everyone publishes PHI",
    "aws-rds-not-publicly-accessible": "a publicly accessible database exposes PHI to the internet",
    "aws-rds-snapshot-not-public": "a public snapshot gives PHI to every AWS account",
    "aws-ebs-snapshot-not-public": "a public snapshot gives PHI to every AWS account",
    # Unencrypted PHI stores.
    "aws-s3-bucket-encrypted-with-kms": "PHI at rest must be encrypted with a key the stack controls",
    "aws-rds-storage-encrypted": "PHI at rest must be encrypted with a key the stack controls",
    "aws-ebs-volume-encrypted": "PHI at rest must be encrypted with a key the stack controls",
    "aws-dynamodb-table-customer-key": "PHI at rest must be encrypted with a key the stack controls",
    "aws-efs-encrypted": "PHI at rest must be encrypted with a key the stack controls",
    "aws-elasticache-encrypted": "PHI at rest and in transit must be encrypted",
    # Internet access to admin or database ports.
    "aws-ec2-sg-no-internet-admin-ports": "administrative and database ports open to the internet",
    # IAM users and access keys.
    "aws-iam-no-users": "long-lived IAM user credentials bypass Identity Center and MFA",
    # The trail.
    "aws-cloudtrail-phi-stack-trail": "without the trail, access to PHI has no audit record (164.312(b))",
    "aws-cloudtrail-trail-secure": "an unvalidated or unencrypted trail is not audit evidence",
    # The BAA boundary.
    "hipaa-baa-eligible-services": "PHI may only be processed by services covered by the AWS BAA",
    # This policy: lowering it would lower every other rule at once.
    GOVERNANCE_POLICY: "lowering it would silence every other exception check",
}

# Settings of non-lowerable policies that record a reviewed decision instead of weakening the rule:
# they take an exception like any other deviation.
REVIEWABLE_SETTINGS: Mapping[tuple[str, str], str] = {
    ("aws-cloudtrail-phi-stack-trail", "accountControlsProvidedBy"):
        "who runs the account-wide management-event trail (the organization trail is one); the stack's own "
        "trail of its PHI buckets' data events is required whatever the value",
    ("hipaa-baa-eligible-services", "approvedServices"):
        "AWS adds services to its HIPAA Eligible Services Reference before the pack's copy is updated; each "
        "addition is checked against AWS's page",
}
# List settings of non-lowerable policies and the direction that tightens the rule: "more" (a superset
# of the default) or "fewer" (a subset). A tightening takes an exception like any deviation; any other
# change of a non-lowerable policy's settings (not here, not in REVIEWABLE_SETTINGS) is refused.
TIGHTER: Mapping[tuple[str, str], str] = {
    ("aws-ec2-sg-no-internet-admin-ports", "blockedPorts"): "more",
    ("aws-s3-bucket-encrypted-with-kms", "sseS3AllowedPurposes"): "fewer",
}

_EXCEPTION_SCHEMA: dict[str, Any] = {
    "type": "array",
    "default": [],
    "description": "Approved deviations from the pack's defaults in a PHI stack, each reviewed and dated.",
    "items": {
        "type": "object",
        "additionalProperties": False,
        "required": ["policy", "reason", "approver", "expires"],
        "properties": {
            "policy": {"type": "string", "minLength": 1, "description": "The policy lowered or changed."},
            "setting": {"type": "string", "minLength": 1,
                        "description": "The setting changed (leave out for a lowered enforcement level)."},
            "reason": {"type": "string", "minLength": 10, "description": "Why, in a sentence an auditor reads."},
            "approver": {"type": "string", "minLength": 1, "description": "Who approved it (a role or a person)."},
            "expires": {"type": "string", "pattern": r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$", "format": "date",
                        "description": "Last day the exception is valid (YYYY-MM-DD, UTC)."},
        },
    },
}


@dataclass(frozen=True)
class Deviation:
    """A policy lowered (`setting` None) or a setting changed from the pack's default."""

    policy: str
    setting: Optional[str]
    default: Any
    configured: Any

    def describe(self) -> str:
        if self.setting is None:
            return f"{self.policy}: level {self.configured} (default {self.default})"
        return f"{self.policy}: {self.setting} = {_json(self.configured)} (default {_json(self.default)})"


@dataclass(frozen=True)
class ApprovedException:
    policy: str
    setting: Optional[str]
    reason: str
    approver: str
    expires: str

    def expiry(self) -> Optional[date]:
        try:
            return date.fromisoformat(self.expires)
        except (TypeError, ValueError):
            return None

    def as_dict(self) -> dict[str, Any]:
        out = {"policy": self.policy, "reason": self.reason, "approver": self.approver, "expires": self.expires}
        return {**out, "setting": self.setting} if self.setting else out


@dataclass(frozen=True)
class Judged:
    """A deviation and what governance says of it: status is one of `approved`, `expired`,
    `no exception`, `not lowerable`, or `allowed (not a PHI stack)`; problem is the violation
    message in a PHI stack (None when it is fine)."""

    deviation: Deviation
    exception: Optional[ApprovedException]
    status: str
    problem: Optional[str]


def today() -> date:
    """The date exceptions are judged against: the system clock, in UTC."""
    return datetime.now(UTC).date()


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def _plain(value: Any) -> Any:
    """A setting as JSON data: protobuf's Struct carries every number as a float (24 arrives 24.0)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, Sequence) and not isinstance(value, str):
        return [_plain(v) for v in value]
    return value


def _canonical(value: Any) -> str:
    """Settings compare as JSON; a list of scalars compares as a set (order is not a weakening)."""
    value = _plain(value)
    if isinstance(value, list) and all(isinstance(v, (str, int, float, bool)) or v is None for v in value):
        return _json(sorted({_json(v) for v in value}))
    return _json(value)


def rank(level: str) -> int:
    return _RANK.get(str(level), 0)


def weakens_a_non_lowerable_policy(d: Deviation) -> bool:
    """A lowered level of a non-lowerable policy, or a change of its settings that is neither a reviewed
    declaration (REVIEWABLE_SETTINGS) nor a tightening (TIGHTER)."""
    if d.policy not in NON_LOWERABLE:
        return False
    if d.setting is None:
        return True
    if (d.policy, d.setting) in REVIEWABLE_SETTINGS:
        return False
    direction = TIGHTER.get((d.policy, d.setting))
    given, default = _plain(d.configured), _plain(d.default)
    if direction is None or not isinstance(given, list) or not isinstance(default, list):
        return True
    given_set, default_set = {_json(v) for v in given}, {_json(v) for v in default}
    return not (default_set <= given_set if direction == "more" else given_set <= default_set)


def deviations(defaults: Mapping[str, tuple[str, Mapping[str, Any]]],
               configured: Mapping[str, tuple[str, Mapping[str, Any]]]) -> list[Deviation]:
    """Every deviation, in policy order. `defaults`: policy -> (its default level, its config
    schema's properties); `configured`: policy -> (level, settings) as configured (a policy absent
    keeps its defaults). Only settings the schema declares count (the engine passes undeclared keys
    on unchecked and no policy reads them; the preflight warns of them). This policy's own setting,
    the exceptions register, and holdsPhi (the classification) are not deviations."""
    found: list[Deviation] = []
    for name, (default_level, schema) in defaults.items():
        level, settings = configured.get(name, (default_level, {}))
        if rank(level) < rank(default_level):
            found.append(Deviation(name, None, default_level, level))
        if name == GOVERNANCE_POLICY:
            continue
        for key, spec in schema.items():
            if key == CLASSIFICATION_SETTING or key not in (settings or {}):
                continue
            default = spec.get("default") if isinstance(spec, Mapping) else None
            if _canonical(settings[key]) != _canonical(default):
                found.append(Deviation(name, key, _plain(default), _plain(settings[key])))
    return found


def parse_exceptions(settings: Optional[Mapping[str, Any]]) -> list[ApprovedException]:
    """The register in this policy's settings (the CLI has validated it against the schema)."""
    entries = (settings or {}).get("exceptions") or []
    out = []
    for entry in entries if isinstance(entries, Sequence) and not isinstance(entries, str) else []:
        if isinstance(entry, Mapping):
            out.append(ApprovedException(str(entry.get("policy", "")), entry.get("setting") or None,
                                         str(entry.get("reason", "")), str(entry.get("approver", "")),
                                         str(entry.get("expires", ""))))
    return out


def judge(found: Iterable[Deviation], exceptions: Sequence[ApprovedException], phi: bool,
          on: Optional[date] = None) -> list[Judged]:
    """Each deviation with its exception and status; problems only in a PHI stack."""
    on = on or today()
    out = []
    for d in found:
        match = next((e for e in exceptions if e.policy == d.policy and e.setting == d.setting), None)
        where = f"{d.policy}'s setting {d.setting}" if d.setting else d.policy
        change = (f"{d.setting} = {_json(d.configured)} instead of the default {_json(d.default)}" if d.setting
                  else f"enforcement level {d.configured} instead of {d.default}")
        if not phi:
            out.append(Judged(d, match, "allowed (not a PHI stack)", None))
        elif d.setting is None and d.policy in NON_LOWERABLE:
            out.append(Judged(d, match, "not lowerable", (
                f"{d.policy} cannot be lowered in a PHI stack ({NON_LOWERABLE[d.policy]}): it stays mandatory "
                f"whatever the pack config says and no exception lowers it; remove its '{d.configured}' level "
                "from the pack config.")))
        elif weakens_a_non_lowerable_policy(d):
            out.append(Judged(d, match, "not lowerable", (
                f"{where} cannot be weakened in a PHI stack ({NON_LOWERABLE[d.policy]}): {change}, and no "
                "exception weakens a non-lowerable policy; restore the default.")))
        elif match is None:
            out.append(Judged(d, None, "no exception", (
                f"{where} deviates from the pack's default in this PHI stack ({change}) without an exception: "
                f"add {{policy, {'setting, ' if d.setting else ''}reason, approver, expires}} for it to "
                f"{GOVERNANCE_POLICY}'s exceptions in the pack config, or restore the default.")))
        elif (expiry := match.expiry()) is None or expiry < on:
            out.append(Judged(d, match, "expired", (
                f"The exception for {where} ({change}) expired on {match.expires} (today is {on.isoformat()}, "
                "UTC): renew it after a new review, or restore the default.")))
        else:
            out.append(Judged(d, match, "approved", None))
    return out


@dataclass(frozen=True)
class Classification:
    """What the stack file (ConfigureStack) and the pack config (holdsPhi) say."""

    stack_file: Optional[str]              # "phi", "synthetic", or None (not in the stack's config)
    holds_phi: Mapping[str, bool]          # policy -> its holdsPhi as configured

    @property
    def pack_says_phi(self) -> Optional[bool]:
        values = set(self.holds_phi.values())
        return None if not values else True in values

    @property
    def phi(self) -> bool:
        """Fail safe: a PHI stack when either says so."""
        return self.stack_file == "phi" or bool(self.pack_says_phi)

    def problems(self) -> list[str]:
        out = []
        if len(set(self.holds_phi.values())) > 1:
            yes = sorted(n for n, v in self.holds_phi.items() if v)
            no = sorted(n for n, v in self.holds_phi.items() if not v)
            out.append(f"The pack config's holdsPhi disagrees between policies (true: {', '.join(yes)}; false: "
                       f"{', '.join(no)}): set the same value in every policy; the stack is treated as PHI.")
        pack = self.pack_says_phi
        if self.stack_file in ("phi", "synthetic") and pack is not None and (self.stack_file == "phi") != pack:
            out.append(
                f"The stack file says dataClassification={self.stack_file} but the pack config says "
                f"holdsPhi={'true' if pack else 'false'}: one of them is wrong (the pack sees no third source; "
                "the preflight's report says which when the organization's account map decides it). The "
                "stack is treated as PHI until they agree.")
        return out


@dataclass(frozen=True)
class PackState:
    """What the pack's Analyzer service knows when AnalyzeStack runs (analyzer_service.py)."""

    defaults: Mapping[str, tuple[str, Mapping[str, Any]]]
    configured: Mapping[str, tuple[str, Mapping[str, Any]]]
    stack_config: Mapping[str, str]
    project: str

    def classification(self) -> Classification:
        holds = {}
        for name, (_, schema) in self.defaults.items():
            if CLASSIFICATION_SETTING in schema:
                settings = self.configured.get(name, ("", {}))[1] or {}
                default = schema[CLASSIFICATION_SETTING].get("default", False)
                holds[name] = bool(settings.get(CLASSIFICATION_SETTING, default))
        value = self.stack_config.get(f"{self.project}:{DATA_CLASSIFICATION_KEY}")
        return Classification(value if isinstance(value, str) else None, holds)

    def exceptions(self) -> list[ApprovedException]:
        return parse_exceptions(self.configured.get(GOVERNANCE_POLICY, ("", {}))[1])

    def findings(self, on: Optional[date] = None) -> list[str]:
        classification = self.classification()
        judged = judge(deviations(self.defaults, self.configured), self.exceptions(), classification.phi, on)
        return classification.problems() + [j.problem for j in judged if j.problem]


class GovernanceArgs(StackValidationArgs):
    """StackValidationArgs with what only the pack's service can see: every policy's configuration."""

    def __init__(self, args: StackValidationArgs, state: PackState) -> None:
        super().__init__(args.resources, args.get_config(), args.stack_tags)
        self.state = state


def _validate(args: StackValidationArgs, report_violation) -> None:
    state = getattr(args, "state", None)
    if not isinstance(state, PackState):  # served without analyzer_service.serve: fail closed
        report_violation("The pack's exceptions cannot be checked: serve the pack with "
                         "hipaa_policies.analyzer_service.serve, which gives this policy every policy's "
                         "configuration.", None)
        return
    for message in state.findings():
        report_violation(message, None)


POLICIES = [
    StackValidationPolicy(
        name=GOVERNANCE_POLICY,
        description=("In a PHI stack every deviation from the pack's defaults has an approved, unexpired "
                     "exception, and the classifications agree."),
        enforcement_level=EnforcementLevel.MANDATORY,
        severity=Severity.CRITICAL,
        framework=PolicyComplianceFramework(name=FRAMEWORK_NAME, version=FRAMEWORK_VERSION,
                                            reference="164.308(a)(1)(ii)(B)", specification="Risk management"),
        remediation_steps=(f"Add an entry to {GOVERNANCE_POLICY}'s exceptions in the pack config (policy, "
                           "setting for a setting change, reason, approver, expires YYYY-MM-DD) after review, "
                           "or restore the pack's default; make the stack file and holdsPhi agree."),
        tags=["hipaa", "governance"],
        config_schema=PolicyConfigSchema(properties={"exceptions": _EXCEPTION_SCHEMA}),
        validate=_validate,
    ),
]

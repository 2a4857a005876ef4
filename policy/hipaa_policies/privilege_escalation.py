"""Privilege escalation: no IAM document may allow every action of a known escalation method on
every resource (HIPAA 164.308(a)(4) information access management, 164.312(a)(1) access control).

The methods are data (data/privilege_escalation.json): cloudsplaining's published list of
privilege-escalation methods (each a set of IAM actions that together let a principal give itself
more access), with the version it was taken from. The same file lists the AWS managed policies that
allow a method on every resource, computed from moto's copy of AWS's managed-policy documents by
this module's own evaluator (docs/generate_privilege_escalation.py writes both; a test fails when
the file differs from what the installed cloudsplaining and moto publish).

A document is read with IAM's evaluation rules, not by string matching:
- Action patterns are case-insensitive and may use `*` and `?` (`iam:Put*`, `iam:*`, `*`);
  Allow with NotAction allows every action it does not list.
- "Every resource" is `*`, or an ARN pattern that leaves the whole name open (`role/*`,
  `function:*`, `arn:aws:iam::*:*`); Allow with NotResource allows everything it does not list,
  so it counts unless what it lists covers every resource of the service itself.
- An Allow whose condition pins the resource (a resource tag, the permissions boundary the new
  policy must carry, the policy ARN that may be attached) is narrowed; request-context conditions
  (MFA, source IP, region, iam:PassedToService) narrow no resource and do not count.
- An unconditional Deny in the same document that covers the action on every resource removes it.
- A method's actions may come from different statements of the document.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from pulumi_policy import Policy

from . import documents as doc
from .framework import (
    INFORMATION_ACCESS, Metadata, Resource, Stack, as_list, is_unknown, resource_policy, stack_policy,
)

DATA_FILE = Path(__file__).resolve().parent / "data" / "privilege_escalation.json"

# Which property holds the document, per resource type (pulumi-aws 7 camelCase input names).
DOCUMENT_PROPERTY = {
    "aws:iam/policy:Policy": "policy",
    "aws:iam/rolePolicy:RolePolicy": "policy",
    "aws:iam/groupPolicy:GroupPolicy": "policy",
    "aws:iam/userPolicy:UserPolicy": "policy",
    "aws:ssoadmin/permissionSetInlinePolicy:PermissionSetInlinePolicy": "inlinePolicy",
}
ROLE = "aws:iam/role:Role"  # inlinePolicies[].policy and managedPolicyArns
# Attachments of one managed policy (policyArn / managedPolicyArn) or of a list of them.
ATTACHMENT_PROPERTY = {
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": "policyArn",
    "aws:iam/policyAttachment:PolicyAttachment": "policyArn",
    "aws:iam/groupPolicyAttachment:GroupPolicyAttachment": "policyArn",
    "aws:iam/userPolicyAttachment:UserPolicyAttachment": "policyArn",
    "aws:ssoadmin/managedPolicyAttachment:ManagedPolicyAttachment": "managedPolicyArn",
}
ATTACHMENTS_PROPERTY = {
    "aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive": "policyArns",
    "aws:iam/groupPolicyAttachmentsExclusive:GroupPolicyAttachmentsExclusive": "policyArns",
    "aws:iam/userPolicyAttachmentsExclusive:UserPolicyAttachmentsExclusive": "policyArns",
    "aws:ssoadmin/managedPolicyAttachmentsExclusive:ManagedPolicyAttachmentsExclusive": "managedPolicyArns",
}
TYPES = (*DOCUMENT_PROPERTY, ROLE, *ATTACHMENT_PROPERTY, *ATTACHMENTS_PROPERTY)


@dataclass(frozen=True)
class Method:
    name: str
    actions: tuple[str, ...]
    """The IAM actions that together escalate (AWS's spelling, e.g. iam:PassRole)."""
    reference: str


@dataclass(frozen=True)
class Catalog:
    source: str
    methods: tuple[Method, ...]
    managed: Mapping[str, tuple[str, ...]]
    """AWS managed policy (`policy/<path><name>`, partition-free) -> the methods it allows everywhere."""


def load_catalog(path: Path = DATA_FILE) -> Catalog:
    data = json.loads(path.read_text(encoding="utf-8"))
    source = data["source"]
    methods = tuple(Method(m["name"], tuple(m["actions"]), m["reference"]) for m in data["methods"])
    managed = {_managed_key(arn) or arn: tuple(names)
               for arn, names in data["managedPolicies"]["policies"].items()}
    return Catalog(f"{source['package']} {source['version']}", methods, managed)


@functools.cache
def catalog() -> Catalog:
    return load_catalog()


# ---------------------------------------------------------------- IAM semantics

@functools.lru_cache(maxsize=4096)
def _wildcard(pattern: str) -> re.Pattern:
    """IAM's wildcard matching: `*` any run of characters (`/` and `:` included), `?` one
    character, everything else literal, case-insensitive (for actions; ARNs are matched the same
    way here, which can only widen what counts as covered)."""
    body = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(body, re.IGNORECASE | re.DOTALL)


def _matches(pattern: Any, value: str) -> bool:
    return isinstance(pattern, str) and _wildcard(pattern).fullmatch(value) is not None


_WILD = re.compile(r"[*?]")
_ONLY_WILD = re.compile(r"[*?]*\*[*?]*")
# What may precede the first wildcard of the resource field for the name to stay open: at most a
# resource type and its separator (`role/`, `function:`, `ro`), never part of a name or a path.
_TYPE_PREFIX = re.compile(r"[\w.+=@-]*[/:]?")


def covers_every_resource(pattern: Any, service: str) -> bool:
    """True when a Resource pattern covers every resource of `service` (its action's prefix)."""
    if not isinstance(pattern, str):
        return False
    pattern = pattern.strip()
    if _ONLY_WILD.fullmatch(pattern):
        return True
    fields = pattern.split(":", 5)
    if not _matches(fields[0], "arn") or (len(fields) > 2 and not _matches(fields[2], service)):
        return False
    if len(fields) < 6:
        # `arn:aws:iam::*`: a final wildcard swallows the remaining fields.
        return bool(_ONLY_WILD.fullmatch(fields[-1]))
    name = fields[5]
    wild = _WILD.search(name)
    if wild is None:
        return False  # one named resource
    prefix, rest = name[:wild.start()], name[wild.start():]
    return bool(_ONLY_WILD.fullmatch(rest)) and bool(_TYPE_PREFIX.fullmatch(prefix))


def _names_action(statement: Mapping, action: str) -> bool:
    if "Action" in statement:
        return any(_matches(p, action) for p in as_list(statement.get("Action")))
    if "NotAction" in statement:
        return not any(_matches(p, action) for p in as_list(statement.get("NotAction")))
    return False


def _on_every_resource(statement: Mapping, action: str) -> bool:
    service = action.split(":", 1)[0]
    if "Resource" in statement:
        return any(covers_every_resource(r, service) for r in as_list(statement.get("Resource")))
    if "NotResource" in statement:
        return not any(covers_every_resource(r, service) for r in as_list(statement.get("NotResource")))
    return False  # IAM refuses an identity-policy statement without either (MalformedPolicyDocument)


# Condition keys that pin which resource the request may act on. A key absent from a request
# makes a positive operator false, so for actions without the key the statement grants nothing.
_RESOURCE_KEY = re.compile(r"^([a-z0-9-]+:resourcetag/.+|iam:permissionsboundary|iam:policyarn)$",
                           re.IGNORECASE)


def _narrowing_operator(operator: str) -> bool:
    op = operator.lower()
    # IfExists passes when the key is absent; ForAllValues passes on an empty set; negated
    # operators and Null exclude only what they name.
    return not (op.endswith("ifexists") or op.startswith("forallvalues:") or "not" in op.split(":")[-1]
                or op == "null")


def _narrowing_value(value: Any) -> bool:
    """Every value names something specific; an ARN value must not leave the name open."""
    if not doc.narrows(value):
        return False
    arns = [v.split(":") for v in as_list(value) if isinstance(v, str) and v.startswith("arn:")]
    return not any(len(f) > 2 and covers_every_resource(":".join(f), f[2]) for f in arns)


def _condition_narrows(statement: Mapping) -> bool:
    condition = statement.get("Condition")
    if not isinstance(condition, Mapping):
        return False
    return any(_narrowing_operator(str(operator)) and _RESOURCE_KEY.match(str(key)) and _narrowing_value(value)
               for operator, block in condition.items() if isinstance(block, Mapping)
               for key, value in block.items())


def allows_everywhere(document: Optional[Mapping], action: str) -> bool:
    """True when the document allows `action` on every resource and does not deny it there."""
    statements = doc.statements(document)
    allowed = any(s.get("Effect") == "Allow" and _names_action(s, action) and _on_every_resource(s, action)
                  and not _condition_narrows(s) for s in statements)
    return allowed and not any(
        s.get("Effect") == "Deny" and s.get("Condition") is None and _names_action(s, action)
        and _on_every_resource(s, action) for s in statements)


def escalations(document: Optional[Mapping], methods: Optional[Sequence[Method]] = None) -> list[Method]:
    """The methods whose every action the document allows on every resource."""
    methods = catalog().methods if methods is None else methods
    verdicts: dict[str, bool] = {}

    def allowed(action: str) -> bool:
        key = action.lower()
        if key not in verdicts:
            verdicts[key] = allows_everywhere(document, action)
        return verdicts[key]

    return [m for m in methods if all(allowed(a) for a in m.actions)]


# ---------------------------------------------------------------- the policy

_MANAGED_ARN = re.compile(r"^arn:aws[a-z-]*:iam::aws:(policy/.+)$")


def _managed_key(arn: Any) -> Optional[str]:
    match = _MANAGED_ARN.match(arn.strip()) if isinstance(arn, str) else None
    return match.group(1) if match else None


def document_message(method: Method) -> str:
    return (f"Scope {', '.join(method.actions)} to named resources: allowed together on every resource they "
            f"let a principal escalate its privileges ({method.name}, {method.reference}).")


def attachment_message(arn: str, methods: Iterable[str]) -> str:
    return (f"Do not attach {arn}: it allows privilege escalation on every resource "
            f"({', '.join(methods)}); grant the specific actions on named resources instead.")


def _documents(r: Resource) -> list[Optional[Mapping]]:
    if r.type == ROLE:
        return [p.document("policy") for p in r.props.each("inlinePolicies")]
    if r.type in DOCUMENT_PROPERTY:
        return [r.props.document(DOCUMENT_PROPERTY[r.type])]
    return []


def _attached(r: Resource) -> list[str]:
    """The literal managed-policy ARNs the resource attaches. An element unknown at preview is
    another resource's output, a customer-managed aws.iam.Policy judged by itself (AWS managed
    policy ARNs are always literals); a whole list unknown cannot be judged."""
    if r.type in ATTACHMENT_PROPERTY:
        key = ATTACHMENT_PROPERTY[r.type]
        return [] if r.props.is_unknown(key) else [r.props.get(key)]
    key = "managedPolicyArns" if r.type == ROLE else ATTACHMENTS_PROPERTY.get(r.type)
    if key is None:
        return []
    # Props.get raises when the whole list is unknown.
    return [a for a in as_list(r.props.get(key)) if isinstance(a, str) and not is_unknown(a)]


def _declared(r: Resource) -> frozenset[str]:
    """The methods the pack config declares for this resource (by its logical name): a reviewed
    decision that this principal may escalate (the account's administrator). An entry without
    `methods` declares every method."""
    methods: set[str] = set()
    for entry in r.config.get("declared") or []:
        if not isinstance(entry, Mapping) or entry.get("name") != r.name:
            continue
        if "methods" not in entry:
            return frozenset(m.name for m in catalog().methods)
        methods.update(m for m in as_list(entry.get("methods")) if isinstance(m, str))
    return frozenset(methods)


def _check(r: Resource) -> Iterable[str]:
    declared = _declared(r)
    for document in _documents(r):
        for method in escalations(document):
            if method.name not in declared:
                yield document_message(method)
    managed = catalog().managed
    for arn in _attached(r):
        undeclared = [m for m in managed.get(_managed_key(arn) or "", ()) if m not in declared]
        if undeclared:
            yield attachment_message(arn.strip(), undeclared)


DECLARED_SCHEMA = {"declared": {
    "type": "array", "default": [],
    "description": "Resources (by logical name) that are allowed to escalate, each with the reason: the "
                   "account's administrator, a service role that needs an AWS managed policy. `methods` "
                   "limits the declaration to those escalation methods (every method when absent). In a "
                   "PHI stack, an entry here is a setting change that needs an approved exception.",
    "items": {"type": "object", "required": ["name", "reason"], "properties": {
        "name": {"type": "string", "minLength": 1, "description": "The resource's logical (Pulumi) name."},
        "methods": {"type": "array", "items": {"type": "string"},
                    "description": "Method names of data/privilege_escalation.json."},
        "reason": {"type": "string", "minLength": 10, "description": "Why this principal may escalate."}}},
}}


POLICIES: list[Policy] = [
    resource_policy(Metadata(
        "aws-iam-no-privilege-escalation",
        "IAM documents and attached AWS managed policies must not allow a known privilege-escalation "
        "method on every resource.",
        INFORMATION_ACCESS,
        "Name the resources (roles to pass, functions to update, users and policies to change) in Resource, "
        "or pin them with a resource-tag or permissions-boundary condition.",
        service="iam", config=DECLARED_SCHEMA), TYPES, _check),
]


# ---------------------------------------------------------------- one role, all of its documents

ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
ROLE_POLICY_ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
CUSTOMER_POLICY = "aws:iam/policy:Policy"


def _role_documents(stack: Stack, role: Resource) -> list[Optional[Mapping]]:
    """Every customer-written document that grants `role` permissions: its inline policies, the
    RolePolicy resources on it and the customer-managed policies attached to it (linked by
    dependency, or by the role's known name). AWS managed policies are judged per attachment."""
    name = None if role.props.is_unknown("name") else role.props.get("name")
    documents = _documents(role)
    for inline in stack.attached(role, (ROLE_POLICY,), "role", literal=name):
        documents.append(inline.props.document("policy"))
    for attachment in stack.attached(role, (ROLE_POLICY_ATTACHMENT,), "role", literal=name):
        for policy in attachment.property_dependencies.get("policyArn", []):
            if policy.type == CUSTOMER_POLICY:
                documents.append(policy.props.document("policy"))
    return documents


def _per_role(stack: Stack) -> Iterable[tuple[str, str]]:
    """A method whose actions a role holds only across several documents (PassRole in one policy,
    RunInstances in another) escalates as surely as one document holding them all."""
    for role in stack.of_type(ROLE):
        def check(role: Resource = role) -> Iterable[str]:
            documents = _role_documents(stack, role)
            single = {m.name for d in documents for m in escalations(d)}
            union = {"Statement": [s for d in documents for s in doc.statements(d)]}
            declared = _declared(role)
            for method in escalations(union):
                if method.name not in single and method.name not in declared:
                    yield (f"This role's policies together allow {', '.join(method.actions)} on every resource, "
                           f"which lets it escalate its privileges ({method.name}, {method.reference}): scope "
                           "them to named resources in the policy that grants them.")
        yield from stack.judge(role, check)


POLICIES.append(stack_policy(Metadata(
    "aws-iam-no-privilege-escalation-per-role",
    "A role's policies together must not allow a known privilege-escalation method on every resource.",
    INFORMATION_ACCESS,
    "Scope the actions the message names to named resources in one of the role's policies.",
    service="iam", config=DECLARED_SCHEMA), _per_role))

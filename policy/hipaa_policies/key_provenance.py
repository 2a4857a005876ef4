"""Customer-managed keys are keys this stack creates, or keys the pack config approves by ARN.

Every resource policy that asks for a customer-managed key can only see the value: it refuses an
AWS-managed key named by alias (`alias/aws/s3`) or alias ARN, but an AWS-managed key also reaches
the pack as a plain key ARN (`aws.kms.get_key(key_id="alias/aws/s3").arn`, resolved at preview), and
so does a key of another account that this stack's key policies do not govern. A key ARN alone
cannot say whose key it is; where it comes from can. So this stack policy follows each key input to
its source:
- a property dependency on a key this stack creates (`aws:kms/key:Key`, `replicaKey`, `externalKey`,
  or an `aws:kms/alias:Alias` of one): customer-managed, and the stack's key policy governs it;
- the known ARN, id or alias of such a key (every preview after the first, and computed outputs
  such as an RDS instance's masterUserSecrets, which carry no dependency): customer-managed;
- a value listed in `approvedExternalKeys` (a reviewed change to the pack config): accepted;
- anything else that is set: refused, naming the input and its value.
A value unknown at preview that depends on something other than a key (a stack reference, another
resource's output) is not judged. A computed output nobody set (unknown, no dependency at all) is
the provider's, not a choice: the resource policies judge the missing input.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from pulumi_policy.proxy import UnknownValueError

from .framework import ENCRYPTION_AT_REST, Metadata, Resource, Stack, is_unknown, stack_policy

KEY_TYPES = frozenset({"aws:kms/key:Key", "aws:kms/replicaKey:ReplicaKey", "aws:kms/externalKey:ExternalKey",
                       "aws:kms/replicaExternalKey:ReplicaExternalKey"})
ALIAS_TYPES = frozenset({"aws:kms/alias:Alias"})
# Input names that hold the KMS key encrypting a resource's data, across pulumi-aws (kmsKeyId,
# kmsKeyArn, kmsMasterKeyId, performanceInsightsKmsKeyId, encryptionKey, kmsKey, sseKmsKeyId...).
KEY_INPUT = re.compile(r"(^|[a-z])(kms(Master)?Key(Id|Arn|Identifier)?|encryptionKey(Arn|Id)?|cmkArn)$", re.I)
# A key's own resources (policies, grants, aliases) name the key they belong to, not one that
# encrypts their data.
SKIPPED_MODULES = ("aws:kms/",)

APPROVED_SCHEMA = {"approvedExternalKeys": {
    "type": "array", "items": {"type": "string"}, "default": [],
    "description": "KMS key ARNs (or alias ARNs) created outside this stack that its resources may use "
                   "as customer-managed keys, after review: e.g. the organization's log-archive key. "
                   "Every other key must be one this stack creates.",
}}


def _key_inputs(value: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    """(path, value) of every key input inside `value` (a resource's properties)."""
    if isinstance(value, Mapping):
        for name, inner in value.items():
            here = path + (str(name),)
            # An encryption block's own key input (a Firehose stream's serverSideEncryption.keyArn).
            in_encryption_block = bool(path) and "encryption" in path[-1].lower() and str(name) in ("keyArn", "keyId")
            if (KEY_INPUT.search(str(name)) or in_encryption_block) and isinstance(inner, str):
                yield here, inner
            else:
                yield from _key_inputs(inner, here)
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            yield from _key_inputs(inner, path + (str(index),))


def _is_stack_key(resource: Resource, seen: frozenset[str] = frozenset()) -> bool:
    if resource.type in KEY_TYPES:
        return True
    if resource.type in ALIAS_TYPES and resource.urn not in seen:
        return any(_is_stack_key(d, seen | {resource.urn}) for d in resource.property_dependencies.get("targetKeyId", []))
    return False


def _own_identifiers(stack: Stack) -> set[str]:
    """The known ARNs, ids and alias names of the keys this stack creates: on every preview after
    the first, and in computed outputs that carry no dependency (an RDS instance's
    masterUserSecrets[].kmsKeyId), a key of the stack arrives as one of these literals."""
    known: set[str] = set()
    for resource in stack.of_type(*KEY_TYPES, *ALIAS_TYPES):
        if resource.type in ALIAS_TYPES and not _is_stack_key(resource):
            continue
        for name in ("arn", "keyId", "id", "name"):
            if not resource.props.is_unknown(name):
                value = resource.props.get(name)
                if isinstance(value, str) and value.strip():
                    known.add(value.strip())
    return known


def _check(stack: Stack) -> Iterable[tuple[str, str]]:
    approved = {str(k).strip() for k in stack.config.get("approvedExternalKeys") or []}
    own = _own_identifiers(stack)
    for resource in stack.resources:
        if resource.type.startswith(SKIPPED_MODULES) or not resource.type.startswith("aws:"):
            continue

        def check(resource: Resource = resource) -> Iterable[str]:
            for path, value in _key_inputs(resource.props.values):
                sources = resource.property_dependencies.get(path[0], [])
                if any(_is_stack_key(s) for s in sources):
                    continue
                if is_unknown(value):
                    if sources:  # another resource's or stack's output: cannot know whose key
                        raise UnknownValueError(value, list(path))
                    continue  # a computed output nobody set: the resource policies judge the input
                if not value.strip() or value.strip() in approved or value.strip() in own \
                        or value.strip().rsplit("/", 1)[-1] in own:
                    continue
                yield (f"{'.'.join(path)} is {value!r}, a key this stack does not create and the pack config "
                       "does not approve: use a key of this stack (its ARN output), or add the key's ARN to "
                       "approvedExternalKeys after review. An AWS-managed key (alias/aws/*, or its key ARN) is "
                       "never customer-managed.")
        yield from stack.judge(resource, check)


POLICIES = [
    stack_policy(Metadata(
        "aws-kms-key-is-customer-managed",
        "Keys that encrypt data must be keys this stack creates, or external keys the pack config approves.",
        ENCRYPTION_AT_REST,
        "Pass the ARN output of a key this stack creates, or list the external key's ARN in approvedExternalKeys.",
        config=APPROVED_SCHEMA, service="kms"), _check),
]

"""Which pulumi-aws resource types the coverage matrix must have a row for, from data.

A type is in scope when its AWS service is on the HIPAA Eligible Services Reference (the pack's
BAA data, policy/hipaa_policies/data/hipaa_eligible_services.json, maps every pulumi-aws module to
a service) and one of its inputs, at any depth, controls one of the seven control families: a KMS
key or encryption setting, a TLS or protocol setting, a public-access switch, a resource-based
policy document, a logging destination, a backup or point-in-time-recovery setting, or deletion
protection. AWS offers those settings exactly where a resource stores, moves, processes or grants
access to data, so the inputs of the SDK (pulumi-aws's `<Resource>Args` classes) are the
enumeration, not a hand-made list.

Each (type, family, input path) hit is a claim the matrix must answer: a policy that judges it,
or a reason it does not apply, with AWS's page.
"""

from __future__ import annotations

import fnmatch
import functools
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
for entry in (str(ROOT), str(ROOT / "policy")):
    if entry not in sys.path:
        sys.path.insert(0, entry)

from docs.coverage.pulumi_aws_inputs import resource_inputs, resource_types, shape_of  # noqa: E402
from hipaa_policies.baa import CATALOG, ELIGIBLE  # noqa: E402
from hipaa_policies.data_controls import FAMILY_KEYS  # noqa: E402

MAX_DEPTH = 4
"""Nested input blocks deeper than this carry no family setting in pulumi-aws 7.x."""

# Input names (the last part of a path, camelCase as the engine sends them) that control a family.
SIGNALS: dict[str, re.Pattern[str]] = {
    "at-rest": re.compile(
        r"kms|cmk|^sseAlgorithm$|serverSideEncryption|encryptionKey|encryptAtRest|atRestEncryption|"
        r"encryptionAtRest|^storageEncrypted$|^encrypted$|^encryption$|^encryptionType$|"
        r"^encryptionConfig(uration)?s?$|^encryptionSpecification$|^encryptionOptions$|"
        r"^encryptionSettings$|^encryptionInfo$|^encryptionMode$|^sseSpecification$|^sseType$", re.I),
    # "Tls"/"Ssl" inside a name must be a camelCase word (case-sensitive): under re.I, `Ssl[A-Z]`
    # matched "accessLogs" (acce-ssL-ogs), "addressLine1" and `Tls[A-Z]` matched mTLS header names,
    # 27 hit paths that carry no transport setting (measured against pulumi-aws 7.x).
    "in-transit": re.compile(
        r"transitEncryption|inTransit|encryptionInTransit|^tls|(?-i:Tls[A-Z])|^ssl|(?-i:Ssl[A-Z])|requireTls|"
        r"^protocol$|^listenerProtocol$|viewerProtocolPolicy|originProtocolPolicy|minimumProtocolVersion|"
        r"^securityPolicy$|enforceHttps|httpsOnly|^clientBroker$|^insecureSsl$", re.I),
    "network": re.compile(
        r"publiclyAccessible|^publicAccess|blockPublic|endpointPublicAccess|mapPublicIpOnLaunch|"
        r"associatePublicIp|^internal$|^scheme$|directInternetAccess|^publicEndpoint|^publicNetworkAccess|"
        r"^endpointType$|internetFacing", re.I),
    "resource-policy": re.compile(
        r"^(policy|accessPolicies|accessPolicy|resourcePolicy|policyDocument|policyText|keyPolicy|"
        r"repositoryPolicyText)$", re.I),
    "logging": re.compile(
        r"^logging|LoggingConfig|^logConfig|^logsConfig|^accessLogs?$|^accessLogSettings$|auditLog|"
        r"^logPublishingOptions$|^enabledCloudwatchLogsExports$|^logDestination|^logDelivery|"
        r"^cloudwatchLogs", re.I),
    "backup": re.compile(
        r"backupRetention|pointInTimeRecovery|snapshotRetention|automaticBackupRetention|"
        r"^automatedSnapshot|^dailyAutomaticBackupStartTime$|^backupPolicy$|^finalSnapshot", re.I),
    "deletion": re.compile(r"deletionProtection|terminationProtection|deleteProtection", re.I),
}
assert set(SIGNALS) == set(FAMILY_KEYS)

# Resource-based policy documents are top-level inputs; a nested "policy" is something else
# (an S3 lifecycle policy, a scaling policy...).
TOP_LEVEL_ONLY = frozenset({"resource-policy"})


@dataclass(frozen=True)
class Hit:
    type: str
    family: str
    path: tuple[str, ...]


def _paths(shape, prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    if shape is None or shape.kind != "object" or len(prefix) >= MAX_DEPTH:
        return
    for name, tp in shape.fields.items():
        path = prefix + (name,)
        yield path
        inner = shape_of(tp)
        if inner.kind in ("list", "map"):
            inner = shape_of(inner.element)
        yield from _paths(inner, path)


def eligible(type_: str) -> bool:
    service = CATALOG.service_of(type_)
    return service is not None and service.status == ELIGIBLE


@functools.cache
def hits() -> tuple[Hit, ...]:
    """Every (type, family, input path) of an eligible type whose input name signals a family."""
    found: list[Hit] = []
    for type_ in resource_types():
        if not eligible(type_):
            continue
        for path in _paths(resource_inputs(type_)):
            name, nested = path[-1], len(path) > 1
            for family, signal in SIGNALS.items():
                if family in TOP_LEVEL_ONLY and nested:
                    continue
                if signal.search(name):
                    found.append(Hit(type_, family, path))
    return tuple(found)


GROUPS_FILE = Path(__file__).resolve().parent / "service_groups.yaml"


@functools.cache
def primary_store_patterns() -> tuple[str, ...]:
    """fnmatch patterns of the types that hold the data itself (docs/coverage/service_groups.yaml)."""
    import yaml
    return tuple(yaml.safe_load(GROUPS_FILE.read_text(encoding="utf-8"))["primary_data_stores"])


def primary_store(type_: str) -> bool:
    return any(fnmatch.fnmatchcase(type_, pattern) for pattern in primary_store_patterns())


def in_scope() -> list[str]:
    """The types the matrix must have a row for.

    The types with a hit, and every eligible primary data store even without one: a store of PHI
    whose encryption, backup and deletion AWS does not let pulumi-aws set (an S3 directory bucket,
    an MSK serverless cluster, an FSx for OpenZFS volume) still stores data, and the matrix must
    say how those three are met (an auditor asks them of every store)."""
    stores = {t for t in resource_types() if primary_store(t) and eligible(t)}
    return sorted({hit.type for hit in hits()} | stores)

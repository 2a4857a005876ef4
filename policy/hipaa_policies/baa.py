"""The BAA boundary. AWS's Business Associate Addendum covers only the services on its HIPAA
Eligible Services Reference, so in a stack that may hold PHI every AWS resource must belong to a
listed service, or to a control-plane service that stores no customer content (IAM, billing...).

The list, its source and its revision are data (data/hipaa_eligible_services.json), read relative
to this file so the pack finds it whatever the CLI's working directory. A service AWS lists after
that revision is approved per stack with approvedServices in the stack's pack config, after review.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from pulumi_policy import Severity
from pulumi_policy.policy import _NotApplicableError

from .framework import HOLDS_PHI_SCHEMA, Control, Metadata, Resource, as_list, resource_policy

DATA_FILE = Path(__file__).resolve().parent / "data" / "hipaa_eligible_services.json"
BUSINESS_ASSOCIATES = Control("164.308(b)(1)", "Business associate contracts and other arrangements")

ELIGIBLE, NO_CONTENT, NOT_LISTED, EXCLUDED = "eligible", "no-customer-content", "not-listed", "excluded"
STATUSES = (ELIGIBLE, NO_CONTENT, NOT_LISTED, EXCLUDED)
ALLOWED = (ELIGIBLE, NO_CONTENT)

APPROVED_SERVICES = {"approvedServices": {
    "type": "array", "items": {"type": "string"}, "default": [],
    "description": "AWS services approved for this PHI stack after review although the pack's copy of AWS's "
                   "HIPAA Eligible Services Reference does not list them (AWS added them since). Names as the "
                   "policy's message quotes them; case does not matter.",
}}


class CatalogError(ValueError):
    """The eligibility data is inconsistent (a module maps to no service, a status is unknown...)."""


@dataclass(frozen=True)
class Service:
    key: str
    name: str
    status: str

    def approved_by(self, approved: frozenset[str]) -> bool:
        return self.name.casefold() in approved or self.key in approved


@dataclass(frozen=True)
class Exclusion:
    """A feature of a listed service that the reference excludes, recognised by a property value."""

    type: str
    property: str
    values: frozenset[str]
    default: Optional[str]
    service: Service
    fix: str


@dataclass(frozen=True)
class Catalog:
    title: str
    revision: str
    services: Mapping[str, Service]
    modules: Mapping[str, str]
    prefixes: Mapping[str, tuple[tuple[str, str], ...]]
    exclusions: Mapping[str, Exclusion]

    def service_of(self, type_: str) -> Optional[Service]:
        """The AWS service of a pulumi-aws type `aws:<module>/<member>:<Type>` (None: unknown module)."""
        module, member = module_of(type_), type_.split(":")[1].partition("/")[2]
        for prefix, key in self.prefixes.get(module, ()):
            if member.startswith(prefix):
                return self.services[key]
        key = self.modules.get(module)
        return self.services[key] if key else None


def module_of(type_: str) -> str:
    """`s3` for `aws:s3/bucket:Bucket`."""
    parts = type_.split(":")
    return parts[1].partition("/")[0] if len(parts) > 2 else ""


def load_catalog(path: Path = DATA_FILE) -> Catalog:
    """Read and check the eligibility data; an inconsistency stops the pack rather than let it guess."""
    data = json.loads(path.read_text(encoding="utf-8"))
    listed = set(data["listed"])
    services: dict[str, Service] = {}
    for key, entry in data["services"].items():
        status = entry["status"]
        if status not in STATUSES:
            raise CatalogError(f"service {key}: status {status!r} is not one of {', '.join(STATUSES)}")
        if status == ELIGIBLE and not (entry.get("listedAs") and set(entry["listedAs"]) <= listed):
            raise CatalogError(f"service {key}: an eligible service must quote its entries of the reference (listedAs)")
        if status == NO_CONTENT and not entry.get("reason"):
            raise CatalogError(f"service {key}: say why a service the reference does not list stores no customer content")
        services[key] = Service(key, entry["name"], status)

    def known(key: str, where: str) -> str:
        if key not in services:
            raise CatalogError(f"{where} maps to unknown service {key!r}")
        return key

    for key, entry in data["services"].items():
        if entry["status"] == EXCLUDED:
            known(entry.get("excludedFrom", ""), f"excluded feature {key}")
    modules = {m: known(k, f"module {m}") for m, k in data["modules"].items()}
    prefixes = {m: tuple(sorted(((p, known(k, f"{m}/{p}*")) for p, k in by_prefix.items()),
                                key=lambda item: -len(item[0])))  # longest prefix first
                for m, by_prefix in data.get("typePrefixes", {}).items()}
    exclusions = {e["type"]: Exclusion(e["type"], e["property"], frozenset(e["values"]), e.get("default"),
                                       services[known(e["service"], e["type"])], e["fix"])
                  for e in data.get("exclusions", [])}
    reference = data["reference"]
    return Catalog(reference["title"], reference["revision"], services, modules, prefixes, exclusions)


CATALOG = load_catalog()


def _reference() -> str:
    return f"AWS's {CATALOG.title} (revision of {CATALOG.revision})"


def _approve(name: str, change: str = "AWS has added it since") -> str:
    return f'if {change}, add "{name}" to approvedServices in this stack\'s pack config after review.'


def _approved(r: Resource) -> frozenset[str]:
    return frozenset(str(s).strip().casefold() for s in as_list(r.config.get("approvedServices")))


def _eligible(r: Resource) -> Iterable[str]:
    if not r.type.startswith("aws:"):
        raise _NotApplicableError("judges the resources of AWS services (aws:* types) only")
    if not r.holds_phi:
        raise _NotApplicableError("this stack's pack config says it holds no PHI (holdsPhi is false)")
    approved = _approved(r)
    service = CATALOG.service_of(r.type)
    if service is None:
        module = module_of(r.type)
        if module.casefold() not in approved:
            yield (f"Remove this resource of pulumi-aws module {module}: the policy pack does not know its AWS "
                   f"service, so it cannot find it on {_reference()}; map the module in the pack's data, or "
                   + _approve(module, "the service is listed"))
        return
    if service.status not in ALLOWED:
        if not service.approved_by(approved):
            yield f"Remove this {service.name} resource: {service.name} is not on {_reference()}; " + _approve(service.name)
        return
    exclusion = CATALOG.exclusions.get(r.type)
    if exclusion is None or exclusion.service.approved_by(approved):
        return
    value: Any = r.props.get(exclusion.property)  # unknown at preview: not judged
    value = exclusion.default if value is None else value
    if isinstance(value, str) and value in exclusion.values:
        feature = exclusion.service.name
        yield (f"{exclusion.fix}: {feature} is excluded from {service.name} on {_reference()}; "
               + _approve(feature, "AWS has lifted that exclusion since"))


POLICIES = [
    resource_policy(Metadata(
        "hipaa-baa-eligible-services",
        "In a PHI stack, every AWS resource must belong to a service on AWS's HIPAA Eligible Services Reference.",
        BUSINESS_ASSOCIATES,
        "Keep PHI workloads on HIPAA-eligible services. If AWS has listed the service since the pack's copy of the "
        "reference (policy/hipaa_policies/data/hipaa_eligible_services.json), review it and add its name to "
        "approvedServices in the stack's pack config, then update the pack's copy.",
        severity=Severity.CRITICAL, config={**HOLDS_PHI_SCHEMA, **APPROVED_SERVICES}, service="baa"),
        None, _eligible),
]

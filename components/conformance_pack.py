"""The AWS Config conformance pack for HIPAA Security, generated from the project's rule table."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from collections.abc import Mapping
from typing import Any, Optional

import yaml

RULE_TABLE = Path(__file__).parent / "data" / "hipaa_conformance_rules.yaml"
# AWS Config rejects inline template bodies above this size.
MAX_TEMPLATE_BODY_BYTES = 51_200


@dataclass(frozen=True)
class ConformanceRule:
    name: str
    identifier: str
    in_pack: bool
    parameters: dict[str, str] = field(default_factory=dict)
    frequency: Optional[str] = None
    resource_types: tuple[str, ...] = ()
    why: Optional[str] = None
    runtime_only: Optional[str] = None
    """Why no preview-time policy can prevent this rule (None: a policy does)."""


def load_rules(path: Path = RULE_TABLE) -> list[ConformanceRule]:
    """Every rule of AWS's HIPAA Security conformance pack, as kept in the project."""
    rows = yaml.safe_load(path.read_text())["rules"]
    return [ConformanceRule(
        name=row["name"], identifier=row["identifier"], in_pack=row["in_pack"],
        parameters=dict(row.get("parameters") or {}), frequency=row.get("frequency"),
        resource_types=tuple(row.get("resource_types") or ()), why=row.get("why"),
        runtime_only=row.get("runtime_only"),
    ) for row in rows]


def _logical_id(rule_name: str) -> str:
    return "".join(part.capitalize() for part in re.split(r"[^A-Za-z0-9]+", rule_name) if part)


def template_body(parameter_overrides: Mapping[str, Mapping[str, str]] = {},
                  rules: Optional[list[ConformanceRule]] = None) -> str:
    """A CloudFormation template (JSON) with one AWS managed Config rule per in-pack rule.

    `parameter_overrides` replaces rule parameters by rule name (e.g. this stack's VPC id).
    """
    resources: dict[str, Any] = {}
    for rule in rules if rules is not None else load_rules():
        if not rule.in_pack:
            continue
        properties: dict[str, Any] = {
            "ConfigRuleName": rule.name,
            "Source": {"Owner": "AWS", "SourceIdentifier": rule.identifier},
        }
        parameters = {**rule.parameters, **parameter_overrides.get(rule.name, {})}
        if parameters:
            properties["InputParameters"] = parameters
        if rule.frequency:
            properties["MaximumExecutionFrequency"] = rule.frequency
        if rule.resource_types:
            properties["Scope"] = {"ComplianceResourceTypes": list(rule.resource_types)}
        resources[_logical_id(rule.name)] = {"Type": "AWS::Config::ConfigRule",
                                             "Properties": properties}
    body = json.dumps({"Resources": resources}, separators=(",", ":"))
    if len(body.encode()) > MAX_TEMPLATE_BODY_BYTES:
        raise ValueError(f"conformance pack template is {len(body)} bytes; the limit is "
                         f"{MAX_TEMPLATE_BODY_BYTES}")
    return body

"""The application's audit event contract (docs/audit-event.schema.json): valid JSON Schema 2020-12, its
example valid, the fields the alarms read present, and the events that would mislead an investigation
refused."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

DOCS = Path(__file__).resolve().parent.parent / "docs"
SCHEMA: dict[str, Any] = json.loads((DOCS / "audit-event.schema.json").read_text())
EXAMPLE: dict[str, Any] = json.loads((DOCS / "audit-event.example.json").read_text())
VALIDATOR = jsonschema.Draft202012Validator(
    SCHEMA, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)


def event(**changes: Any) -> dict[str, Any]:
    """The example with some fields changed (None removes the field)."""
    out = copy.deepcopy(EXAMPLE)
    for key, value in changes.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = value
    return out


def errors(candidate: dict[str, Any]) -> list[str]:
    return [e.message for e in VALIDATOR.iter_errors(candidate)]


def test_schema_is_valid_json_schema_2020_12():
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


def test_example_is_a_valid_event():
    assert errors(EXAMPLE) == []


def test_every_field_is_documented():
    def described(properties: dict[str, Any], where: str) -> list[str]:
        missing = []
        for name, spec in properties.items():
            if not spec.get("description"):
                missing.append(f"{where}{name}")
            missing += described(spec.get("properties", {}), f"{where}{name}.")
        return missing

    assert described(SCHEMA["properties"], "") == []


def test_contract_field_names_the_alarms_read():
    """The metric filters and the Contributor Insights rule read these names and values: renaming one
    silently stops an alarm."""
    props = SCHEMA["properties"]
    assert set(SCHEMA["required"]) >= {"time", "actor", "action", "recordCount", "result", "sourceAddress",
                                       "requestId"}
    assert set(props["actor"]["required"]) == {"id", "type"}
    assert props["actor"]["properties"]["type"]["enum"] == ["user", "service"]
    assert set(props["action"]["enum"]) == {"read", "create", "update", "delete", "export", "sign-in",
                                            "sign-out", "search"}
    assert set(props["result"]["enum"]) == {"success", "failure", "denied"}
    assert props["recordCount"] == {**props["recordCount"], "type": "integer", "minimum": 0}
    assert {"patientId", "recordType", "recordId", "userAgent", "reason"} <= set(props)


@pytest.mark.parametrize("time", ["2026-12-06T14:03:27.123+02:00", "2026-12-06 14:03:27.123Z",
                                  "2026-12-06T14:03:27Z", "2026-12-06T24:03:27.123Z", "1733493807"])
def test_time_must_be_rfc3339_utc_with_milliseconds(time):
    """The off-hours alarm reads the UTC hour from the string: an offset would put it in the wrong hour."""
    assert errors(event(time=time))


@pytest.mark.parametrize("changes", [
    {"actor": {"id": "u-1", "type": "robot"}},
    {"actor": {"type": "user"}},
    {"actor": {"id": "Jane Doe", "type": "user"}},  # a display name, not a stable id
    {"action": "view"},
    {"result": "ok"},
    {"recordCount": -1},
    {"recordCount": 2.5},
    {"sourceAddress": "not-an-address"},
    {"requestId": None},
    {"patientName": "Jane Doe"},  # no PHI fields beyond the contract
])
def test_malformed_events_are_refused(changes):
    assert errors(event(**changes))


def test_sign_in_carries_no_patient_fields():
    sign_in = event(action="sign-in", recordCount=0, patientId=None, recordId=None, recordType=None)
    assert errors(sign_in) == []
    assert errors(dict(sign_in, patientId="P-1"))
    assert errors(dict(sign_in, recordCount=1))


def test_denied_and_failed_actions_return_no_records():
    assert errors(event(result="denied", recordCount=0)) == []
    assert errors(event(result="denied", recordCount=3))
    assert errors(event(result="failure", recordCount=1))


def test_ipv6_source_address_is_accepted():
    assert errors(event(sourceAddress="2001:db8::24")) == []

"""GuardDuty: detectors on."""

from __future__ import annotations

from collections.abc import Iterable

from .framework import INCIDENT_PROCEDURES, Metadata, Resource, resource_policy

DETECTOR = ("aws:guardduty/detector:Detector",)


def _detector(r: Resource) -> Iterable[str]:
    if r.props.bool("enable") is False:
        yield "Set enable to true."


POLICIES = [
    resource_policy(Metadata("aws-guardduty-detector-enabled", "GuardDuty detectors must be enabled.",
                             INCIDENT_PROCEDURES, "Set enable=true.",
                             config_rules=("guardduty-enabled-centralized",), service="guardduty"), DETECTOR, _detector),
]

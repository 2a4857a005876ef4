"""GuardDuty, Security Hub and AWS Config: on, and present in every PHI stack."""

from __future__ import annotations

from typing import Iterable

from .framework import (
    ACTIVITY_REVIEW, HOLDS_PHI_SCHEMA, INCIDENT_PROCEDURES, Metadata, Resource, Stack, resource_policy,
    stack_policy,
)

DETECTOR = ("aws:guardduty/detector:Detector",)
HUB = ("aws:securityhub/account:Account",)
RECORDER = ("aws:cfg/recorder:Recorder",)
RECORDER_STATUS = ("aws:cfg/recorderStatus:RecorderStatus",)


def _detector(r: Resource) -> Iterable[str]:
    if r.props.bool("enable") is False:
        yield "Set enable to true."


def _recorder(r: Resource) -> Iterable[str]:
    group = r.props.map("recordingGroup")
    if group.get("allSupported") is not True or group.get("includeGlobalResourceTypes") is not True:
        yield "Set recordingGroup.allSupported and recordingGroup.includeGlobalResourceTypes to true."


def _recorder_status(r: Resource) -> Iterable[str]:
    if r.props.bool("isEnabled") is not True:
        yield "Set isEnabled to true."


def _phi_stack_detection(stack: Stack) -> Iterable[tuple[str, str]]:
    if not stack.holds_phi:
        return
    anchor = stack.resources[0].urn if stack.resources else ""
    for types, message in (
            (DETECTOR, "Add a GuardDuty detector (ThreatDetection component)."),
            (HUB, "Enable Security Hub (ThreatDetection component)."),
            (RECORDER, "Add an AWS Config recorder for all resource types (ThreatDetection component)."),
            (RECORDER_STATUS, "Switch the AWS Config recorder on with a RecorderStatus.")):
        if not stack.of_type(*types):
            yield message, anchor


POLICIES = [
    resource_policy(Metadata("aws-guardduty-detector-enabled", "GuardDuty detectors must be enabled.",
                             INCIDENT_PROCEDURES, "Set enable=true.",
                             config_rules=("guardduty-enabled-centralized",), service="guardduty"), DETECTOR, _detector),
    resource_policy(Metadata("aws-config-recorder-all-resources", "AWS Config must record all resource types, global ones included.",
                             ACTIVITY_REVIEW, "Set recordingGroup allSupported and includeGlobalResourceTypes.",
                             service="config"), RECORDER, _recorder),
    resource_policy(Metadata("aws-config-recorder-on", "The AWS Config recorder must be switched on.",
                             ACTIVITY_REVIEW, "Set RecorderStatus isEnabled=true.", service="config"),
                    RECORDER_STATUS, _recorder_status),
    stack_policy(Metadata("aws-phi-stack-threat-detection", "A PHI stack must run GuardDuty, Security Hub and AWS Config.",
                          INCIDENT_PROCEDURES, "Include the ThreatDetection component.",
                          config_rules=("guardduty-enabled-centralized", "securityhub-enabled"),
                          config=HOLDS_PHI_SCHEMA, service="security"), _phi_stack_detection),
]

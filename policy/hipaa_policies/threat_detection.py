"""A PHI stack runs GuardDuty, Security Hub and AWS Config (one stack-level check across the three)."""

from __future__ import annotations

from collections.abc import Iterable

from .framework import (
    ACCOUNT_CONTROLS_SCHEMA, HOLDS_PHI_SCHEMA, INCIDENT_PROCEDURES, Metadata, Stack,
    account_controls_elsewhere, stack_policy,
)

DETECTOR = ("aws:guardduty/detector:Detector",)
HUB = ("aws:securityhub/account:Account",)
RECORDER = ("aws:cfg/recorder:Recorder",)
RECORDER_STATUS = ("aws:cfg/recorderStatus:RecorderStatus",)


def _phi_stack_detection(stack: Stack) -> Iterable[tuple[str, str]]:
    if not stack.holds_phi or account_controls_elsewhere(stack.config):
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
    stack_policy(Metadata("aws-phi-stack-threat-detection", "A PHI stack must run GuardDuty, Security Hub and AWS Config, or declare who runs them for its account.",
                          INCIDENT_PROCEDURES, "Own the account layer (accountBaseline: owned), or set accountControlsProvidedBy in the stack's pack config after review.",
                          config_rules=("guardduty-enabled-centralized", "securityhub-enabled"),
                          config={**HOLDS_PHI_SCHEMA, **ACCOUNT_CONTROLS_SCHEMA}, service="security"), _phi_stack_detection),
]

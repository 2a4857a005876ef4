"""AWS Config: the recorder records everything and is switched on."""

from __future__ import annotations

from collections.abc import Iterable

from .framework import ACTIVITY_REVIEW, Metadata, Resource, resource_policy

RECORDER = ("aws:cfg/recorder:Recorder",)
RECORDER_STATUS = ("aws:cfg/recorderStatus:RecorderStatus",)


def _recorder(r: Resource) -> Iterable[str]:
    group = r.props.map("recordingGroup")
    if group.get("allSupported") is not True or group.get("includeGlobalResourceTypes") is not True:
        yield "Set recordingGroup.allSupported and recordingGroup.includeGlobalResourceTypes to true."


def _recorder_status(r: Resource) -> Iterable[str]:
    if r.props.bool("isEnabled") is not True:
        yield "Set isEnabled to true."


POLICIES = [
    resource_policy(Metadata("aws-config-recorder-all-resources", "AWS Config must record all resource types, global ones included.",
                             ACTIVITY_REVIEW, "Set recordingGroup allSupported and includeGlobalResourceTypes.",
                             service="config"), RECORDER, _recorder),
    resource_policy(Metadata("aws-config-recorder-on", "The AWS Config recorder must be switched on.",
                             ACTIVITY_REVIEW, "Set RecorderStatus isEnabled=true.", service="config"),
                    RECORDER_STATUS, _recorder_status),
]

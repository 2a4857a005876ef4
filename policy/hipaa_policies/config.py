"""AWS Config: the recorder records everything and is switched on."""

from __future__ import annotations

from collections.abc import Iterable

from .framework import ACTIVITY_REVIEW, Metadata, Resource, resource_policy

RECORDER = ("aws:cfg/recorder:Recorder",)
RECORDER_STATUS = ("aws:cfg/recorderStatus:RecorderStatus",)


# botocore `config` RecordingGroup.includeGlobalResourceTypes: the global IAM resource types "can only
# be recorded by Config in Regions where Config was available before February 2022. You cannot record
# the global IAM resource types in Regions supported by Config after February 2022." An account records
# them in one Region; the recorders of its other Regions leave them out.
GLOBAL_TYPES_ELSEWHERE = {"globalResourceTypesRecordedElsewhere": {
    "type": "boolean", "default": False,
    "description": "True when another Region's recorder of this account records the global IAM resource "
                   "types (AWS Config records them in one Region, and cannot in Regions it added after "
                   "February 2022); this stack's recorder may then set includeGlobalResourceTypes false."}}


def _recorder(r: Resource) -> Iterable[str]:
    group = r.props.map("recordingGroup")
    global_types = group.get("includeGlobalResourceTypes") is True or r.config["globalResourceTypesRecordedElsewhere"]
    if group.get("allSupported") is not True or not global_types:
        yield "Set recordingGroup.allSupported and recordingGroup.includeGlobalResourceTypes to true."


def _recorder_status(r: Resource) -> Iterable[str]:
    if r.props.bool("isEnabled") is not True:
        yield "Set isEnabled to true."


POLICIES = [
    resource_policy(Metadata("aws-config-recorder-all-resources", "AWS Config must record all resource types, global ones included.",
                             ACTIVITY_REVIEW, "Set recordingGroup allSupported and includeGlobalResourceTypes "
                             "(in the one Region that records the global IAM types).",
                             service="config", config=GLOBAL_TYPES_ELSEWHERE), RECORDER, _recorder),
    resource_policy(Metadata("aws-config-recorder-on", "The AWS Config recorder must be switched on.",
                             ACTIVITY_REVIEW, "Set RecorderStatus isEnabled=true.", service="config"),
                    RECORDER_STATUS, _recorder_status),
]

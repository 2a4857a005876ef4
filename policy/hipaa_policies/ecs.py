"""ECS task definitions: read-only root filesystems; no root containers on the host network."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping

from .framework import ACCESS_CONTROL, INTEGRITY, Metadata, Resource, not_applicable, resource_policy

TASK_DEFINITION = ("aws:ecs/taskDefinition:TaskDefinition",)


def _containers(r: Resource) -> list[Mapping]:
    raw = r.props.get("containerDefinitions")
    try:
        parsed = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        return []
    return [c for c in parsed if isinstance(c, Mapping)] if isinstance(parsed, list) else []


def _read_only(r: Resource) -> Iterable[str]:
    writable = [c for c in _containers(r) if c.get("readonlyRootFilesystem") is not True]
    # botocore `ecs` ContainerDefinition.readonlyRootFilesystem: "This parameter is not supported for
    # Windows containers" (OSFamily WINDOWS_SERVER_*, set in runtimePlatform.operatingSystemFamily).
    if writable and str(r.props.get("runtimePlatform", "operatingSystemFamily") or "").startswith("WINDOWS"):
        not_applicable("Windows containers have no read-only root filesystem (botocore ecs "
                       "ContainerDefinition.readonlyRootFilesystem: not supported for Windows containers).")
    for container in writable:
        yield f"Set readonlyRootFilesystem to true for container {container.get('name', '?')}."


def _host_mode_user(r: Resource) -> Iterable[str]:
    if r.props.get("networkMode") != "host":
        return
    for container in _containers(r):
        if container.get("privileged") is True or str(container.get("user", "root")).split(":")[0] in ("root", "0"):
            yield (f"Run container {container.get('name', '?')} as a non-root user without privileged "
                   "mode, or leave host networking.")


POLICIES = [
    resource_policy(Metadata("aws-ecs-read-only-root-filesystem", "ECS containers must have read-only root filesystems.",
                             INTEGRITY, "Set readonlyRootFilesystem=true in every container definition.",
                             config_rules=("ecs-containers-readonly-access",), service="ecs"),
                    TASK_DEFINITION, _read_only),
    resource_policy(Metadata("aws-ecs-host-network-non-root", "ECS containers on the host network must not run as root or privileged.",
                             ACCESS_CONTROL, "Set user to a non-root user and privileged=false, or use awsvpc networking.",
                             config_rules=("ecs-task-definition-user-for-host-mode-check",), service="ecs"),
                    TASK_DEFINITION, _host_mode_user),
]

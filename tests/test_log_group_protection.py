"""Every log group of a PHI stack has CloudWatch Logs deletion protection; a synthetic stack's do not.

The stack transform (components/log_group_protection.py) sets `deletionProtectionEnabled` (the
engine's input name: transforms see camelCase names, a snake_case key would reach the provider as an
unknown input) on every aws:cloudwatch/logGroup:LogGroup, so a log group added later is covered too.
"""

from __future__ import annotations

from tests.conftest import cached_run

LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"


def _log_groups(stack):
    return {r.name: dict(r.inputs) for r in cached_run(stack).engine_resources if r.type == LOG_GROUP}


def test_every_log_group_of_the_phi_stack_is_deletion_protected():
    groups = _log_groups("prod")
    assert len(groups) >= 5
    assert {name for name, inputs in groups.items() if inputs.get("deletionProtectionEnabled") is not True} == set()
    assert not any("deletion_protection_enabled" in inputs for inputs in groups.values())


def test_a_synthetic_stack_can_tear_its_log_groups_down():
    groups = _log_groups("staging")
    assert groups and not any("deletionProtectionEnabled" in inputs for inputs in groups.values())

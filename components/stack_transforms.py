"""The stack transforms every environment program registers before its first resource.

One function, so a program built from these components (this project's `__main__.py`, a test
fixture, another team's program) cannot register the tags and forget the PHI protections:
- every taggable resource gets the stack's required tags (tagging.py);
- in a stack that holds PHI, every log group gets deletion protection (log_group_protection.py).
"""

from __future__ import annotations

import pulumi

from components.log_group_protection import protect_log_group
from components.settings import Settings
from components.tagging import tagging_transform


def stack_transforms(settings: Settings) -> list[pulumi.ResourceTransform]:
    """The transforms, in order: tags; in a PHI stack, log groups' deletion protection (six years of
    audit evidence cannot be deleted by accident). The component package (components/package/)
    passes them as a component's `transforms` option, which the engine applies to its descendants
    only, where a stack transform would also change the consuming program's own resources."""
    return [tagging_transform(settings.tags()), *([protect_log_group] if settings.holds_phi else [])]


def register_stack_transforms(settings: Settings) -> None:
    for transform in stack_transforms(settings):
        pulumi.runtime.register_resource_transform(transform)

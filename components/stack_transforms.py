"""The stack transforms every environment program registers before its first resource.

One function, so a program built from these components (this project's `__main__.py`, a test
fixture, another team's program) cannot register the tags and forget the PHI protections:
- every taggable resource gets the stack's required tags (tagging.py);
- in a stack that holds PHI, every log group gets deletion protection (log_group_protection.py).
"""

from __future__ import annotations

from components.log_group_protection import register_log_group_protection
from components.settings import Settings
from components.tagging import register_tagging


def register_stack_transforms(settings: Settings) -> None:
    register_tagging(settings.tags())
    if settings.holds_phi:
        register_log_group_protection()  # six years of audit evidence cannot be deleted by accident

"""Every alarm links the runbook that says what to do when it fires.

An alarm notification reaches someone at 3 a.m.; the description it carries is the one text they are
certain to see. Ending every alarm description with the path of its runbook makes the first step
obvious, and lets tests/test_runbooks.py prove that no alarm lacks one.
"""

from __future__ import annotations

RUNBOOK_DIR = "docs/runbooks"
"""Where the runbooks live, relative to the repository root."""


def runbook_path(key: str) -> str:
    """The runbook's path relative to the repository root."""
    return f"{RUNBOOK_DIR}/{key}.md"


def runbook_link(key: str) -> str:
    """The suffix every alarm description ends with: `Runbook: docs/runbooks/<key>.md`."""
    return f"Runbook: {runbook_path(key)}"


ALARM_DESCRIPTION_LIMIT = 1024
"""PutMetricAlarm's AlarmDescription is at most 1,024 characters (botocore `cloudwatch` model)."""


def with_runbook(description: str, key: str) -> str:
    """`description`, then the runbook link: the form every alarm description takes."""
    text = f"{description.rstrip('. ')}. {runbook_link(key)}"
    if len(text) > ALARM_DESCRIPTION_LIMIT:
        raise ValueError(f"alarm description for runbook {key!r} has {len(text)} characters, more than "
                         f"CloudWatch's {ALARM_DESCRIPTION_LIMIT}")
    return text

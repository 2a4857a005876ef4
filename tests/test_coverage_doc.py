"""docs/hipaa-coverage.md is current, and every HIPAA pack rule is either prevented or explained."""

from __future__ import annotations

import subprocess
import sys

from components.conformance_pack import load_rules
from preflight.policy_pack_client import POLICY_DIR
from preflight.stack_config import PROJECT_DIR


def _policy_tags() -> dict[str, list[str]]:
    sys.path.insert(0, str(POLICY_DIR))
    from hipaa_policies import ALL_POLICIES
    return {p.name: list(p.tags or []) for p in ALL_POLICIES}


def test_coverage_document_is_current():
    result = subprocess.run([sys.executable, "docs/generate_coverage.py", "--check"], cwd=PROJECT_DIR,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_rule_is_prevented_by_a_policy_or_explained_as_runtime_only():
    tags = _policy_tags()
    prevented = {t.split(":", 1)[1] for ts in tags.values() for t in ts if t.startswith("config-rule:")}
    rules = load_rules()
    assert prevented <= {r.name for r in rules}, "a policy names a rule that is not in the HIPAA pack"
    for rule in rules:
        assert (rule.name in prevented) != bool(rule.runtime_only), rule.name


def test_every_program_control_names_files_that_exist():
    """The coverage document's "Controls the program builds" rows point a reader to files: each must
    exist, so the table cannot outlive the code that serves the section."""
    import re
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    sys.path.insert(0, str(root / "docs"))
    from generate_coverage import PROGRAM_CONTROLS

    named = [p for _, _, where in PROGRAM_CONTROLS for p in re.findall(r"`([^`]+)`", where)]
    assert named and [p for p in named if not (root / p).exists()] == []
    sections = " ".join(section for section, _, _ in PROGRAM_CONTROLS)
    for section in ("164.308(a)(6)", "164.312(b)", "164.404-164.410"):
        assert section in sections

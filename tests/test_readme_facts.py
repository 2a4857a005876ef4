"""What the README states about the code is what the code does: its cross-references lead somewhere,
the counts it quotes are the counts the program computes, the files it names exist, and the names it
promises are the names the program gives.

Each of these drifted once (issue 16, item 18): a count off by one, a "see" pointing at a section of
another name, a module docstring naming a database user the program never creates.
"""

from __future__ import annotations

import re

import pytest

from components.conformance_pack import load_rules
from components.policy_documents import database_user
from preflight.stack_config import PROJECT_DIR, stack_names

README = (PROJECT_DIR / "README.md").read_text()
FLAT = " ".join(README.split())  # sentences wrap across lines


def _section_titles() -> list[str]:
    """Headings, and the bold lead of a paragraph or list item (`**Creating the database users.**`)."""
    headings = [m.group(1) for m in re.finditer(r"^#+\s+(.+)$", README, re.M)]
    leads = [m.group(1) for m in re.finditer(r"^(?:- )?\*\*([^*]+)\*\*", README, re.M)]
    return [" ".join(t.replace("`", "").split()).rstrip(".:") for t in headings + leads]


@pytest.mark.parametrize("target", sorted(set(re.findall(r'\bsee "([^"]+)"', FLAT))))
def test_every_see_reference_names_a_section_that_exists(target):
    titles = _section_titles()
    assert any(title == target or title.startswith(target) for title in titles), (
        f'README says see "{target}", but no heading or bold paragraph lead starts with it')


def test_the_readme_quotes_the_number_of_conformance_rules_the_program_deploys():
    deployed = sum(rule.in_pack for rule in load_rules())
    quoted = re.search(r"AWS's (\d+) managed rules; the (\d+) that apply", FLAT)
    assert quoted, "the README no longer quotes the conformance pack's size"
    assert (int(quoted.group(1)), int(quoted.group(2))) == (len(load_rules()), deployed)


@pytest.mark.parametrize("path", sorted(set(re.findall(
    r"`((?:components|policy|preflight|bootstrap|docs|tests|bench|stacks|organization)/[\w./-]+?\.(?:py|md|yaml|json|svg))`",
    README))))
def test_every_file_the_readme_names_exists(path):
    assert (PROJECT_DIR / path).exists(), f"README names {path}, which does not exist"


@pytest.mark.parametrize("stack", stack_names())
def test_the_database_user_names_the_readme_promises_are_the_ones_the_program_grants(stack):
    # README: "its own database user `app_<stack>`" and "`phi_operator_<stack>`".
    assert "`app_<stack>`" in FLAT and "`phi_operator_<stack>`" in FLAT
    assert database_user(stack, "app") == f"app_{stack.replace('-', '_')}"
    assert database_user(stack, "phi_operator") == f"phi_operator_{stack.replace('-', '_')}"

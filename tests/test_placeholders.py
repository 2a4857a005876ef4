"""Every example value a user must replace is in placeholders.yaml, is found wherever it sits, and
stops a real `pulumi up` (never a preview or the offline preflight)."""

from __future__ import annotations

import ast
import json
import re
import shutil

import pulumi
import pytest
from pulumi.runtime.config import set_all_config

from components import placeholders
from preflight import placeholders as cli
from preflight.stack_config import PROJECT_DIR, load_stack_config
from stacks import catalog
from tests.conftest import STACKS, cached_run

REGISTER = placeholders.load_register()
SHIPPED = [p for pattern in cli.CONFIG_GLOBS for p in sorted(PROJECT_DIR.glob(pattern))]
# What identifies a company's own value in the shipped files (the kinds the README's list names:
# account ids, emails and domains, Identity Center ids, the repository, hosted zone and certificate
# ids, the company's network ranges).
OWN_VALUE_PATTERNS = {
    "account id": r"(?<!\d)\d{12}(?!\d)",
    "email domain": r"@([a-z0-9.-]+)",
    "Identity Center instance": r"ssoins-[0-9a-f]{16}",
    # botocore `identitystore` DescribeGroup GroupId (shape ResourceId): an optional 10-hex prefix, a UUID.
    "Identity Center group": r"[0-9a-f]{10}-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
    "hosted zone": r"\bZ[0-9A-Z]{10,32}\b",
    "certificate id": r"certificate/([0-9a-f-]{36})",
    "GitHub repository": r"githubRepository\": \"([^\"]+)\"",
    "organization id": r"\bo-[a-z0-9]{10,32}\b",
    "root id": r"\br-[a-z0-9]{4,32}\b",
    "client range": r"allowedClientCidrs\": \[([^\]]+)\]",
}


# Accounts a stack file pins are the user's own statement of their account (`python -m stacks.new
# --account`); an example account among them is caught because it is registered.
PINNED = {a for a in [*(s.account_id for s in catalog.stacks().values()),
                      *catalog.bootstrap_stacks().values()] if a}


def covered(text: str) -> bool:
    return any(p.value in text for p in REGISTER)


def test_every_registered_placeholder_is_somewhere_in_the_shipped_files():
    found = cli.scan(SHIPPED, REGISTER)
    used = {left.placeholder.value for lefts in found.values() for left in lefts}
    assert sorted(p.value for p in REGISTER if p.value not in used) == []
    assert len({p.value for p in REGISTER}) == len(REGISTER)
    assert all(p.what and p.replace_with for p in REGISTER)


def test_each_kind_of_company_value_occurs_in_the_shipped_files():
    """The patterns below find what they are meant to (else the completeness test proves nothing)."""
    values = " ".join(json.dumps(cli.file_config(path)) for path in SHIPPED)
    assert [kind for kind, pattern in OWN_VALUE_PATTERNS.items() if not re.search(pattern, values)] == []


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: str(p.relative_to(PROJECT_DIR)))
def test_every_company_value_in_the_shipped_files_is_a_registered_placeholder(path):
    """No account id, domain, Identity Center id, repository or network range ships unregistered
    (values only: comments are read by people, not by AWS)."""
    values = json.dumps(cli.file_config(path))
    for kind, pattern in OWN_VALUE_PATTERNS.items():
        for match in re.finditer(pattern, values):
            text = match.group(1) if match.groups() else match.group(0)
            if kind == "client range":
                assert all(covered(r) for r in json.loads(f"[{text}]")), (kind, text)
            elif not (kind == "account id" and text in PINNED):
                assert covered(text), f"{path.name}: {kind} {text} is not in placeholders.yaml"


def test_the_check_names_file_key_and_what_to_put(capsys):
    assert cli.main(["staging"]) == 1
    out = capsys.readouterr().out
    assert ("stacks/Pulumi.staging.yaml: hipaa-aws:app.certificateArn holds 210987654321 (staging's AWS "
            "account)") in out
    assert ("bootstrap/Pulumi.staging.yaml: hipaa-aws-state:githubRepository holds "
            "example-health/hipaa-aws") in out
    assert ("policy/config/staging.json: hipaa-no-phi-access-from-synthetic-stack.phiResourcePatterns[2] "
            "holds 123456789012") in out
    assert "Pulumi.prod.yaml" not in out  # only what deploying staging reads


def test_a_tree_with_every_placeholder_replaced_passes(tmp_path, capsys):
    for path in SHIPPED:
        target = tmp_path / path.relative_to(PROJECT_DIR)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, target)
    assert cli.main([], root=tmp_path) == 1
    replacements = {p.value: f"{n:012d}" if p.value.isdigit() else f"real-{n}"
                    for n, p in enumerate(REGISTER, start=100000000000)}
    for path in tmp_path.rglob("*.*"):
        text = path.read_text()
        for old, new in replacements.items():
            text = text.replace(old, new)
        path.write_text(text)
    capsys.readouterr()
    assert cli.main([], root=tmp_path) == 0
    assert capsys.readouterr().out == "no placeholder left\n"


def test_the_readme_table_lists_every_placeholder_with_where_it_is(capsys):
    assert cli.main(["--markdown"]) == 0
    table = capsys.readouterr().out
    for placeholder in REGISTER:
        row = next(line for line in table.splitlines() if line.startswith(f"| `{placeholder.value}` |"))
        assert "`stacks/" in row or "`bootstrap/" in row or "`organization/" in row or "`policy/" in row, row


# ---- the refusal, where `pulumi up` meets it ----

def _as_real_update(monkeypatch, stack: str, values: dict[str, str]) -> None:
    """The runtime as the language host sets it for `pulumi up`: no mock monitor, not a dry run,
    the stack's config (set_all_config is what the SDK's own hosts call)."""
    monkeypatch.setattr(placeholders.pulumi.runtime, "is_dry_run", lambda: False)
    monkeypatch.setattr(placeholders, "_under_mocks", lambda: False)
    monkeypatch.setattr(placeholders.pulumi, "get_stack", lambda: stack)
    monkeypatch.delenv("PULUMI_CONFIG", raising=False)
    set_all_config(values)


@pytest.mark.parametrize("stack", STACKS)
def test_a_real_update_of_a_shipped_stack_is_refused_naming_each_key(monkeypatch, stack):
    values = dict(load_stack_config(stack).values)
    _as_real_update(monkeypatch, stack, values)
    try:
        with pytest.raises(pulumi.RunError) as refused:
            placeholders.refuse_placeholders_on_update()
    finally:
        set_all_config({}, [])
    message = str(refused.value)
    assert message.startswith(f"stack '{stack}': ")
    for left in placeholders.placeholders_left(values, REGISTER):
        assert left.describe() in message
    assert "hipaa-aws:owner holds example-health.com" in message


def test_a_real_update_with_every_placeholder_replaced_goes_ahead(monkeypatch):
    values = {k: re.sub(r"\d{12}", "444455556666", v).replace("example-health.com", "clinic.example.org")
              for k, v in load_stack_config("staging").values.items()}
    assert placeholders.placeholders_left(values, REGISTER) != []  # still: cost centers, group ids...
    for placeholder in REGISTER:
        values = {k: v.replace(placeholder.value, "replaced") for k, v in values.items()}
    _as_real_update(monkeypatch, "staging", values)
    try:
        placeholders.refuse_placeholders_on_update()
    finally:
        set_all_config({}, [])


def test_preview_and_the_mock_runtime_are_never_refused():
    """`pulumi preview` (a dry run) and Pulumi's mock runtime (the preflight, these tests) run the
    shipped examples: the program ran as an update under mocks and as a preview."""
    for stack in STACKS:
        assert cached_run(stack, preview=False).stack_outputs["vpcId"]
        assert cached_run(stack, preview=True).resources


def test_the_programs_call_the_refusal_before_anything_else():
    """The program, the bootstrap and the organization: the first statement after the imports (and
    the bootstrap's sys.path set-up) is the refusal, so nothing reads config or registers before it."""
    for main in ("__main__.py", "bootstrap/__main__.py", "organization/__main__.py"):
        body = ast.parse((PROJECT_DIR / main).read_text()).body
        statements = [s for s in body if not isinstance(s, (ast.Import, ast.ImportFrom))
                      and not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))
                      and "sys.path" not in ast.unparse(s)]
        assert ast.unparse(statements[0]) == "refuse_placeholders_on_update()", main


def test_a_new_stack_keeps_the_templates_placeholders_but_not_its_own_account(tmp_path, capsys):
    """What the new stack still holds is the template's placeholders, less the template's account."""
    from stacks import new
    from tests.test_stack_catalog import NEW, NEW_ACCOUNT, project_copy
    root = project_copy(tmp_path)
    assert new.main([NEW, "--from", "staging", "--account", NEW_ACCOUNT, "--region", "us-west-2",
                     "--no-generate"], root=root) == 0
    staging = catalog.stacks()["staging"]
    left = {(x.key, x.placeholder.value) for x in placeholders.placeholders_left(
        cli.file_config(root / "stacks" / f"Pulumi.{NEW}.yaml"), REGISTER)}
    template = {(x.key, x.placeholder.value) for x in placeholders.placeholders_left(
        cli.file_config(PROJECT_DIR / staging.stack_file), REGISTER)}
    assert left == {x for x in template if x[1] != staging.account_id}
    assert ("hipaa-aws:owner", "example-health.com") in left
    capsys.readouterr()
    assert cli.main([NEW], root=root) == 1
    out = capsys.readouterr().out
    assert f"stacks/Pulumi.{NEW}.yaml: hipaa-aws:owner holds example-health.com" in out
    assert "aws:allowedAccountIds" not in out and NEW_ACCOUNT not in out


def test_the_register_path_is_the_projects(tmp_path):
    assert placeholders.REGISTER == PROJECT_DIR / "placeholders.yaml"
    empty = tmp_path / "placeholders.yaml"
    empty.write_text("placeholders: []\n")
    assert placeholders.load_register(empty) == ()
    assert cli.main([], register_path=empty) == 0

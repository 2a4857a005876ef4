"""No stack file makes the preflight or the program fail with a traceback: whatever YAML a user
writes, the stack-file loader (preflight/stack_config.py) and the settings validation
(components/settings.py) either accept it or refuse it with one message that names the stack, the
key, the bad value and what is allowed; `python -m preflight` then exits 2 with that message."""

from __future__ import annotations

import datetime
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pulumi
import pytest
import yaml
from hypothesis import HealthCheck, given, settings, strategies as st

from components.settings import parse_settings
from preflight.stack_config import PROJECT_DIR, StackConfigError, load_stack_config

STAGING = yaml.safe_load((PROJECT_DIR / "stacks" / "Pulumi.staging.yaml").read_text())
KEYS = sorted(STAGING["config"]) + ["aws:region", "hipaa-aws:backupCopyRegion", "hipaa-aws:cache",
                                    "hipaa-aws:identityCenter", "hipaa-aws:accountLayer", "hipaa-aws:typo",
                                    "region", "pulumi:tags", "aws:", ":", "a:b:c"]
NESTED_KEYS = ["multiAz", "multiAZ", "backupRetentionDays", "imageTag", "cpu", "memoryMib", "instanceArn",
               "groups", "readOnly", "engine", "nodeCount", "secure", "archiveTransitionDays", "x"]
ODD_TEXT = ["\udc80", "a\ud800b", "", " ", "us-east-7", "us-north-9", "123456789012", "[123456789012]",
            '["123456789012", "210987654321"]', "{not json", "null", "~", "0x1F", "1e400", "a" * 300,
            "arn:aws:iam::123456789012:role/x", "10.0.0.0/8", "\x00", "\u202e", "phi", "owned"]

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-2**70, 2**70), st.floats(), st.text(max_size=12),
    st.sampled_from(ODD_TEXT), st.dates(), st.datetimes(timezones=st.just(datetime.UTC)),
    st.binary(max_size=4), st.sets(st.integers(0, 3), max_size=2))
values = st.recursive(scalars, lambda children: st.one_of(
    st.lists(children, max_size=3),
    st.dictionaries(st.one_of(st.sampled_from(NESTED_KEYS), st.integers(0, 3), st.text(max_size=4)),
                    children, max_size=4)), max_leaves=12)


@st.composite
def stack_documents(draw) -> object:
    """The staging stack file with keys replaced, added or removed, or something else entirely."""
    kind = draw(st.sampled_from(["mutated"] * 8 + ["config", "document"]))
    if kind == "document":
        return draw(values)
    if kind == "config":
        return {"config": draw(values)}
    config = dict(STAGING["config"])
    for key in draw(st.lists(st.sampled_from(sorted(config)), max_size=3)):
        config.pop(key, None)
    config.update(draw(st.dictionaries(st.one_of(st.sampled_from(KEYS), st.integers(0, 3), st.text(max_size=6)),
                                       values, max_size=4)))
    return {"config": config}


def _dump(document: object) -> str:
    # PyYAML writes what it cannot print as an escape ("\uDC80"), which reads back as that value.
    return yaml.safe_dump(document, allow_unicode=False)


def _problem_lines(message: str) -> list[str]:
    head, *lines = message.splitlines()
    assert head.startswith("stack 'staging' has ") and head.endswith("nothing was created:"), message
    assert lines and all(line.startswith(("  - hipaa-aws:", "  - aws:", "  - stack name ")) for line in lines), message
    return lines


def check_stack_file(path: Path) -> None:
    """What the preflight and the program do with a stack file, short of running the resources."""
    try:
        config = load_stack_config("staging", stack_file=path)
    except StackConfigError as err:
        message = str(err)
        assert message.startswith(str(path)), message
        message.encode("utf-8")  # printable as it is
        return
    assert all(isinstance(v, str) for v in config.values.values())
    for key, value in config.values.items():
        (key + value).encode("utf-8")  # what the engine's gRPC and the program get is text
    # As the program reads it (components/settings.py load_settings): the project's keys and the
    # provider's region and account.
    raw = {k.split(":", 1)[1]: v for k, v in config.values.items() if k.startswith("hipaa-aws:")}
    aws = {key: config.values.get(f"aws:{key}") for key in ("region", "allowedAccountIds")}
    try:
        parse_settings("staging", raw, aws=aws)
    except pulumi.RunError as err:
        _problem_lines(str(err))
        str(err).encode("utf-8")


@pytest.fixture(scope="module")
def scratch():
    with tempfile.TemporaryDirectory() as directory:
        yield Path(directory)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(document=stack_documents())
def test_any_stack_document_is_loaded_or_refused_with_a_message(scratch, document):
    path = scratch / "Pulumi.staging.yaml"
    path.write_text(_dump(document))
    check_stack_file(path)


@settings(max_examples=100, deadline=None)
@given(content=st.one_of(st.binary(max_size=40), st.text(max_size=40).map(str.encode),
                         st.sampled_from([b"config:\n  - a\n", b"config: 3\n", b"- x\n", b"config: {1: 2}\n",
                                          b"config:\n  hipaa-aws:owner: !!binary aGk=\n", b"\xff\xfe",
                                          b"config:\n  ? [a, b]\n  : c\n", b"config: &a [*a]\n",
                                          b"config:\n  hipaa-aws:database: &a\n    x: *a\n",
                                          b"config:\n  hipaa-aws:app: " + b"[" * 900 + b"]" * 900])))
def test_any_file_content_is_loaded_or_refused_with_a_message(scratch, content):
    path = scratch / "Pulumi.staging.yaml"
    path.write_bytes(content)
    check_stack_file(path)


def _staging(old: str, new: str) -> str:
    text = (PROJECT_DIR / "stacks" / "Pulumi.staging.yaml").read_text()
    assert old in text
    return text.replace(old, new)


# (what the stack file says, the words of the message: key, bad value, what is allowed)
CLI_CASES = {
    "config-as-a-list": ("config:\n  - hipaa-aws:owner: a@b.co\n",
                         ["`config` must be a mapping", "not a list"]),
    "lone-surrogate": (_staging("hipaa-aws:costCenter: cc-1002-clinical-platform-staging",
                                'hipaa-aws:costCenter: "cc-\\udc80"'),
                       ["hipaa-aws:costCenter", "\\udc80, a lone surrogate", "write the character itself"]),
    "region-that-does-not-exist": (_staging("aws:region: us-east-1", "aws:region: us-east-7"),
                                   ["aws:region = 'us-east-7': not an AWS region", "us-east-1, us-east-2"]),
    "backup-copy-region-that-does-not-exist": (
        _staging("hipaa-aws:owner:", "hipaa-aws:backupCopyRegion: us-north-9\n  hipaa-aws:owner:"),
        ["hipaa-aws:backupCopyRegion = 'us-north-9': not an AWS region", "us-west-2"]),
    "no-region": (_staging("aws:region: us-east-1\n", ""), ["aws:region: required but not set"]),
    "account-as-a-scalar": (_staging('aws:allowedAccountIds: ["210987654321"]',
                                     'aws:allowedAccountIds: "210987654321"'),
                            ["aws:allowedAccountIds = '210987654321'", "exactly one 12-digit account id"]),
    "two-accounts": (_staging('aws:allowedAccountIds: ["210987654321"]',
                              'aws:allowedAccountIds: ["123456789012", "210987654321"]'),
                     ['aws:allowedAccountIds = \'["123456789012", "210987654321"]\'', "exactly one"]),
    "nested-typo": (_staging("hipaa-aws:database:\n", "hipaa-aws:database:\n    multiAZ: false\n"),
                    ["hipaa-aws:database.multiAZ = false", "did you mean multiAz?", "allowed keys are"]),
}


def _preflight(stack: str, text: str, directory: Path) -> subprocess.CompletedProcess:
    stack_file = directory / f"{stack}-{abs(hash(text))}.yaml"
    stack_file.write_text(text)
    return subprocess.run([sys.executable, "-m", "preflight", stack, "--stack-file", str(stack_file),
                           "--policy-pack-config", str(PROJECT_DIR / "policy" / "config" / "staging.json")],
                          cwd=PROJECT_DIR, capture_output=True, text=True, timeout=120)


def _assert_refused(result: subprocess.CompletedProcess, stack: str, words: list[str]) -> None:
    assert result.returncode == 2, (result.returncode, result.stderr[-2000:])
    assert "Traceback" not in result.stderr and result.stdout == "", result.stderr
    assert result.stderr.startswith(f"preflight: stack '{stack}': "), result.stderr
    for word in words:
        assert word in result.stderr, (word, result.stderr)


def test_the_cli_refuses_each_broken_stack_file_with_one_message(tmp_path):
    """`python -m preflight STACK --stack-file FILE`, as a user runs it (four at a time: most of a
    run that fails at the settings is the wait for the policy pack to start)."""
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = dict(zip(CLI_CASES, pool.map(lambda case: _preflight("staging", case[0], tmp_path),
                                              CLI_CASES.values())))
        long_name = pool.submit(_preflight, "a-very-long-stack-name",
                                (PROJECT_DIR / "stacks" / "Pulumi.staging.yaml").read_text(), tmp_path)
    for name, (_, words) in CLI_CASES.items():
        _assert_refused(results[name], "staging", words)
    _assert_refused(long_name.result(), "a-very-long-stack-name",
                    ["stack name 'a-very-long-stack-name' (22 characters)", "1 to 13 characters",
                     "hipaa-<stack>-phi-operator", "32 characters"])
    assert "None" not in long_name.result().stderr and "hipaa-aws:stack" not in long_name.result().stderr


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(document=stack_documents())
def test_the_cli_never_shows_a_traceback(tmp_path, document):
    """Random stack files through the real command. Each carries an unknown key so that the run stops
    at the settings, in seconds; the rest of the file is whatever the strategy drew."""
    if isinstance(document, dict) and isinstance(document.get("config"), dict):
        document["config"]["hipaa-aws:notASetting"] = 1
    result = _preflight("staging", _dump(document), tmp_path)
    assert result.returncode == 2, (result.returncode, result.stderr[-2000:])
    assert "Traceback" not in result.stderr and result.stderr.startswith("preflight: stack 'staging': ")

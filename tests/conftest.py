"""Shared helpers: run the real program for a stack under Pulumi's mock runtime."""

from __future__ import annotations

import functools
import json
from dataclasses import replace
from typing import Any, Optional

import pytest

from preflight.policy_pack_client import PolicyPackProcess
from preflight.program_runner import ProgramRun, project_program, run_program
from preflight.stack_config import PROJECT_DIR, StackConfig, load_stack_config
from stacks import catalog

NAMESPACE = "hipaa-aws"
STACKS = catalog.names()
"""Every program stack (stacks/Pulumi.<stack>.yaml): tests iterate these, never a hand-kept list."""


def stack_config(stack: str, overrides: Optional[dict[str, Any]] = None,
                 removed: tuple[str, ...] = ()) -> StackConfig:
    """The stack's real config with some `hipaa-aws:` keys replaced (objects are merged)."""
    config = load_stack_config(stack)
    values = {k: v for k, v in config.values.items() if k.split(":", 1)[1] not in removed}
    for key, value in (overrides or {}).items():
        full = key if ":" in key else f"{NAMESPACE}:{key}"
        if isinstance(value, dict) and full in values:
            value = {**json.loads(values[full]), **value}
        values[full] = value if isinstance(value, str) else json.dumps(value)
    return replace(config, values=values)


def run_stack(stack: str, preview: bool = False, overrides: Optional[dict[str, Any]] = None,
              removed: tuple[str, ...] = ()) -> ProgramRun:
    return run_program(project_program(PROJECT_DIR), stack_config(stack, overrides, removed), preview)


@functools.lru_cache(maxsize=None)
def cached_run(stack: str, preview: bool = False) -> ProgramRun:
    """The unmodified stack (runs are read-only, so tests share them)."""
    return run_stack(stack, preview)


def region_of(stack: str) -> str:
    """The region the stack file pins (aws:region): tests build ARNs with it, never a literal."""
    return str(load_stack_config(stack).values["aws:region"])


def client_cidrs_of(stack: str) -> list[str]:
    """The stack's app.allowedClientCidrs (the internet when unset, as the settings default)."""
    app = load_stack_config(stack).values.get("hipaa-aws:app")
    app = json.loads(app) if isinstance(app, str) else (app or {})
    return list(app.get("allowedClientCidrs") or ["0.0.0.0/0"])


def account_of(stack: str) -> str:
    """The one account the stack file pins (the mocks answer it as the caller's account)."""
    (account,) = load_stack_config(stack).allowed_account_ids
    return account


@functools.cache
def owned_run(stack: str) -> ProgramRun:
    """The stack as its account's only owner (`accountBaseline: owned`, the single-account shape): the
    whole account layer, a multi-region trail with management events, the CIS alarms. The shipped
    stacks are organization members, where the organization runs those."""
    return run_stack(stack, overrides={"accountBaseline": "owned", **single_account_identity(stack)})


def single_account_identity(stack: str) -> dict[str, Any]:
    """With no organization the stack creates its own permission sets (identityCenter.managedBy:
    stack), where its file has an identityCenter object at all."""
    has_identity = "hipaa-aws:identityCenter" in load_stack_config(stack).values
    return {"identityCenter": {"managedBy": "stack"}} if has_identity else {}


@pytest.fixture(scope="session")
def pack():
    """The policy pack running as its own process, as the CLI starts it."""
    with PolicyPackProcess() as running:
        yield running


@pytest.fixture(params=STACKS)
def any_stack(request) -> ProgramRun:
    return cached_run(request.param)


@pytest.fixture
def prod() -> ProgramRun:
    return cached_run("prod")


@pytest.fixture
def staging() -> ProgramRun:
    return cached_run("staging")


def judge_program(tmp_path, pack_main: str, program: str, stack: str = "staging"):
    """A one-file program judged by a pack given as its `__main__.py`, the way `python -m preflight`
    judges a stack: (the run, the judgement, the pack client with every request it sent)."""
    from preflight.judge import StreamingJudge
    from preflight.program_runner import run_program, script_program

    (tmp_path / "pack").mkdir()
    (tmp_path / "pack" / "__main__.py").write_text(pack_main)
    (tmp_path / "program.py").write_text(program)
    config = stack_config(stack)
    with PolicyPackProcess(tmp_path / "pack", keep_requests=True) as pack:
        pack.configure({})
        judge = StreamingJudge(pack, config)
        run = run_program(script_program(tmp_path / "program.py"), config, on_register=judge.submit)
        return run, judge.finish(run), pack


def arn_of(run: ProgramRun, name: str, type_token: str) -> str:
    return run.named(name, type_token).outputs["arn"]


def id_of(run: ProgramRun, name: str, type_token: str) -> str:
    return run.named(name, type_token).id

"""python -m preflight STACK: what `pulumi preview --policy-pack policy` would say, offline.

Exit codes: 0 no mandatory violation, 1 mandatory violations, 2 the program or its config failed.
`--all`: every stack of this project, of bootstrap/ and of organization/, the highest of their codes.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Only light modules here: the pack's process is started before pulumi, grpc and the report code
# load (run() imports them), so the two start up side by side.
from . import engine
from .stack_config import (
    PROJECT_DIR,
    StackConfig,
    StackConfigError,
    load_stack_config,
    stack_file_path,
    stack_names,
)

POLICY_DIR = PROJECT_DIR / "policy"
BOOTSTRAP_DIR = PROJECT_DIR / "bootstrap"
# Every bootstrap stack (one per AWS account, each named after its account) is judged with this one
# pack config, never with the program stack's config of the same name.
BOOTSTRAP_PACK_CONFIG = POLICY_DIR / "config" / "state.json"
ORGANIZATION_DIR = PROJECT_DIR / "organization"

# Each format and the extension of its file under --output-dir.
EXTENSIONS = {"text": "txt", "json": "json", "sarif": "sarif", "markdown": "md"}
FORMATS = tuple(EXTENSIONS)


def parse_args(argv: list[str]) -> argparse.Namespace:
    # __doc__ is None under `python -OO`.
    parser = argparse.ArgumentParser(prog="python -m preflight",
                                     description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("stack", nargs="?", help="stack name (stacks/Pulumi.<stack>.yaml)")
    parser.add_argument("--all", action="store_true",
                        help="every stack of this project, of bootstrap/ and of organization/, one after "
                             "the other; exits with the highest code")
    parser.add_argument("--format", choices=FORMATS, help="one format, to stdout or --output (default text)")
    parser.add_argument("--output", type=Path, help="write the report here instead of stdout")
    parser.add_argument("--output-dir", type=Path,
                        help="write every format from one run to DIR/<stack>.{txt,json,sarif,md} (a "
                             "stack of another project: <project dir>-<stack>.*), removing the stack's "
                             "old reports first; the text report also goes to stdout")
    parser.add_argument("--policy-pack-config", type=Path,
                        help="pack config (default policy/config/<stack>.json; for a stack of bootstrap/, "
                             "policy/config/state.json)")
    parser.add_argument("--stack-file", type=Path, help="use this stack config file instead of stacks/")
    parser.add_argument("--program", type=Path, help="run this Pulumi program file instead of __main__.py")
    parser.add_argument("--project-dir", type=Path, default=PROJECT_DIR,
                        help="another Pulumi project to run, e.g. bootstrap (default: this project)")
    args = parser.parse_args(argv)
    if args.all == (args.stack is not None):
        parser.error("give a stack or --all")
    if args.output_dir is not None and (args.format or args.output):
        parser.error("--output-dir writes every format; it does not take --format or --output")
    if args.all and (args.format or args.output or args.program or args.stack_file or args.policy_pack_config
                     or args.project_dir != PROJECT_DIR):
        parser.error("--all runs every stack as it is; it takes only --output-dir")
    args.format = args.format or "text"
    return args


def _cause(error: BaseException) -> str:
    import pulumi

    from .program_runner import ProgramError

    cause = error.cause if isinstance(error, ProgramError) else error
    if isinstance(cause, pulumi.RunError):
        return str(cause)
    return f"{type(cause).__name__}: {cause}"


def stack_context(config: StackConfig, project_dir: Path) -> engine.StackContext:
    """What the engine tells the pack about the stack being previewed (ConfigureStack, environment)."""
    return engine.StackContext(
        stack=config.stack, project=config.project,
        organization=os.environ.get("PULUMI_ORG") or "organization",  # a DIY backend's organization
        dry_run=True, config=dict(config.values), secret_keys=tuple(config.secret_keys),
        tags=engine.stack_tags(project_dir / "Pulumi.yaml", config.values))


def _lines(prefix: str, text: object) -> str:
    return "".join(f"{prefix}{line}\n" for line in str(text).splitlines() or [""])


@dataclass(frozen=True)
class Outcome:
    """One preflight run: its exit code, and its report or the message that stopped it."""

    code: int
    message: str = ""
    report: dict[str, Any] | None = None
    info: Any = None
    stack_file: Path | None = None

    def render(self, fmt: str) -> str:
        from .render_markdown import render_markdown
        from .render_sarif import render_sarif
        from .render_text import render_text

        assert self.report is not None and self.stack_file is not None
        if fmt == "json":
            return json.dumps(self.report, indent=2) + "\n"
        if fmt == "sarif":
            sarif = render_sarif(self.report, self.info, _relative(self.stack_file))
            return json.dumps(sarif, indent=2) + "\n"
        if fmt == "markdown":
            return render_markdown(self.report)
        return render_text(self.report)


def run(args: argparse.Namespace) -> tuple[int, str]:
    """The exit code and the report in `args.format` (or the message that stopped the run)."""
    outcome = evaluate(args)
    if outcome.report is None:
        return outcome.code, outcome.message
    return outcome.code, outcome.render(args.format)


def evaluate(args: argparse.Namespace) -> Outcome:
    project_dir = args.project_dir.resolve()
    config_path = Path(args.policy_pack_config or (BOOTSTRAP_PACK_CONFIG if project_dir == BOOTSTRAP_DIR
                                                   else POLICY_DIR / "config" / f"{args.stack}.json"))
    prefix = f"preflight: stack '{args.stack}': "
    try:
        config = load_stack_config(args.stack, project_dir=project_dir, stack_file=args.stack_file)
        stack_file = args.stack_file or stack_file_path(args.stack, project_dir)
        context = stack_context(config, project_dir)
    except (StackConfigError, OSError, ValueError) as err:
        return Outcome(2, _lines(prefix, err))
    try:
        pack_text = config_path.read_text()
    except FileNotFoundError:
        return Outcome(2, f"{prefix}no policy pack config: create {_relative(config_path)} (a JSON object, "
                          "policy name -> enforcement level or settings; {} keeps the pack's defaults)\n")
    except OSError as err:
        return Outcome(2, _lines(prefix, f"policy pack config {_relative(config_path)}: {err}"))
    try:
        raw = json.loads(pack_text) if pack_text.strip() else {}
    except ValueError:
        raw = {}  # the engine's parser reports it below, in its words
    started = engine.start_policy_pack(POLICY_DIR, context)
    try:
        from . import policy_pack_client
        from .judge import StreamingJudge
        from .program_runner import ProgramError, project_program, run_program, script_program
        from .report import build_report

        pack = policy_pack_client.PolicyPackProcess(POLICY_DIR, stack=context, started=started)
    except BaseException:
        started[0].kill()
        started[0].wait()
        raise
    PolicyConfigError = policy_pack_client.PolicyConfigError
    program = script_program(args.program) if args.program else project_program(project_dir)
    with pack:
        try:
            pack.configure(pack_text)
        except PolicyConfigError as err:
            return Outcome(2, _lines(f"{prefix}policy pack config {_relative(config_path)}: ", err))
        for warning in pack.warnings:
            sys.stderr.write(f"preflight: warning: policy pack config {_relative(config_path)}: {warning}\n")
        streaming = StreamingJudge(pack, config)
        try:
            recorded = run_program(program, config, preview=True, on_register=streaming.submit)
        except ProgramError as err:
            streaming.abandon()
            return Outcome(2, f"{prefix}the program failed: {_cause(err)}\n")
        except BaseException:  # interrupted: nothing more will be judged
            streaming.abandon()
            raise
        judgement = streaming.finish(recorded)
        from .governance import governance_report

        governance = governance_report(stack=args.stack, project=config.project, info=pack.info,
                                       levels=pack.levels, settings=pack.settings, stack_values=config.values)
        from .provenance import trace

        report = build_report(stack=args.stack, project=config.project, info=pack.info,
                              levels=pack.levels, config_path=_relative(config_path), judgement=judgement,
                              pack_config=raw if isinstance(raw, dict) else {}, version=pack.version,
                              governance=governance,
                              trace=trace(root=PROJECT_DIR, project_dir=project_dir, stack_file=stack_file,
                                          pack_dir=POLICY_DIR, pack_config=config_path,
                                          account_ids=config.allowed_account_ids,
                                          region=config.values.get("aws:region")))
        info = pack.info
    return Outcome(0 if report["summary"]["passed"] else 1, report=report, info=info, stack_file=stack_file)


def _relative(path: Path) -> str:
    path = Path(path).resolve()
    try:
        return str(path.relative_to(PROJECT_DIR))
    except ValueError:
        return str(path)


def report_paths(args: argparse.Namespace) -> dict[str, Path]:
    """Where --output-dir puts each format of this stack's report."""
    project_dir = args.project_dir.resolve()
    base = args.stack if project_dir == PROJECT_DIR else f"{project_dir.name}-{args.stack}"
    return {fmt: args.output_dir / f"{base}.{ext}" for fmt, ext in EXTENSIONS.items()}


def write_reports(args: argparse.Namespace) -> int:
    """One run, every format. The stack's old reports go first, so a run that fails leaves none
    behind that could be taken for its result."""
    paths = report_paths(args)
    args.output_dir.mkdir(parents=True, exist_ok=True)
    for path in paths.values():
        path.unlink(missing_ok=True)
    outcome = evaluate(args)
    if outcome.report is None:
        sys.stderr.write(outcome.message)
        return outcome.code
    for fmt, path in paths.items():
        text = outcome.render(fmt)
        path.write_text(text)
        if fmt == "text":
            sys.stdout.write(text)
    return outcome.code


def run_all(output_dir: Path | None) -> int:
    """Every stack of this project, then the state backends' (bootstrap/, one stack per account) and
    the organization's (organization/), each in its own process (a program's modules and Pulumi's
    runtime state stay its own); the highest exit code."""
    runs = [[stack] for stack in stack_names(PROJECT_DIR)]
    runs += [[stack, "--project-dir", str(BOOTSTRAP_DIR)] for stack in stack_names(BOOTSTRAP_DIR)]
    runs += [[stack, "--project-dir", str(ORGANIZATION_DIR)] for stack in stack_names(ORGANIZATION_DIR)]
    code = 0
    for run_args in runs:
        extra = ["--output-dir", str(output_dir)] if output_dir is not None else []
        sys.stdout.flush()
        result = subprocess.run([sys.executable, "-m", "preflight", *run_args, *extra], check=False)
        code = max(code, result.returncode if result.returncode in (0, 1) else 2)
    if output_dir is not None:
        print(f"reports written to {output_dir}/")
    return code


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.all:
        return run_all(args.output_dir)
    if args.output_dir is not None:
        return write_reports(args)
    code, text = run(args)
    if code == 2:
        sys.stderr.write(text)
        return code
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(text)
    else:
        sys.stdout.write(text)
    return code


if __name__ == "__main__":
    from .program_runner import collect_seldom

    collect_seldom()  # this process ends after its report
    try:
        exit_code = main()
    except Exception:  # the preflight itself failed (the pack died, say): that is not "violations"
        traceback.print_exc()
        exit_code = 2
    # Nothing is left to clean up (the pack and the relay have ended, the report is written), and
    # tearing down the interpreter - pulumi_aws's thousands of classes, the run's objects - took
    # 0.5 to 0.9 s after the report was done (1 to 50 tenants of bench/tenants_program.py).
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(exit_code)

"""python -m preflight STACK: what `pulumi preview --policy-pack policy` would say, offline.

Exit codes: 0 no mandatory violation, 1 mandatory violations, 2 the program or its config failed.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import traceback
from pathlib import Path

# Only light modules here: the pack's process is started before pulumi, grpc and the report code
# load (run() imports them), so the two start up side by side.
from . import engine
from .stack_config import PROJECT_DIR, StackConfig, StackConfigError, load_stack_config, stack_file_path

POLICY_DIR = PROJECT_DIR / "policy"

FORMATS = ("text", "json", "sarif", "markdown")


def parse_args(argv: list[str]) -> argparse.Namespace:
    # __doc__ is None under `python -OO`.
    parser = argparse.ArgumentParser(prog="python -m preflight",
                                     description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("stack", help="stack name (stacks/Pulumi.<stack>.yaml)")
    parser.add_argument("--format", choices=FORMATS, default="text")
    parser.add_argument("--output", type=Path, help="write the report here instead of stdout")
    parser.add_argument("--policy-pack-config", type=Path,
                        help="pack config (default policy/config/<stack>.json)")
    parser.add_argument("--stack-file", type=Path, help="use this stack config file instead of stacks/")
    parser.add_argument("--program", type=Path, help="run this Pulumi program file instead of __main__.py")
    parser.add_argument("--project-dir", type=Path, default=PROJECT_DIR,
                        help="another Pulumi project to run, e.g. bootstrap (default: this project)")
    return parser.parse_args(argv)


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


def run(args: argparse.Namespace) -> tuple[int, str]:
    config_path = Path(args.policy_pack_config or POLICY_DIR / "config" / f"{args.stack}.json")
    project_dir = args.project_dir.resolve()
    prefix = f"preflight: stack '{args.stack}': "
    try:
        config = load_stack_config(args.stack, project_dir=project_dir, stack_file=args.stack_file)
        stack_file = args.stack_file or stack_file_path(args.stack, project_dir)
        context = stack_context(config, project_dir)
    except (StackConfigError, OSError, ValueError) as err:
        return 2, _lines(prefix, err)
    try:
        pack_text = config_path.read_text()
    except FileNotFoundError:
        return 2, (f"{prefix}no policy pack config: create {_relative(config_path)} (a JSON object, policy "
                   "name -> enforcement level or settings; {} keeps the pack's defaults)\n")
    except OSError as err:
        return 2, _lines(prefix, f"policy pack config {_relative(config_path)}: {err}")
    try:
        raw = json.loads(pack_text) if pack_text.strip() else {}
    except ValueError:
        raw = {}  # the engine's parser reports it below, in its words
    started = engine.start_policy_pack(POLICY_DIR, context)
    try:
        from . import policy_pack_client
        from .judge import StreamingJudge
        from .program_runner import ProgramError, project_program, run_program, script_program
        from .render_markdown import render_markdown
        from .render_sarif import render_sarif
        from .render_text import render_text
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
            return 2, _lines(f"{prefix}policy pack config {_relative(config_path)}: ", err)
        for warning in pack.warnings:
            sys.stderr.write(f"preflight: warning: policy pack config {_relative(config_path)}: {warning}\n")
        streaming = StreamingJudge(pack, config)
        try:
            recorded = run_program(program, config, preview=True, on_register=streaming.submit)
        except ProgramError as err:
            streaming.abandon()
            return 2, f"{prefix}the program failed: {_cause(err)}\n"
        except BaseException:  # interrupted: nothing more will be judged
            streaming.abandon()
            raise
        judgement = streaming.finish(recorded)
        report = build_report(stack=args.stack, project=config.project, info=pack.info,
                              levels=pack.levels, config_path=_relative(config_path), judgement=judgement,
                              pack_config=raw if isinstance(raw, dict) else {})
        info = pack.info
    if args.format == "json":
        text = json.dumps(report, indent=2) + "\n"
    elif args.format == "sarif":
        text = json.dumps(render_sarif(report, info, _relative(stack_file)), indent=2) + "\n"
    elif args.format == "markdown":
        text = render_markdown(report)
    else:
        text = render_text(report)
    return (0 if report["summary"]["passed"] else 1), text


def _relative(path: Path) -> str:
    path = Path(path).resolve()
    try:
        return str(path.relative_to(PROJECT_DIR))
    except ValueError:
        return str(path)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
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

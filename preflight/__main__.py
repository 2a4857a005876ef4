"""python -m preflight STACK: what `pulumi preview --policy-pack policy` would say, offline.

Exit codes: 0 no mandatory violation, 1 mandatory violations, 2 the program or its config failed.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pulumi

from .judge import StreamingJudge
from .policy_pack_client import POLICY_DIR, PolicyConfigError, PolicyPackProcess
from .program_runner import ProgramError, project_program, run_program, script_program
from .render_markdown import render_markdown
from .render_sarif import render_sarif
from .render_text import render_text
from .report import build_report
from .stack_config import PROJECT_DIR, StackConfigError, load_stack_config, stack_file_path

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
    cause = error.cause if isinstance(error, ProgramError) else error
    if isinstance(cause, pulumi.RunError):
        return str(cause)
    return f"{type(cause).__name__}: {cause}"


def run(args: argparse.Namespace) -> tuple[int, str]:
    config_path = args.policy_pack_config or POLICY_DIR / "config" / f"{args.stack}.json"
    project_dir = args.project_dir.resolve()
    try:
        config = load_stack_config(args.stack, project_dir=project_dir, stack_file=args.stack_file)
        stack_file = args.stack_file or stack_file_path(args.stack, project_dir)
        pack_config = json.loads(Path(config_path).read_text())
    except (StackConfigError, OSError, ValueError) as err:
        return 2, f"preflight: stack '{args.stack}': {err}\n"
    program = script_program(args.program) if args.program else project_program(project_dir)
    with PolicyPackProcess() as pack:
        try:
            pack.configure(pack_config)
        except PolicyConfigError as err:
            return 2, f"preflight: stack '{args.stack}': policy pack config {config_path}: {err}\n"
        streaming = StreamingJudge(pack, config)
        try:
            recorded = run_program(program, config, preview=True, on_register=streaming.submit)
        except ProgramError as err:
            return 2, f"preflight: stack '{args.stack}': the program failed: {_cause(err)}\n"
        judgement = streaming.finish(recorded)
        report = build_report(stack=args.stack, project=config.project, info=pack.info,
                              levels=pack.levels, config_path=_relative(config_path), judgement=judgement,
                              pack_config=pack_config)
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
    sys.exit(main())

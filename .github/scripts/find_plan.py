"""Find the workflow run that saved the reviewed update plan of a stack for this exact tree.

pull-request.yml previews each stack with `pulumi preview --save-plan` and uploads the plan as the
artifact `pulumi-plan-<stack>-<tree>`, where <tree> is the git tree of the pull request's merge
commit. After the merge, main's commit has the same tree exactly when the branch was up to date with
main (branch protection: "Require branches to be up to date before merging"), whatever the merge
method. pulumi-up.yml then runs `pulumi up --plan` of that file, so a stack that holds PHI gets only
the changes its reviewed preview showed (Pulumi docs, "Update plans": the update fails as soon as an
operation differs from the plan).

GitHub REST "List artifacts for a repository" (`GET /repos/{repo}/actions/artifacts?name=`, needs
`actions: read`) returns each artifact's `expired` flag and its `workflow_run` (`id`,
`repository_id`, `head_repository_id`). Only artifacts of runs whose head is this repository count:
a pull request from a fork runs in the fork's head repository, and its plan is refused.

    python3 .github/scripts/find_plan.py <stack> <tree>   # prints run_id=<id>; exit 1 if none
"""

from __future__ import annotations

import json
import os
import sys
import urllib.parse
import urllib.request
from collections.abc import Mapping, Sequence
from typing import Any, Optional


def artifact_name(stack: str, tree: str) -> str:
    return f"pulumi-plan-{stack}-{tree}"


def pick(artifacts: Sequence[Mapping[str, Any]], repository_id: int) -> Optional[int]:
    """The newest unexpired artifact's run id, from a run of this repository's own branches."""
    usable = [a for a in artifacts if not a.get("expired")
              and (a.get("workflow_run") or {}).get("head_repository_id") == repository_id
              and (a.get("workflow_run") or {}).get("repository_id") == repository_id]
    if not usable:
        return None
    newest = max(usable, key=lambda a: str(a.get("created_at", "")))
    return int(newest["workflow_run"]["id"])


def list_artifacts(repository: str, name: str, token: str, api: str) -> list[Mapping[str, Any]]:
    query = urllib.parse.urlencode({"name": name, "per_page": 100})
    request = urllib.request.Request(
        f"{api}/repos/{repository}/actions/artifacts?{query}",
        headers={"Authorization": f"Bearer {token}", "Accept": "application/vnd.github+json",
                 "X-GitHub-Api-Version": "2022-11-28"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return list(json.load(response).get("artifacts", []))


def main(argv: Sequence[str] = tuple(sys.argv[1:])) -> int:
    stack, tree = argv
    env = os.environ
    name = artifact_name(stack, tree)
    run_id = pick(list_artifacts(env["GITHUB_REPOSITORY"], name, env["GH_TOKEN"],
                                 env.get("GITHUB_API_URL", "https://api.github.com")),
                  int(env["REPOSITORY_ID"]))  # ${{ github.repository_id }}
    if run_id is None:
        print(f"::error title=No reviewed plan for {stack}::no unexpired artifact {name} from a pull "
              f"request of this repository: merge only pull requests whose preview of {stack} passed with "
              f"the branch up to date with main, or open a new pull request to preview this commit.")
        return 1
    print(f"run_id={run_id}")
    with open(env["GITHUB_OUTPUT"], "a", encoding="utf-8") as output:
        output.write(f"run_id={run_id}\nname={name}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Is GitHub code scanning available to this repository? Sets the step output `available`.

GitHub's "Uploading a SARIF file to GitHub": code scanning is available for all public repositories
and, for private and internal ones, only where GitHub Code Security (formerly Advanced Security) is
enabled; without it the upload fails with "Advanced Security must be enabled for this repository to
use code scanning" (403, also named in "Troubleshooting: Advanced Security must be enabled"). The
preflight gate must not fail for that, so the workflow asks first and skips the upload with a notice.

Decision, in order:
1. the repository variable CODE_SCANNING, `true` or `false`, when an admin set it;
2. a public repository: available (the first upload turns code scanning on there);
3. otherwise the code-scanning REST API with the job's token (`security-events: read`):
   `GET /repos/{repo}/code-scanning/analyses?per_page=1` answers 200 (analyses exist) or 404 (no
   analysis yet) when code scanning is available, 403 when it is not.
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Optional

NOTICE = ("::notice title=Code scanning unavailable::{reason}: the SARIF upload is skipped; the preflight "
          "gate still ran and its reports (SARIF included) are kept as the preflight-reports artifact.")


def decide(override: str, visibility: str, probe: Callable[[], int]) -> tuple[bool, str]:
    """(available, why). `probe` returns the HTTP status of the analyses request; called last."""
    if override.strip().lower() in ("true", "false"):
        return override.strip().lower() == "true", f"repository variable CODE_SCANNING={override.strip()}"
    if visibility == "public":
        return True, "public repository"
    status = probe()
    if status in (200, 404):
        return True, f"code-scanning API answered {status}"
    if status == 403:
        return False, "code scanning is not enabled for this repository (GitHub Code Security)"
    return False, f"code-scanning API answered {status}"


def probe(repository: str, token: str, api: str = "https://api.github.com") -> int:
    request = urllib.request.Request(
        f"{api}/repos/{repository}/code-scanning/analyses?per_page=1",
        headers={"Authorization": f"Bearer {token}", "Accept": "application/vnd.github+json",
                 "X-GitHub-Api-Version": "2022-11-28"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except urllib.error.URLError:
        return 0


def main(environ: Optional[dict[str, str]] = None) -> int:
    env = dict(os.environ if environ is None else environ)
    available, why = decide(env.get("CODE_SCANNING", ""), env.get("VISIBILITY", ""),
                            lambda: probe(env["GITHUB_REPOSITORY"], env["GH_TOKEN"],
                                          env.get("GITHUB_API_URL", "https://api.github.com")))
    if not available:
        print(NOTICE.format(reason=why))
    else:
        print(f"code scanning available: {why}")
    with open(env["GITHUB_OUTPUT"], "a", encoding="utf-8") as output:
        output.write(f"available={'true' if available else 'false'}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

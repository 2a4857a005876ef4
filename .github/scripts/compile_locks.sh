#!/usr/bin/env bash
# Regenerate the hash-locked dependency files from the requirements*.txt ranges (pip-tools):
#   requirements-dev.lock     tests, lint, preflight (requirements-dev.txt, which includes both below)
#   requirements.lock         the program only: what `pulumi up` needs (the deploy job installs this)
#   policy/requirements.lock  the policy pack's own virtualenv (policy/venv)
# The dev lock is resolved first and pins the other two, so CI tests exactly the versions it deploys.
# Run on Linux with Python 3.11 (the runners'): environment markers are resolved for this interpreter.
#   python3.11 -m venv /tmp/pip-tools && /tmp/pip-tools/bin/pip install pip-tools
#   LOCK_COMPILER=/tmp/pip-tools/bin/pip-compile .github/scripts/compile_locks.sh
# Dependabot (pip ecosystem) updates the pins of these files in place.
set -euo pipefail
cd "$(dirname "$0")/../.."
compile=${LOCK_COMPILER:-pip-compile}  # not PIP_*: pip reads PIP_* variables as options
# Only PyPI, whatever this machine's pip configuration adds (mirrors, find-links, caps).
export PIP_CONFIG_FILE=/dev/null PIP_FIND_LINKS= PIP_CONSTRAINT=
export CUSTOM_COMPILE_COMMAND=.github/scripts/compile_locks.sh  # the command each lock's header names
options=(--quiet --generate-hashes --allow-unsafe --strip-extras --no-emit-index-url --no-emit-find-links)
"$compile" "${options[@]}" --output-file requirements-dev.lock requirements-dev.txt
"$compile" "${options[@]}" --constraint requirements-dev.lock --output-file requirements.lock requirements.txt
"$compile" "${options[@]}" --constraint requirements-dev.lock --output-file policy/requirements.lock \
  policy/requirements.txt

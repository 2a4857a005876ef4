# The README's commands. Each does its own set-up on a fresh machine (Python 3.11 and PyPI; Node.js for
# pyright comes from PyPI too, pyright[nodejs]).
PYTHON ?= python3
VENV := venv
PY := $(VENV)/bin/python

.PHONY: test lint preflight bench venv clean stack

$(VENV)/.installed: requirements.txt requirements-dev.txt policy/requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

venv: $(VENV)/.installed

test: venv lint
	$(PY) -m pytest -q -n 2

# Static checks (configured in pyproject.toml): ruff, and pyright against the typed SDKs in the venv;
# both run, so one report shows every finding.
# PYRIGHT_PYTHON_IGNORE_WARNINGS: no per-run PyPI query for a newer pyright (requirements-dev.txt picks it).
LINT_PATHS := components policy preflight bootstrap organization stacks
lint: venv
	@status=0; \
	$(PY) -m ruff check $(LINT_PATHS) || status=1; \
	PYRIGHT_PYTHON_IGNORE_WARNINGS=1 $(PY) -m pyright $(LINT_PATHS) || status=1; \
	exit $$status

# Offline preflight of every stack, of the state backend (bootstrap/) and of the organization
# (organization/): what `pulumi preview --policy-pack policy` would say, with no cloud account. One run
# per stack writes all its reports, reports/<stack>.{txt,json,sarif,md} (another project's stack:
# reports/<project dir>-<stack>.*, e.g. reports/organization-organization.txt), after removing its old
# ones (a failed run leaves none).
# `venv/bin/python -m preflight --all --output-dir reports` exits 0, 1 (a mandatory violation) or 2 (a
# program or config failed); make itself exits 2 whenever a recipe fails (GNU make manual, "How to Run
# make"), and its "Error 1" or "Error 2" line names the preflight's code.
preflight: venv
	$(PY) -m preflight --all --output-dir reports

# A new stack from an existing one (stacks/new.py): its stack file, pack config, its account's bootstrap
# stack file and organization entry, then the per-stack generated files; nothing else needs an edit.
#   make stack NAME=dev FROM=staging ACCOUNT=345678901234 REGION=us-west-2 [CIDR=10.30.0.0/16]
stack: venv
	$(PY) -m stacks.new $(NAME) --from $(FROM) --account $(ACCOUNT) --region $(REGION) $(if $(CIDR),--cidr $(CIDR))

# End to end per size; `make bench BASELINE=<git revision>` also runs that revision, alternating.
bench: venv
	$(PY) bench/preflight_bench.py $(if $(BASELINE),--baseline $(BASELINE))

clean:
	rm -rf $(VENV) reports .pytest_cache

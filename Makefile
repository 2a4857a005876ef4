# The README's commands. Each does its own set-up on a fresh machine (Python 3.11, PyPI, npm registry).
PYTHON ?= python3
VENV := venv
PY := $(VENV)/bin/python
STACKS := $(patsubst stacks/Pulumi.%.yaml,%,$(wildcard stacks/Pulumi.*.yaml))
# The OASIS SARIF 2.1.0 JSON schema, fetched from the npm registry to validate preflight's SARIF in tests.
SARIF_SCHEMA := $(VENV)/share/sarif-schema-2.1.0.json
SARIF_PACKAGE := @microsoft/jest-sarif@1.0.0-beta.0

.PHONY: test lint preflight bench venv clean

$(VENV)/.installed: requirements.txt requirements-dev.txt policy/requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

venv: $(VENV)/.installed

$(SARIF_SCHEMA):
	mkdir -p $(VENV)/share/npm
	cd $(VENV)/share/npm && npm pack --silent $(SARIF_PACKAGE) >/dev/null
	tar -xzf $(VENV)/share/npm/microsoft-jest-sarif-*.tgz -C $(VENV)/share/npm package/lib/schemas/sarif-2.1.0-rtm.5.json
	cp $(VENV)/share/npm/package/lib/schemas/sarif-2.1.0-rtm.5.json $@

test: venv $(SARIF_SCHEMA) lint
	$(PY) -m pytest -q -n 2

# Static checks (configured in pyproject.toml): ruff, and pyright against the typed SDKs in the venv;
# both run, so one report shows every finding.
# PYRIGHT_PYTHON_IGNORE_WARNINGS: no per-run PyPI query for a newer pyright (requirements-dev.txt picks it).
LINT_PATHS := components policy preflight bootstrap
lint: venv
	@status=0; \
	$(PY) -m ruff check $(LINT_PATHS) || status=1; \
	PYRIGHT_PYTHON_IGNORE_WARNINGS=1 $(PY) -m pyright $(LINT_PATHS) || status=1; \
	exit $$status

# Offline preflight of every stack: what `pulumi preview --policy-pack policy` would say, with no
# cloud account. Reports (text, json, sarif, markdown) go to reports/, plus the state-backend bootstrap's
# verdict. Exit 1 if anything is blocked, 2 if a program or config fails.
preflight: venv
	@mkdir -p reports; status=0; \
	for stack in $(STACKS); do \
	  $(PY) -m preflight $$stack --format text --output reports/$$stack.txt; code=$$?; \
	  cat reports/$$stack.txt 2>/dev/null; \
	  [ $$code -gt $$status ] && status=$$code; \
	  for pair in json:json sarif:sarif markdown:md; do \
	    $(PY) -m preflight $$stack --format $${pair%%:*} --output reports/$$stack.$${pair##*:} >/dev/null || true; \
	  done; \
	done; \
	$(PY) -m preflight state --project-dir bootstrap --output reports/bootstrap-state.txt; code=$$?; \
	cat reports/bootstrap-state.txt 2>/dev/null; [ $$code -gt $$status ] && status=$$code; \
	echo "reports written to reports/"; exit $$status

# End to end per size; `make bench BASELINE=<git revision>` also runs that revision, alternating.
bench: venv
	$(PY) bench/preflight_bench.py $(if $(BASELINE),--baseline $(BASELINE))

clean:
	rm -rf $(VENV) reports .pytest_cache

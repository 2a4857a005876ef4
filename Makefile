# The README's commands. Each does its own set-up on a fresh machine.
PYTHON ?= python3
VENV := venv
PY := $(VENV)/bin/python

.PHONY: test venv clean

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

venv: $(VENV)/.installed

test: venv
	$(PY) -m pytest -q

clean:
	rm -rf $(VENV) reports .pytest_cache

# Weishang — the two commands a newcomer needs: `make run` and `make test`.
VENV   := .venv
PY     := $(VENV)/bin/python
WS     := $(VENV)/bin/weishang
STAMP  := $(VENV)/.installed
HOST   ?= 127.0.0.1
PORT   ?= 8000
# Test processes (pytest-xdist): one per core by default; JOBS=0 runs the suite in this process.
JOBS   ?= auto

.PHONY: setup run test test-pg bench lock messages clean help

help:
	@echo "make run     set up, migrate SQLite (var/), load the demo brand, serve on http://$(HOST):$(PORT)"
	@echo "make test    set up and run the whole suite"
	@echo "make bench   run the benchmarks under bench/"
	@echo "make lock    re-pin requirements/lock.txt from pyproject.toml"

# Create .venv with Python >= 3.12 and install the pinned dependencies (hash-checked).
$(STAMP): requirements/lock.txt pyproject.toml
	@set -e; py=$$(scripts/find-python); \
	 if [ ! -x $(PY) ]; then echo "Creating $(VENV) with $$py"; $$py -m venv $(VENV); fi
	$(PY) -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements/lock.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $@

setup: $(STAMP)

run: setup
	$(WS) migrate
	$(WS) demo
	$(WS) serve --addr $(HOST):$(PORT)

test: setup
	-@scripts/ensure-chromium
	$(PY) -m pytest -n $(JOBS)

bench: setup
	$(PY) bench/tree.py
	$(PY) bench/orders.py
	$(PY) bench/settle.py
	$(PY) bench/simulate.py
	$(PY) bench/pages.py
	$(PY) bench/notifications.py
	$(PY) bench/load.py
	$(PY) bench/backup.py

lock:
	@py=$$(scripts/find-python); tmp=$$(mktemp -d); $$py -m venv $$tmp; $$tmp/bin/pip install -q uv; \
	 $$tmp/bin/uv pip compile pyproject.toml --extra test --python-version 3.12 --universal \
	   --generate-hashes -o requirements/lock.txt; rm -rf $$tmp

messages: setup
	cd src/weishang && ../../$(WS) makemessages -l zh_Hans -l en --no-obsolete && ../../$(WS) compilemessages

clean:
	rm -rf $(VENV) var/ .pytest_cache

# Tasks for semlease. A fresh machine needs only python3 (3.11 or newer) and git: the first target run
# creates .venv here and installs the package (editable) with its dev tools from PyPI.
#
#   make demo    index the sample repository fixtures/shop, resolve regions, and lease them as two agents
#   make test    run the test suite (PYTEST_ARGS='-k discover -x' to pass options)
#   make lint    ruff + the import-linter layer contract from pyproject.toml
#   make bench   run benchmarks/run.py and bench_leases.py (installs the 'bench' extra; BENCH_ARGS for run.py)
#   make clean   remove .venv and tool caches

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
BENCH_STAMP := $(VENV)/.installed-bench
PIP := $(BIN)/python -m pip --disable-pip-version-check
SEMLEASE := $(BIN)/semlease
DEMO_REPO := fixtures/shop
DEMO_STORE := $(abspath $(VENV))/demo-leases.db
AT_DEMO := --repo $(DEMO_REPO) --store sqlite:///$(DEMO_STORE)
DEMO_WORK := $(abspath $(VENV))/demo-shop
AT_WORK := --repo $(DEMO_WORK)
DEMO_GIT := git -C $(DEMO_WORK) -c user.name=demo -c user.email=demo@semlease.invalid -c commit.gpgSign=false
INVOICE := $(DEMO_WORK)/src/billing/invoice.py
EDIT := $(BIN)/python -c "import pathlib, sys; p = pathlib.Path(sys.argv[1]); t = p.read_text(); \
	assert sys.argv[2] in t; p.write_text(t.replace(sys.argv[2], sys.argv[3].replace('\\\\n', '\\n'), 1))"
PYTEST_ARGS ?=
BENCH_ARGS ?=

.DEFAULT_GOAL := help
.PHONY: help demo test lint bench clean

help:
	@sed -n '1,9p' $(firstword $(MAKEFILE_LIST)) | sed 's/^# \{0,1\}//'

# The virtual environment. A failed creation (e.g. Debian without python3-venv) leaves nothing behind.
$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "semlease needs Python 3.11 or newer; $(PYTHON) is " + sys.version.split()[0] + " (try: make PYTHON=python3.11 ...)")'
	$(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); echo "could not create $(VENV): on Debian/Ubuntu install the python3-venv package" >&2; exit 1; }

# Reinstalled whenever pyproject.toml changes; the stamp is written only after a successful install.
$(STAMP): pyproject.toml | $(BIN)/python
	$(PIP) install --quiet --editable '.[dev]'
	@touch $@

$(BENCH_STAMP): $(STAMP)
	$(PIP) install --quiet --editable '.[dev,bench]'
	@touch $@

# The demo's leases go to a store of their own (not the repository's), emptied first so every run is the same.
demo: $(STAMP)
	$(SEMLEASE) index --repo $(DEMO_REPO)
	$(SEMLEASE) resolve --repo $(DEMO_REPO) 'export create_invoice'
	$(SEMLEASE) resolve --repo $(DEMO_REPO) 'fixture tests/conftest.py::db'
	$(SEMLEASE) radius --repo $(DEMO_REPO) 'export create_invoice'
	@rm -f $(DEMO_STORE) $(DEMO_STORE)-wal $(DEMO_STORE)-shm
	$(SEMLEASE) acquire 'export create_invoice' --owner agent-a --intent 'validate the order before billing' $(AT_DEMO)
	$(SEMLEASE) acquire 'export create_invoice' --owner agent-b --intent 'change the return type to a Receipt' \
	  $(AT_DEMO) || echo "(exit $$?: refused, as it should be: agent-a is changing create_invoice)"
	$(SEMLEASE) acquire 'symbol Invoice.is_void' --owner agent-b --intent 'count voided invoices' $(AT_DEMO)
	$(SEMLEASE) leases $(AT_DEMO)
	@echo; echo "# patches: agent-a works in a scratch git copy of the shop ($(DEMO_WORK))"
	@rm -rf $(DEMO_WORK) && cp -r $(DEMO_REPO) $(DEMO_WORK) && rm -rf $(DEMO_WORK)/.pytest_cache
	@$(DEMO_GIT) init -q && $(DEMO_GIT) add --all && $(DEMO_GIT) commit -q -m "the shop"
	$(SEMLEASE) acquire 'export create_invoice' --owner agent-a --intent 'validate the order before billing' $(AT_WORK)
	$(SEMLEASE) acquire 'symbol Invoice.total' --owner agent-b --intent 'round totals once' $(AT_WORK)
	@$(EDIT) $(INVOICE) '    subtotal = _round(' '    if not order.order_id:\n        raise ValueError("an order needs an id")\n    subtotal = _round('
	$(SEMLEASE) patch --base HEAD $(AT_WORK)
	$(SEMLEASE) check --lease L1 --base HEAD $(AT_WORK)
	$(SEMLEASE) admit --lease L1 --token 1 --base HEAD --run-tests $(AT_WORK)
	@$(EDIT) $(INVOICE) 'tax: bool = True) -> Invoice:' 'tax: bool = False) -> Invoice:'
	@$(EDIT) $(INVOICE) 'return _round(self.subtotal + self.tax)' 'return _round(self.tax + self.subtotal)'
	$(SEMLEASE) check --lease L1 --base HEAD $(AT_WORK) \
	  || echo "(exit $$?: the patch changed Invoice.total, agent-b's, and create_invoice's signature under an implement lease)"

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Both checks always run; the target fails if either does.
lint: $(STAMP)
	@status=0; \
	echo "$(BIN)/ruff check src tests"; $(BIN)/ruff check src tests || status=1; \
	echo "$(BIN)/lint-imports"; $(BIN)/lint-imports || status=1; \
	exit $$status

bench: $(BENCH_STAMP)
	$(BIN)/python benchmarks/run.py $(BENCH_ARGS)
	$(BIN)/python benchmarks/bench_leases.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache

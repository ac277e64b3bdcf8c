# The two commands a newcomer needs: `make demo` and `make test`. Both set up .venv
# (core + every plugin under plugins/, editable, with test tools) on first use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PLUGIN_DIRS := $(patsubst %/pyproject.toml,%,$(wildcard plugins/*/pyproject.toml))
PIP_INSTALL := $(BIN)/python -m pip install --quiet --disable-pip-version-check

.PHONY: demo test pg-server lint typecheck pytest bench soak mutation clean

demo: $(STAMP)
	$(BIN)/fks-exec demo

test: $(STAMP) pg-server lint typecheck pytest

# The PostgreSQL journal tests (tests/journal_pg/) start a throwaway server of their own;
# a machine without PostgreSQL's server binaries gets Debian's package (needs root).
PG_INITDB := $(firstword $(shell command -v initdb) $(wildcard /usr/local/bin/initdb /usr/lib/postgresql/*/bin/initdb))
pg-server:
ifeq ($(PG_INITDB),)
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql
endif

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks examples soak mutation $(PLUGIN_DIRS)
	$(BIN)/ruff format --check src tests benchmarks examples soak mutation $(PLUGIN_DIRS)

typecheck: $(STAMP)
	$(BIN)/mypy src $(foreach d,$(PLUGIN_DIRS),$(d)/src)

pytest: $(STAMP)
	$(BIN)/python -m pytest -q -p no:cacheprovider

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

soak: $(STAMP)
	$(BIN)/python soak/soak.py

# Mutation testing (not part of `make test`): every module in mutation/modules.toml, or one with
# MODULE=path; JOBS=2 mutates two modules at once. See docs/testing.md "Mutation testing".
mutation: $(STAMP)
	nice -n 10 $(BIN)/python mutation/run.py $(if $(MODULE),--module $(MODULE)) --jobs $(or $(JOBS),1)

$(STAMP): pyproject.toml $(wildcard plugins/*/pyproject.toml)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP_INSTALL) --upgrade pip
	$(PIP_INSTALL) -e '.[dev]' $(foreach d,$(PLUGIN_DIRS),-e '$(d)[test]')
	touch $(STAMP)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis

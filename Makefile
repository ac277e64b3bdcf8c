# The two commands a newcomer needs: `make demo` and `make test`. Both set up .venv
# (core + every plugin under plugins/, editable, with test tools) on first use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PLUGIN_DIRS := $(patsubst %/pyproject.toml,%,$(wildcard plugins/*/pyproject.toml))
# Not --quiet: the first run takes minutes and should show that it is working.
PIP_INSTALL := $(BIN)/python -m pip install --disable-pip-version-check --progress-bar off

.PHONY: demo test pg-server lint typecheck pytest dist docs pythons bench soak mutation clean

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

# mutation/ (the dev tool around cosmic-ray) apart: it runs on .venv's Python only and needs
# 3.11 (tomllib, code.co_qualname), and its modules import each other by top-level name.
typecheck: $(STAMP)
	$(BIN)/mypy src $(foreach d,$(PLUGIN_DIRS),$(d)/src)
	$(BIN)/mypy --python-version 3.11 mutation

pytest: $(STAMP)
	$(BIN)/python -m pytest -q -p no:cacheprovider

# Wheels and sdists of the core and every plugin, into dist/ (docs/index.md: installing
# from them). --no-isolation: the build tools are in the dev extra, so no download.
dist: $(STAMP)
	rm -rf dist
	$(BIN)/python -m build --no-isolation --outdir dist .
	for d in $(PLUGIN_DIRS); do $(BIN)/python -m build --no-isolation --outdir dist $$d || exit 1; done
	@ls -1 dist

# The user docs plus the API reference generated from the docstrings, into site/.
docs: $(STAMP)
	$(BIN)/mkdocs build --strict --site-dir site

# The Python versions pyproject.toml claims besides .venv's own (make test): one venv per
# version from pyenv (.venv-pyX.Y, kept between runs), the whole suite on each except
# the tests that only prove packaging and docs once, and the PostgreSQL journal (it needs
# a server; make test runs it). See docs/testing.md "Python versions".
# Every version pyproject.toml claims (its classifiers; tests/test_dist.py checks they
# agree); make pythons runs those that are not .venv's own.
PYTHON_VERSIONS := 3.10 3.11 3.12 3.13
VENV_PYTHON = $(shell $(BIN)/python -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)
PYTHONS ?= $(filter-out $(VENV_PYTHON),$(PYTHON_VERSIONS))
PYENV_ROOT ?= $(shell pyenv root 2>/dev/null || echo $$HOME/.pyenv)
# test_mutation_*.py test a dev tool (cosmic-ray, tomllib) that runs on .venv's Python only.
PYTHONS_PYTEST := -q -p no:cacheprovider -x --ignore=tests/test_dist.py --ignore=tests/test_api_docs.py \
  --ignore=tests/journal_pg --ignore-glob='tests/test_mutation_*.py'
pythons: $(foreach v,$(PYTHONS),.venv-py$(v)/.installed)
	@for v in $(PYTHONS); do \
	  echo "==> $$(.venv-py$$v/bin/python --version): tests"; \
	  .venv-py$$v/bin/python -m pytest $(PYTHONS_PYTEST) || exit 1; \
	done

# One venv per version (make -j3 pythons builds them side by side), with what pip
# resolves for that version, as a user of it would get (.venv's versions as constraints
# cannot work: some releases there have dropped 3.10).
.venv-py%/.installed: pyproject.toml $(wildcard plugins/*/pyproject.toml) | $(STAMP)
	@py=$$(ls -d $(PYENV_ROOT)/versions/$*.*/bin/python$* 2>/dev/null | sort -V | tail -1); \
	test -n "$$py" || { echo "no Python $* under $(PYENV_ROOT)/versions (pyenv install $*)"; exit 1; }; \
	echo "==> .venv-py$*: installing core and plugins for $$($$py --version)"; \
	rm -rf .venv-py$* && $$py -m venv .venv-py$*
	.venv-py$*/bin/python -m pip install -q --disable-pip-version-check \
	  -e '.[test]' $(foreach d,$(PLUGIN_DIRS),-e '$(d)[test]')
	touch $@

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

soak: $(STAMP)
	$(BIN)/python soak/soak.py

# Mutation testing (not part of `make test`): every module in mutation/modules.toml, or one with
# MODULE=path; JOBS=2 mutates two modules at once. See docs/testing.md "Mutation testing".
mutation: $(STAMP)
	nice -n 10 $(BIN)/python mutation/run.py $(if $(MODULE),--module $(MODULE)) --jobs $(or $(JOBS),1)

$(STAMP): pyproject.toml $(wildcard plugins/*/pyproject.toml)
	@echo "==> 1/3 creating $(VENV) (first run only)"
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "==> 2/3 upgrading pip"
	$(PIP_INSTALL) --upgrade pip
	@echo "==> 3/3 installing fks-exec and the plugins under plugins/ (editable, with test tools)"
	$(PIP_INSTALL) -e '.[dev]' $(foreach d,$(PLUGIN_DIRS),-e '$(d)[test]')
	touch $(STAMP)

clean:
	rm -rf $(VENV) .venv-py* dist site .pytest_cache .mypy_cache .ruff_cache .hypothesis

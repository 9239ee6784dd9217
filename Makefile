# Two commands on a fresh machine with Python >= 3.11:
#   make demo   create .venv if missing, install sockviz with its extras, run `sockviz demo`
#   make test   the same set-up, then every check: ruff, mypy, pytest (notebooks and a real browser included),
#               then pytest again under each other supported Python found here (3.11, 3.12, 3.13),
#               the browser tests apart (they drive the same JavaScript: once is enough)
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# The browser tests drive Debian's Chromium (Playwright's own browser download fails here).
CHROMIUM := /usr/bin/chromium
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: demo test lint typecheck pytest pythons bench lab clean browser

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "sockviz needs Python >= 3.11; set PYTHON=python3.11 or newer")'
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[lab,dev]'
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/sockviz demo

test: lint typecheck browser pytest pythons

browser: $(CHROMIUM)

$(CHROMIUM):
	@command -v apt-get >/dev/null || { echo "the browser tests need Chromium at $(CHROMIUM): install it (Debian: apt-get install chromium)"; exit 1; }
	$(SUDO) apt-get update -qq
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/python -m pytest

# The suite under every other supported Python on this machine, each in its own .venv-3.X (the
# browser tests run once, above: the widgets' JavaScript does not change with the kernel's Python)
pythons: $(STAMP)
	$(BIN)/python tests/other_pythons.py --ignore=tests/test_browser.py

bench: $(STAMP)
	$(BIN)/python bench/bench_scale.py
	$(BIN)/python bench/bench_core.py
	$(BIN)/python bench/bench_traces.py
	$(BIN)/python bench/bench_views.py
	$(BIN)/python bench/bench_http.py
	$(BIN)/python bench/bench_schedule.py

lab: $(STAMP)
	$(BIN)/jupyter lab notebooks

clean:
	rm -rf $(VENV) .venv-3.* build dist .pytest_cache .mypy_cache .ruff_cache sockviz-demo.jsonl sockviz-demo.png test-artifacts

# Two commands from a fresh clone: `make run` and `make test`. Each creates .venv when it is missing.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

DIST_STAMP := $(VENV)/.installed-dist

.PHONY: run test bench claims dist clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/python main.py

# The checks first (layers, lint, types: CONTRIBUTING.md), then the quick suite.
test: $(STAMP)
	$(BIN)/lint-imports
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python main.py bench

# Every lesson claim at ten seeds (the quick suite checks two): claims/claims.csv and the README's table.
claims: $(STAMP)
	$(BIN)/python main.py claims --seeds 0-9 --out claims

$(DIST_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[dev,dist]"
	touch $(DIST_STAMP)

# The double-click app: tests/packaging/test_dist.py builds dist/descent-lab with packaging/descent-lab.spec,
# then tests the frozen app (smoke test, every registry entry, start-up log, installer); then the
# Linux installer archive dist/descent-lab-VERSION-linux-ARCH.tar.gz.
dist: $(DIST_STAMP)
	$(BIN)/python -m pytest -m slow -n 0 -s --timeout 3600 tests/packaging/test_dist.py
	$(BIN)/python packaging/linux/make_archive.py

clean:
	rm -rf $(VENV) build dist *.egg-info

# Every target creates the virtual environment it needs (.venv) on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
READY := $(VENV)/.ready

.PHONY: demo lab test test-pythons lint format emulator clean bench soak

$(READY): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

## demo: run the quickstart notebook headless against the embedded emulator; results in build/
demo: $(READY)
	$(BIN)/qoder-jupyter demo --out build

## lab: JupyterLab on notebooks/ with the emulator running and configured
lab: $(READY)
	$(BIN)/python -m qoder_jupyter.demo --lab

## test: lint, type-check and run the whole test suite
test: lint
	$(BIN)/python -m pytest

## test-pythons: the suite (less the browser tests) on Python 3.10 and 3.13, and on 3.11 with the
## lowest allowed dependencies, with nox (noxfile.py; options: make test-pythons NOX="-s tests-3.13")
test-pythons: $(READY)
	$(BIN)/nox $(NOX)

lint: $(READY)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

format: $(READY)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

## bench: load, per-create, bulk and display costs against raw httpx and the official SDK (one
## table; options: make bench BENCH="--creates 300 --bulk 1000", see python -m benchmarks.bench -h)
bench: $(READY)
	$(BIN)/python -m benchmarks.bench $(BENCH)

## soak: both clients create, then list, under 30 % faults of every kind (drips, lying encodings,
## endless bodies, token echoes...) while the emulator is killed and restarted: 0 lost, 0 duplicated,
## 0 hung, the token never shown; then the fuzzers (hypothesis, schemathesis) with thousands of
## examples (options: make soak SOAK="--count 200 --attempt-timeout 1", see python -m benchmarks.soak -h)
soak: $(READY)
	$(BIN)/python -m benchmarks.soak $(SOAK)
	QODER_FUZZ_EXAMPLES=2000 $(BIN)/python -m pytest -q -p no:cacheprovider \
		tests/test_fuzz_magics.py tests/test_fuzz_openapi.py tests/test_spec_properties.py \
		tests/test_rules_agreement.py tests/test_hostile_shapes.py

## emulator: serve the emulator in the foreground (prints the base URL and a token to use)
emulator: $(READY)
	$(BIN)/qoder-emulator --port 8765

clean:
	rm -rf $(VENV) build dist .nox .pytest_cache .mypy_cache .ruff_cache .hypothesis .import_linter_cache

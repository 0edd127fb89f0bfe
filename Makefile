# Every target creates the virtual environment it needs (.venv) on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
READY := $(VENV)/.ready

.PHONY: demo lab test lint format emulator clean

$(READY): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

## demo: run notebooks/quickstart.ipynb headless against the embedded emulator; results in build/
demo: $(READY)
	$(BIN)/python -m qoder_jupyter.demo

## lab: JupyterLab on notebooks/ with the emulator running and configured
lab: $(READY)
	$(BIN)/python -m qoder_jupyter.demo --lab

## test: lint, type-check and run the whole test suite
test: lint
	$(BIN)/python -m pytest

lint: $(READY)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(READY)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

## emulator: serve the emulator in the foreground (prints the base URL and a token to use)
emulator: $(READY)
	$(BIN)/qoder-emulator --port 8765

clean:
	rm -rf $(VENV) build .pytest_cache .mypy_cache .ruff_cache .hypothesis

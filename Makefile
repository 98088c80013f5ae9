# The two commands: `make run` (set up, publish every demo job, serve the API) and `make test`.
# Both install the exact versions of requirements.lock (pip-tools), then this project without dependencies;
# pyproject.toml keeps the ranges. After changing a range or adding a package there: `make lock`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LOCK := requirements.lock
PIP_TOOLS := pip-tools==7.6.2

.PHONY: run test lint bench clean lock

$(STAMP): pyproject.toml $(LOCK)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r $(LOCK)
	$(BIN)/pip install --quiet --no-deps -e .
	$(BIN)/pip check
	touch $(STAMP)

# Resolve pyproject.toml's ranges (with the dev extra) to exact versions in requirements.lock.
lock:
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet '$(PIP_TOOLS)'
	$(BIN)/pip-compile --quiet --strip-extras --extra dev --no-emit-index-url --no-emit-find-links \
		--no-emit-trusted-host --output-file $(LOCK) pyproject.toml

run: $(STAMP)
	$(BIN)/opendata up

# axe-core for the browser tests (package-lock.json pins it); without npm the axe tests skip outside CI.
NODE_STAMP := node_modules/.installed
$(NODE_STAMP): package.json package-lock.json
	@if command -v npm >/dev/null; then npm ci --no-audit --no-fund --ignore-scripts --silent && touch $(NODE_STAMP); \
	else echo "npm not found: the axe-core browser tests will skip (apt-get install npm)"; fi

test: $(STAMP) $(NODE_STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/pytest -q

bench: $(STAMP)
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) .opendata

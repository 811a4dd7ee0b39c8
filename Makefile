# reviewtui — `make demo` opens the app on a demo workspace, `make test` runs the suite.
# Both create .venv and install what is missing; a second run installs nothing.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO ?= demo-workspace
DEMO_SIZE ?= 40000
# the suite's workers: the tests that start Ray share one of them, and each worker runs torch on
# its share of the cores (tests/conftest.py); much of the suite waits on the commands it starts,
# so three workers finish sooner than two on a two-core machine
TEST_WORKERS ?= 3

.PHONY: setup demo test bench clean-demo

setup: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	@$(BIN)/python -m pip install -q --upgrade pip
	@# A CPU machine must take the CPU torch wheel first: any other torch spec pulls a multi-GB CUDA build.
	@if ! command -v nvidia-smi >/dev/null 2>&1 && ! $(BIN)/python -c "import torch" 2>/dev/null; then \
		echo "installing torch 2.13.0 (CPU)"; $(BIN)/python -m pip install -q torch==2.13.0; fi
	@echo "installing reviewtui and its dependencies into $(VENV)"
	@$(BIN)/python -m pip install -q -c constraints.txt -e '.[dev]'
	@touch $(STAMP)

demo: $(STAMP)
	@test -f $(DEMO)/reviewtui.toml || $(BIN)/reviewtui demo $(DEMO) --size $(DEMO_SIZE)
	@$(BIN)/reviewtui --workspace $(DEMO)

test: $(STAMP)
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadgroup

bench: $(STAMP)
	@for b in bench/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean-demo:
	rm -rf $(DEMO)

# Two commands on a fresh machine:  make demo  |  make test
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
TORCH  := torch==2.14.1 torchvision==0.29.1
# Where the demo looks for MNIST first: the project's shared data folder, when there is one.
DEMO_DATA := $(wildcard $(abspath ../shared/data))

.PHONY: demo test install clean

# The virtual environment, with classicnets installed in editable mode (and its test extras).
$(BIN)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q $(TORCH)
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $@

install: $(BIN)/.installed

demo: $(BIN)/.installed
	$(BIN)/classicnets demo $(if $(DEMO_DATA),--data-dir $(DEMO_DATA))

# axe-core, for the explorer's accessibility tests (npm; without it those tests skip, saying so)
AXE := .axe/node_modules/axe-core/axe.min.js
$(AXE):
	-command -v npm >/dev/null && npm install --prefix .axe --no-audit --no-fund --silent axe-core@4.14.1

test: $(BIN)/.installed $(AXE)
	$(BIN)/python -m pytest -q

clean:
	rm -rf $(VENV) build runs .pytest_cache .axe

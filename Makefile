# The two commands a newcomer runs: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test serve worker clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(BIN)/backoffice demo

test: install
	$(BIN)/python -m pytest

serve: install
	$(BIN)/backoffice db upgrade
	$(BIN)/backoffice serve

worker: install
	$(BIN)/backoffice worker

clean:
	rm -rf $(VENV) instance *.egg-info

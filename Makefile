# The two commands a newcomer runs: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Our English catalog (Chinese msgids); the .mo is built, not committed (.gitignore).
LOCALES_DIR := backoffice/translations
PO := $(LOCALES_DIR)/en/LC_MESSAGES/messages.po
MO := $(PO:.po=.mo)

.PHONY: install demo test serve worker clean i18n i18n-extract i18n-compile

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP) $(MO)

$(MO): $(PO) $(STAMP)
	$(BIN)/pybabel compile --statistics -D messages -d $(LOCALES_DIR)

i18n-compile: $(MO)

# Convert any bi()/text()/t()/is_english() string left in the tree, merge the English catalog,
# report what needs a hand fix (tools/i18n_codemod.py), then compile.
i18n: install
	$(BIN)/python tools/i18n_codemod.py
	$(BIN)/pybabel compile --statistics -D messages -d $(LOCALES_DIR)

# A plain pybabel extraction (the template the catalog test compares against).
i18n-extract: install
	$(BIN)/pybabel extract --no-location --sort-output -F babel.cfg -k _l -k lazy_gettext -k lazy_pgettext:1c,2 -k N_ \
		-o $(LOCALES_DIR)/messages.pot .

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

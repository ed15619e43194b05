# Kiosk: `make run` to try the shop, `make test` for the whole suite.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
FLASK  := $(BIN)/flask --app kiosk
HOST   ?= 127.0.0.1
PORT   ?= 5000

.PHONY: run test bench lint translations i18n-update db seed clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

# Re-install only when the requirement files change.
$(VENV)/.installed: requirements.txt requirements-dev.txt pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -r requirements-dev.txt
	$(BIN)/pip install -q --no-deps -e .
	touch $@

translations: $(VENV)/.installed
	$(BIN)/pybabel compile -d src/kiosk/translations

# After changing visible text: collect the strings, then translate the new ones in de/.
i18n-update: $(VENV)/.installed
	$(BIN)/pybabel extract -F babel.cfg -k lazy_gettext -k _l --no-location --sort-output \
	  -o src/kiosk/translations/messages.pot .
	$(BIN)/pybabel update --ignore-obsolete -i src/kiosk/translations/messages.pot -d src/kiosk/translations

db: $(VENV)/.installed
	$(FLASK) db upgrade

seed: db translations
	$(FLASK) kiosk seed-demo --if-empty

run: seed
	$(FLASK) run --host $(HOST) --port $(PORT)

test: $(VENV)/.installed translations lint
	$(BIN)/python -m pytest -n auto --dist loadfile -p no:cacheprovider $(PYTEST_ARGS)

lint: $(VENV)/.installed
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache --no-logo

bench: $(VENV)/.installed translations
	$(BIN)/python bench/run.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) data/kiosk.sqlite3* data/media instance test-artifacts

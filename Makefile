# Fabrika: `make demo` serves the demo factory; `make test` runs the whole suite (SQLite, then PostgreSQL).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
HOST ?= 127.0.0.1
PORT ?= 8000
WORKLOADS ?=
SCALE ?= 1.0
export PIP_DISABLE_PIP_VERSION_CHECK=1

.PHONY: demo test test-sqlite test-pg bench lint run worker install install-test sysdeps sysdeps-test messages clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml requirements.lock | $(BIN)/activate
	$(PY) -m pip install -q -c requirements.lock -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(PY) -m pip install -q -c requirements.lock -e '.[test]'
	touch $@

install: $(VENV)/.installed messages sysdeps

install-test: $(VENV)/.installed-test messages sysdeps sysdeps-test

messages: $(VENV)/.installed
	$(BIN)/pybabel compile -d fabrika/locale -D django 2>&1 | grep -v "^compiling" || true

# Printed forms are rendered to PDF by WeasyPrint, which needs Pango and a font with Cyrillic (DejaVu).
sysdeps:
	@{ ldconfig -p | grep -q libpangoft2-1.0 && fc-list 2>/dev/null | grep -qi dejavu; } || { \
	  echo "Installing Pango and the DejaVu fonts for printed forms (PDF)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libpango-1.0-0 libpangoft2-1.0-0 fontconfig fonts-dejavu-core >/dev/null; }

# Browser tests drive Debian's chromium; the Russian-catalogue test extracts strings with GNU gettext
# (makemessages runs xgettext, msgfmt checks the catalogue); backup tests on PostgreSQL run pg_dump/pg_restore
# (Debian 12's postgresql-client is version 15, like the server). Install them when missing.
sysdeps-test:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "Installing Debian's chromium for the browser tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }
	@command -v xgettext >/dev/null 2>&1 && command -v msgfmt >/dev/null 2>&1 || { \
	  echo "Installing GNU gettext for the translation tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gettext >/dev/null; }
	@command -v pg_dump >/dev/null 2>&1 && command -v pg_restore >/dev/null 2>&1 || { \
	  echo "Installing the PostgreSQL client programs for the backup tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-client >/dev/null; }

demo: install
	$(BIN)/fabrika migrate --no-input -v 0
	$(BIN)/fabrika demo_load
	@echo "Serving http://$(HOST):$(PORT)/  (Ctrl+C to stop)"
	$(BIN)/fabrika runserver --insecure --noreload $(HOST):$(PORT)

run: install
	$(BIN)/fabrika migrate --no-input -v 0
	$(BIN)/gunicorn fabrika.wsgi --bind $(HOST):$(PORT) --workers 2

worker: install
	$(BIN)/fabrika run_worker

test: install-test
	$(PY) scripts/run_tests.py

test-sqlite: install-test
	$(PY) scripts/run_tests.py --sqlite-only

lint: install-test
	$(BIN)/ruff check fabrika tests bench scripts
	$(BIN)/fabrika makemigrations --check --dry-run

bench: install
	$(PY) -m bench --workloads "$(WORKLOADS)" --scale "$(SCALE)"

clean:
	rm -rf $(VENV) var/test_*.sqlite3*

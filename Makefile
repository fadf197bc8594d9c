# The project's entry points: `make run` and `make test` are all a new user needs.
PY := .venv/bin/python
PIP := .venv/bin/pip
VAR := var
CODE := provenance registry tests bench manage.py

.PHONY: install run test test-quick lint format bench bench-large migrate clean

.venv/.installed: requirements.txt requirements-dev.txt
	python3 -m venv .venv
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -r requirements-dev.txt
	$(PIP) install -q --no-deps -e .
	touch $@

install: .venv/.installed

# Local secrets for `make run` live in var/ (git-ignored), never in the database.
$(VAR)/secret_key:
	@mkdir -p $(VAR) && chmod 700 $(VAR)
	@$(PY) -c "import secrets; print(secrets.token_urlsafe(50))" > $@ && chmod 600 $@

$(VAR)/key_passphrase:
	@mkdir -p $(VAR) && chmod 700 $(VAR)
	@$(PY) -c "import secrets; print(secrets.token_urlsafe(32))" > $@ && chmod 600 $@

$(VAR)/token_pepper:
	@mkdir -p $(VAR) && chmod 700 $(VAR)
	@$(PY) -c "import secrets; print(secrets.token_urlsafe(32))" > $@ && chmod 600 $@

migrate: install $(VAR)/secret_key $(VAR)/key_passphrase $(VAR)/token_pepper
	$(PY) manage.py migrate --noinput

# The demo registry's DDEX Party ID is made up (valid check character), like its labels' DPIDs;
# a real deployment sets the one DDEX assigned it (docs/operations.md).
run: export REGISTRY_DPID ?= PADPIDA2026120600T
# `make run PORT=8080` serves on another port (loopback); BIND=host:port overrides both.
PORT ?= 8000
run: migrate
	$(PY) manage.py ensure_keys
	$(PY) manage.py load_demo --if-empty
	$(PY) manage.py write_tiles
	$(PY) manage.py collectstatic --noinput -v 0
	@# Two local witnesses, the witness-round worker, the task worker (batch imports and signing) and
	@# gunicorn on PORT; Ctrl-C stops them all (registry/supervisor.py).
	PORT=$(PORT) $(PY) -m registry.supervisor

# Two pytest-xdist workers, each with its own test database: the suite takes ~8 minutes on two cores
# instead of ~14 serially. TEST_WORKERS=0 runs it in one process (e.g. with a debugger).
TEST_WORKERS ?= 2

test: install
	$(PY) -m pytest -p no:cacheprovider -n $(TEST_WORKERS) $(PYTEST_ARGS)

# For the edit-test loop: everything but the slow and browser runs (CI runs `make test`).
test-quick: install
	$(PY) -m pytest -p no:cacheprovider -n $(TEST_WORKERS) -m "not slow and not browser" $(PYTEST_ARGS)

lint: install
	.venv/bin/ruff check $(CODE)
	.venv/bin/ruff format --check $(CODE)
	.venv/bin/mypy  # provenance strictly, registry gradually (pyproject.toml)
	DJANGO_SETTINGS_MODULE=tests.settings $(PY) manage.py makemigrations --check --dry-run

format: install
	.venv/bin/ruff format $(CODE)
	.venv/bin/ruff check --fix $(CODE)

# The HTTP rows drive gunicorn with wrk; say so before installing it.
WRK := command -v wrk >/dev/null || { echo "make bench: installing wrk (the HTTP load generator of the lookup rows) with apt-get"; apt-get install -y wrk; }

bench: install
	@$(WRK)
	$(PY) -m bench.run

bench-large: install
	@$(WRK)
	$(PY) -m bench.run --large

clean:
	rm -rf .venv staticfiles

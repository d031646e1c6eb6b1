# The entry points: `make run` (the service on the embedded default) and
# `make test` (the whole test suite, starting PostgreSQL and Redis if needed, installing slapd for the LDAP tests, xmlsec1 for SAML
# and gettext for the translation catalogs' checks).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
TEST_DATABASE_URL ?= postgres://postgres:postgres@127.0.0.1:5432/authflow
TEST_BROKER_URL ?= redis://127.0.0.1:6379/0
TEST_CACHE_URL ?= redis://127.0.0.1:6379/1
# localhost, not 127.0.0.1: cookies are per host (one host, one sign-in), and passkeys need a domain name.
RUN_ADDRESS ?= localhost:8000

.PHONY: venv run test bench clean

$(VENV)/.installed: requirements.txt requirements-test.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-test.txt
	touch $@

# The JavaScript the script engine's sandbox loads (SES, acorn): pinned with
# their integrity in package-lock.json; npm ci checks both.
node_modules/.installed: package.json package-lock.json
	scripts/ensure-node.sh
	npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	touch $@

# The admin console's script editor (CodeMirror 6, pinned in package-lock.json), bundled for the browser by
# esbuild (pinned too): served from static/, no CDN.
CONSOLE_EDITOR := static/console/editor.bundle.js
$(CONSOLE_EDITOR): node_modules/.installed $(wildcard authflow/console_pages/assets/*.js)
	node_modules/.bin/esbuild authflow/console_pages/assets/editor.js --bundle --format=esm --minify \
		--legal-comments=none --log-level=warning --outfile=$@

venv: $(VENV)/.installed node_modules/.installed $(CONSOLE_EDITOR)

run: venv
	AUTHFLOW_DEBUG=1 $(PY) manage.py migrate --noinput
	AUTHFLOW_DEBUG=1 $(PY) manage.py ensure_oidc_key
	AUTHFLOW_DEBUG=1 $(PY) manage.py seed_demo  # once: later runs leave the data as administrators left it
	AUTHFLOW_DEBUG=1 $(PY) manage.py runserver $(RUN_ADDRESS)

test: venv
	scripts/ensure-services.sh postgres redis
	scripts/ensure-chromium.sh
	scripts/ensure-slapd.sh  # the LDAP user-store tests start their own throwaway slapd with it
	scripts/ensure-xmlsec1.sh  # pysaml2's signatures, for the SAML identity provider tests
	scripts/ensure-gettext.sh  # xgettext: the language tests check the catalogs cover every marked string
	DATABASE_URL=$(TEST_DATABASE_URL) CELERY_BROKER_URL=$(TEST_BROKER_URL) AUTHFLOW_CACHE_URL=$(TEST_CACHE_URL) \
		$(VENV)/bin/pytest $(PYTEST_ARGS)

bench: venv
	$(PY) bench/engine_roundtrip.py
	$(PY) bench/login_http.py

clean:
	rm -rf $(VENV) node_modules var .pytest_cache $(CONSOLE_EDITOR)

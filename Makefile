# Entry points: `make demo` and `make test`. Both install what they need (apt packages, a
# project venv, the podman test-host image) and can be run again at any time.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

VENV        := .venv
BIN         := $(CURDIR)/$(VENV)/bin
BUILD       := $(CURDIR)/.build
COLLECTIONS := $(BUILD)/collections
ANSIBLE_BUNDLE := ansible==12.3.0

# The real client: rkt 1.30.0 and its stage1-fly ACI. They default to ../shared/rkt/ when that
# folder has them; `make test RKT=/path/to/rkt RKT_STAGE1=/path/to/stage1-fly.aci` names others.
# Tests that need rkt fail when these name files that are missing; they skip only when both are
# empty (no rkt anywhere), saying so.
RKT_DIR    ?= $(abspath $(CURDIR)/../shared/rkt)
RKT        ?= $(if $(wildcard $(RKT_DIR)/rkt),$(RKT_DIR)/rkt)
RKT_STAGE1 ?= $(if $(wildcard $(RKT_DIR)/stage1-fly.aci),$(RKT_DIR)/stage1-fly.aci)
export RKT RKT_STAGE1

# Everything below runs with the project's own tools, collections and podman settings.
export PATH := $(BIN):$(PATH)
export ANSIBLE_COLLECTIONS_PATH := $(COLLECTIONS)
export ANSIBLE_COLLECTIONS_SCAN_SYS_PATH := false
export CONTAINERS_CONF := $(CURDIR)/tests/hosts/containers.conf
export ANSIBLE_FORCE_COLOR ?= false
export PY_COLORS ?= 0

# The older ansible-core lines meta/runtime.yml claims; `make compat` runs sanity and units on each.
CORE_SERIES := 2.17 2.18

# The python3-cryptography of each host OS x509_cert supports (oldest first); `make crypto-compat`
# runs the host-side unit tests with each: 3.4.8 Ubuntu 22.04, 36.0.1 RHEL 9, 38.0.4 Debian 12,
# 41.0.7 Ubuntu 24.04. The oldest must match MIN_CRYPTOGRAPHY_VERSION in plugins/module_utils/x509.py.
HOST_CRYPTOGRAPHY := 3.4.8 36.0.1 38.0.4 41.0.7
# The tests of the code that imports cryptography on a managed host (x509_cert and its module_utils;
# tests/unit/test_host_crypto.py checks that nothing else in plugins/ imports it).
CRYPTO_TESTS := tests/unit/plugins/module_utils/test_x509.py tests/unit/plugins/modules/test_x509_cert.py \
                tests/unit/plugins/modules/test_x509_cert_content.py tests/unit/test_host_crypto.py
ANSIBLE_CORE_PIN = $(shell grep -m1 '^ansible-core==' requirements-dev.txt)

SCENARIOS := $(sort $(patsubst molecule/%/molecule.yml,%,$(wildcard molecule/*/molecule.yml)))
# Scenarios too slow for `make test` (CI's time budget): `make reliability` and `make test-all` run them.
SLOW_SCENARIOS := reliability

# Every test that measures something adds a row here; the reliability targets print the table.
RELIABILITY_FIGURES := $(BUILD)/reliability/figures.jsonl
export ACI_RELIABILITY_FIGURES := $(RELIABILITY_FIGURES)
REPORT := $(BIN)/python tests/reliability/report.py $(RELIABILITY_FIGURES) --markdown $(BUILD)/reliability/figures.md

.PHONY: help deps venv collection image image-flatcar image-fcos nginx-image python-archive actool sanity units lint compat $(addprefix compat-,$(CORE_SERIES)) crypto-compat $(addprefix crypto-compat-,$(HOST_CRYPTOGRAPHY)) molecule test test-checks test-molecule test-all reliability reliability-quick demo demo-clean build clean catalog $(addprefix molecule-,$(SCENARIOS))

help:
	@echo 'make demo    set up a registry and a client in containers, publish and fetch a signed image'
	@echo 'make test    sanity, unit tests, ansible-lint, the quick reliability tests and the molecule scenarios'
	@echo 'make reliability   the reliability and security suite, then its table of figures'
	@echo 'make test-all      make test, then the slow scenarios (reliability) and the whole table'
	@echo 'make catalog the catalog page at 120 images in headless Chromium; updates docs/catalog.png'
	@echo 'make units | sanity | lint | compat | crypto-compat | molecule | molecule-<scenario> | build | image | image-flatcar | image-fcos | nginx-image | python-archive | demo-clean | clean'

# System packages (Debian): podman and its runtime, debootstrap for the test-host image, gnupg.
deps: $(BUILD)/deps.stamp
$(BUILD)/deps.stamp: tests/hosts/apt-packages.txt
	tests/hosts/install-apt-packages.sh tests/hosts/apt-packages.txt
	@mkdir -p $(@D) && touch $@

venv: $(VENV)/.stamp
$(VENV)/.stamp: requirements.txt requirements-dev.txt tests/constraints.txt
	test -x $(BIN)/python || python3 -m venv $(VENV)
	$(BIN)/pip install -q -U pip
	$(BIN)/pip install -q -r requirements-dev.txt
	touch $@

# The checkout, seen as ansible_collections/aci/registry, next to containers.podman unpacked from
# the ansible bundle's wheel (no Galaxy server is needed).
collection: $(COLLECTIONS)/.stamp
$(COLLECTIONS)/.stamp: $(VENV)/.stamp
	mkdir -p $(COLLECTIONS)/ansible_collections/aci $(BUILD)/wheels
	ln -sfn $(CURDIR) $(COLLECTIONS)/ansible_collections/aci/registry
	$(BIN)/pip download -q --no-deps -d $(BUILD)/wheels $(ANSIBLE_BUNDLE)
	rm -rf $(COLLECTIONS)/ansible_collections/containers
	cd $(COLLECTIONS) && $(BIN)/python -m zipfile -e $(BUILD)/wheels/ansible-*.whl $(BUILD)/bundle
	mkdir -p $(COLLECTIONS)/ansible_collections/containers
	mv $(BUILD)/bundle/ansible_collections/containers/podman $(COLLECTIONS)/ansible_collections/containers/
	rm -rf $(BUILD)/bundle
	touch $@

image: $(BUILD)/deps.stamp
	tests/hosts/build-image.sh

# The Flatcar-like host (docker inside, no Python, read-only /usr), derived from the Debian image.
image-flatcar: image
	tests/hosts/build-derived-image.sh flatcar

# The Fedora-CoreOS-like host (podman inside, no Python, read-only /usr), derived from the Debian image.
image-fcos: image
	tests/hosts/build-derived-image.sh fcos

# nginx alone as a docker-archive (.build/images/aci-registry-nginx.tar) for hosts that run it under docker.
nginx-image: image
	tests/hosts/build-nginx-image.sh

# The relocatable Python the bootstrap role installs on hosts without one (Flatcar, Fedora CoreOS),
# for the tests and as a recipe: .build/python/aci-registry-python-<arch>.tar.gz.
python-archive: $(BUILD)/python/aci-registry-python-$(shell uname -m).tar.gz
$(BUILD)/python/aci-registry-python-%.tar.gz: tests/hosts/build-python-archive.sh tests/hosts/python-archive-requirements.txt $(VENV)/.stamp | image
	tests/hosts/build-python-archive.sh

# appc's reference validator (spec 0.8.11), built from Debian's Go sources: tests check every ACI with it.
actool: $(BUILD)/bin/actool
$(BUILD)/bin/actool: $(BUILD)/deps.stamp
	mkdir -p $(@D)
	GOPATH=/usr/share/gocode GO111MODULE=off GOFLAGS= go build -o $@ github.com/appc/spec/actool

sanity: $(BUILD)/deps.stamp
	tests/sanity/run.sh

# -n auto: one pytest worker per core (pytest-xdist); the tests wait on gpg, openssl and ansible a lot.
units: $(COLLECTIONS)/.stamp $(BUILD)/bin/actool
	$(BIN)/pytest -q -n auto tests/unit

lint: $(COLLECTIONS)/.stamp
	$(BIN)/ansible-lint --profile production

# The catalog page at 120 images in Debian's headless Chromium (the filter, JavaScript off, the
# script's CSP hash), and its screenshot: docs/catalog.png, or CATALOG_SCREENSHOT (make test keeps
# its own in .build, so a test run leaves the tree as it was).
CATALOG_SCREENSHOT ?= docs/catalog.png
catalog: $(COLLECTIONS)/.stamp
	tests/hosts/install-apt-packages.sh tests/catalog/apt-packages.txt
	$(BIN)/python tests/catalog/check_catalog.py --screenshot $(CATALOG_SCREENSHOT)

# A venv per ansible-core line, with the collection's requirements and the unit-test tools.
compat: $(addprefix compat-,$(CORE_SERIES))
$(addprefix compat-,$(CORE_SERIES)): compat-%: $(BUILD)/core-%/.stamp $(COLLECTIONS)/.stamp $(BUILD)/bin/actool
	ANSIBLE_CORE_SERIES=$* tests/sanity/run.sh
	PATH=$(BUILD)/core-$*/bin:$$PATH $(BUILD)/core-$*/bin/pytest -q -n auto tests/unit
$(BUILD)/core-%/.stamp: requirements.txt tests/constraints.txt $(BUILD)/deps.stamp
	test -x $(@D)/bin/python || python3 -m venv $(@D)
	$(@D)/bin/pip install -q -U pip
	$(@D)/bin/pip install -q 'ansible-core~=$*.0' -r requirements.txt -c tests/constraints.txt ansible-builder pytest pytest-xdist
	touch $@

# A venv per host cryptography release, with the controller's ansible-core and the collection's
# requirements: pinned as tests/constraints.txt says, except cryptography, which is the variable (and
# which requirements.txt's lower bound must admit). The tests also run x509_cert with .venv's Python
# as the controller that signs the host's requests.
crypto-compat: $(addprefix crypto-compat-,$(HOST_CRYPTOGRAPHY))
$(addprefix crypto-compat-,$(HOST_CRYPTOGRAPHY)): crypto-compat-%: $(BUILD)/crypto-%/.stamp $(COLLECTIONS)/.stamp
	$(BUILD)/crypto-$*/bin/python -c 'import sys, cryptography; from cryptography.hazmat.backends.openssl.backend import backend; \
	    print("cryptography", cryptography.__version__, "with", backend.openssl_version_text()); sys.exit(cryptography.__version__ != "$*")'
	PATH=$(BUILD)/crypto-$*/bin:$$PATH $(BUILD)/crypto-$*/bin/pytest -q $(CRYPTO_TESTS)
$(BUILD)/crypto-%/.stamp: requirements.txt requirements-dev.txt tests/constraints.txt
	test -x $(@D)/bin/python || python3 -m venv $(@D)
	$(@D)/bin/pip install -q -U pip
	grep -v '^cryptography==' tests/constraints.txt > $(@D)/constraints.txt
	$(@D)/bin/pip install -q -c $(@D)/constraints.txt -r requirements.txt '$(ANSIBLE_CORE_PIN)' \
	    'cryptography==$*' pytest
	touch $@

molecule: $(addprefix molecule-,$(filter-out $(SLOW_SCENARIOS),$(SCENARIOS)))
# The Flatcar-like registry gets its Python and its nginx image from archives on the controller,
# and so does the Fedora-CoreOS-like one. Prerequisites only: the recipe is the pattern rule's
# below (a recipe under these lines would belong to the last of them alone).
molecule-flatcar: image-flatcar nginx-image python-archive
molecule-fcos: image-fcos nginx-image python-archive
$(addprefix molecule-,$(SCENARIOS)): molecule-%: $(COLLECTIONS)/.stamp image
	$(BIN)/molecule test -s $*

# The controller-side part of the reliability suite: hostile archives and upstreams, full disks.
reliability-quick: $(COLLECTIONS)/.stamp
	$(BIN)/pytest -q tests/reliability

# The whole reliability suite, then one table of what it survived (also in .build/reliability/figures.md).
reliability: deps
	rm -f $(RELIABILITY_FIGURES)
	$(MAKE) -k reliability-quick molecule-server molecule-registry molecule-reliability || { $(REPORT) || true; exit 1; }
	$(REPORT)

# -k: one failing stage must not hide the others; make still exits non-zero.
# Two lanes at once: the controller-side checks keep the CPU busy while the molecule scenarios
# mostly wait on podman and on the hosts, which nearly halves the wall time on 2 cores. Each lane
# is serial (-j1) and its lines are prefixed with its name; what both lanes need is made first.
# A failure is summed up last (each lane also keeps its log in .build/test-<lane>.log), because
# the other lane's output would otherwise push it out of sight in a CI log's tail.
test: deps $(COLLECTIONS)/.stamp $(BUILD)/bin/actool image
	rm -f $(RELIABILITY_FIGURES) $(BUILD)/test-checks.log $(BUILD)/test-molecule.log
	status=0; $(MAKE) -k -j2 test-checks test-molecule || status=$$?; \
	$(REPORT) || true; \
	if [ $$status -ne 0 ]; then \
	    echo 'make test FAILED. What failed (make targets, pytest and molecule failures, retries left out), lane by lane:'; \
	    grep -hE '\*\*\* \[|\] (FAILED|ERROR) |\] CRITICAL |\] E +[A-Za-z]+(Error|Exception)' \
	        $(BUILD)/test-checks.log $(BUILD)/test-molecule.log | grep -v -e "molecule.yml' glob failed" -e 'FAILED - RETRYING' | tail -n 80 || true; \
	fi; \
	exit $$status

test-checks test-molecule: test-%:
	$(MAKE) -k -j1 $(if $(filter checks,$*),sanity units lint compat crypto-compat reliability-quick catalog CATALOG_SCREENSHOT=$(BUILD)/catalog.png,molecule) 2>&1 \
	    | sed -u 's/^/[$*] /' | tee $(BUILD)/test-$*.log

# make test, then the slow scenarios, and the whole figures table.
test-all: test
	$(MAKE) -k $(addprefix molecule-,$(SLOW_SCENARIOS))
	$(REPORT)

demo: $(COLLECTIONS)/.stamp $(BUILD)/deps.stamp
	demo/run.sh

demo-clean:
	podman rm -f aci-demo-registry aci-demo-client >/dev/null 2>&1 || true
	podman network rm aci-demo >/dev/null 2>&1 || true
	rm -rf $(BUILD)/demo

build: $(VENV)/.stamp
	$(BIN)/ansible-galaxy collection build --force .

clean:
	rm -rf $(BUILD) tests/output aci-registry-*.tar.gz

# The two commands a newcomer needs:
#   make demo   build the lab, harden it with site.yml, print the compliance summary
#   make test   lint, unit tests and the Molecule scenarios
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
BIN := $(VENV)/bin
export CONTAINERS_CONF := $(CURDIR)/lab/containers.conf
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
export PATH := $(CURDIR)/$(BIN):$(PATH)

APT_PACKAGES := podman runc debootstrap uidmap slirp4netns fuse-overlayfs \
	containernetworking-plugins dpkg-dev openssh-client qemu-system-x86 qemu-utils e2fsprogs \
	postgresql-15 postgresql-15-pgaudit redis-server python3-psycopg python3-redis \
	python3-cryptography openssl
# host: two lab containers, about 5 minutes; postgresql and redis: one container each,
# about 4 minutes each; vm: one qemu VM over SSH, about 12 minutes.
SCENARIOS ?= host postgresql redis vm

.PHONY: help deps demo lab lab-down lint unit integration molecule test build bench score clean

help:
	@echo "make demo      build the lab, harden it with site.yml, print the compliance summary"
	@echo "make test      lint, unit tests and the Molecule scenarios ($(SCENARIOS))"
	@echo "make lab | lab-down | lint | unit | molecule | build | bench | score"

deps: $(VENV)/.installed
	@missing=$$(for p in $(APT_PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null \
		| grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing $$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing \
			> /dev/null; \
	fi

$(VENV)/.installed: requirements.txt requirements-test.txt
	python3 -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements-test.txt
	touch $@

lab: deps
	lab/lab.sh up

lab-down:
	lab/lab.sh down

demo: lab
	$(BIN)/ansible-playbook site.yml
	@echo
	@cat reports/latest/summary.md

lint: deps
	$(BIN)/yamllint -s .
	$(BIN)/ansible-lint --offline
	$(BIN)/ruff check plugins tests benchmarks

unit: deps
	$(BIN)/pytest tests/unit -q

# Modules against real PostgreSQL and Redis servers that the tests start on loopback.
integration: deps
	$(BIN)/pytest tests/integration -q

molecule: deps
	GW_LAB_IMAGE=$$(lab/build-image.sh) && export GW_LAB_IMAGE && \
	for scenario in $(SCENARIOS); do \
		$(BIN)/molecule test -s $$scenario || exit 1; \
	done

test: lint unit integration molecule build

build: deps
	$(BIN)/ansible-galaxy collection build --force --output-path .cache/build > /dev/null
	@if tar -tzf .cache/build/groundwork-erp_baseline-*.tar.gz \
		| grep -E '^(tests|molecule|lab|reports|\.lab|\.venv)/'; then \
		echo "build_ignore misses the files above"; exit 1; \
	fi
	@echo "collection builds without tests, lab or reports"

bench: lab
	benchmarks/run.sh
	benchmarks/tier.sh postgresql
	benchmarks/tier.sh redis

score: lab
	benchmarks/score.sh

clean: lab-down
	rm -rf reports .cache

# xdplb: `make demo` and `make test` are the two commands (README.md). Both run `setup`
# when a tool is missing. Run as root: they install packages, load BPF and create netns.
SHELL := /bin/bash
DOTNET ?= dotnet
CONFIGURATION ?= Release
export DOTNET_CLI_TELEMETRY_OPTOUT := 1
export DOTNET_NOLOGO := 1

.PHONY: all setup ensure-setup build bpf agent tools grpc-js-client test test-unit test-kubernetes test-bpf test-integration test-vm demo bench clean vm vm-selftest

all: build

setup:
	scripts/setup.sh

ensure-setup:
	@if scripts/needs-setup.sh; then scripts/setup.sh; fi

bpf: ensure-setup
	$(MAKE) -C bpf

# The agent is published as one file; its BPF object is embedded in it.
agent: bpf
	$(DOTNET) publish src/XdpLb.Agent -c $(CONFIGURATION) -o bin -p:PublishSingleFile=true --self-contained false -v quiet -nologo

# A UDP server/client for the netns tests and the demo; a tagged-frame UDP client; a client
# that prints what getpeername/recvfrom show (the socket hooks' tests); a spoofed-source
# SYN/UDP flood (the connection table's flood tests and bench).
tools: ensure-setup tests/netns/build/udp_echo tests/netns/build/vlan_udp tests/netns/build/sock_probe tests/netns/build/flood

tests/netns/build/%: tests/netns/%.c tests/netns/socket_address.h
	mkdir -p $(@D)
	clang -O2 -Wall -Werror -o $@ $<

# The independent gRPC client of the integration tests (tests/grpc-js-client): its pinned
# npm packages, installed again whenever the lock file changes.
GRPC_JS_CLIENT := tests/grpc-js-client
grpc-js-client: $(GRPC_JS_CLIENT)/node_modules/.package-lock.json

$(GRPC_JS_CLIENT)/node_modules/.package-lock.json: $(GRPC_JS_CLIENT)/package.json $(GRPC_JS_CLIENT)/package-lock.json | ensure-setup
	cd $(GRPC_JS_CLIENT) && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	touch $@

build: bpf agent tools grpc-js-client
	$(DOTNET) build XdpLb.sln -c $(CONFIGURATION) -v quiet -nologo

test: build
	scripts/run-tests.sh $(CONFIGURATION)

test-unit: build
	scripts/run-tests.sh $(CONFIGURATION) XdpLb.Core.Tests XdpLb.Agent.Tests

test-kubernetes: build
	scripts/run-tests.sh $(CONFIGURATION) XdpLb.Kubernetes.Tests

test-bpf: build
	scripts/run-tests.sh $(CONFIGURATION) XdpLb.Bpf.Tests

test-integration: build
	scripts/run-tests.sh $(CONFIGURATION) XdpLb.Integration.Tests

test-vm: build
	scripts/run-tests.sh $(CONFIGURATION) XdpLb.Vm.Tests

# The qemu VM with a Debian 6.1 kernel for the tests that need real IPVS (tests/vm/README.md):
# built once into /var/cache/xdplb-vm; tests/vm/run.sh -- COMMAND runs COMMAND inside it.
vm: ensure-setup
	tests/vm/build.sh

vm-selftest: vm
	tests/vm/selftest.sh

demo: build
	scripts/demo.sh

bench: build
	scripts/bench.sh

clean:
	$(MAKE) -C bpf clean
	rm -rf bin tests/netns/build $(GRPC_JS_CLIENT)/node_modules
	$(DOTNET) clean XdpLb.sln -v quiet -nologo >/dev/null 2>&1 || true
	find src tests bench examples -type d \( -name bin -o -name obj \) -prune -exec rm -rf {} +

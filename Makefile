# rumpnet -- a thin wrapper over meson/ninja.  The two commands a new user
# needs are `make run` and `make check`; both install missing Debian packages
# first (scripts/deps).
#
#   make run          the main job (for now: the kernel benchmark table,
#                     then the TCP benchmark against Linux)
#   make check        build and run every test, ending with "N passed, N failed"
#   make bench-kern   kernbench in the mp/up/hypercall builds, side by side
#   make bench-udp    udpbench (UDP receive path, both softint modes, Linux)
#   make bench-tcp    tcpbench (TCP rr, crr, stream against Linux; options
#                     in TCPBENCH_OPTS, e.g. TCPBENCH_OPTS="--repeat 3")
#   make BUILD=dir MESON_OPTS="-Dlocks=up" check    another configuration
BUILD ?= build
MESON_OPTS ?=
TCPBENCH_OPTS ?=

.PHONY: all deps build run check bench-kern bench-udp bench-tcp clean

all: build

deps:
	@scripts/deps

$(BUILD)/build.ninja:
	@scripts/deps
	meson setup $(BUILD) $(MESON_OPTS)

build: deps $(BUILD)/build.ninja
	ninja -C $(BUILD)

run: bench-kern bench-tcp

check: build
	scripts/check $(BUILD)

bench-kern: deps
	scripts/bench-kern

bench-udp: deps
	@[ -f build-bench-default/build.ninja ] || meson setup build-bench-default \
		--buildtype=release -Db_ndebug=true >/dev/null
	ninja -C build-bench-default bench/udpbench >/dev/null
	build-bench-default/bench/udpbench

bench-tcp: deps
	@[ -f build-bench-default/build.ninja ] || meson setup build-bench-default \
		--buildtype=release -Db_ndebug=true >/dev/null
	ninja -C build-bench-default bench/tcpbench >/dev/null
	build-bench-default/bench/tcpbench $(TCPBENCH_OPTS)

clean:
	rm -rf build build-*

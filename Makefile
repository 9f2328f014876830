# rumpnet -- a thin wrapper over meson/ninja.  The two commands a new user
# needs are `make run` and `make check`; both install missing Debian packages
# first (scripts/deps).
#
#   make run          the main job: as root, rumpnet-httpd on a DPDK tap
#                     serving curl (a page, 100 MB checked, /stats); as a
#                     plain user, rumpnet-perf over DPDK net_ring
#   make check        build and run every test, ending with "N passed, N failed"
#   make check-valgrind  the unit, packet and bad-input suites under
#                     valgrind's memcheck (in BUILD; not a sanitizer build)
#   make bench        rumpnet-perf rr/crr/stream: rumpnet over DPDK (net_ring,
#                     net_memif; -Dlocks=up, and net_ring -Dlocks=mp too)
#                     vs Linux over veth, and bench/ringfloor (net_ring
#                     with no stack, rr's ceiling); table, BENCH lines,
#                     bench/perf.png (BENCH_DURATION=seconds per run,
#                     medians of BENCH_REPEAT rounds)
#   make bench-matrix the optimization matrix: rumpnet-perf rr/crr/udp in
#                     every {softint threads|inline} x {locks mp|up} x
#                     {curlwp hypercall|tls} x {pthreads|fibers}, as ratios
#                     to classic rump; table, BENCH lines, bench/matrix.png
#   make bench-scale  aggregate rr/crr, 16 connections per core, one core
#                     vs two (a closed client/server pair per core),
#                     rumpnet fibers and threads and Linux, medians of 3
#   make bench-kern   kernbench in the mp/up/hypercall builds, side by side
#   make bench-udp    udpbench (UDP receive path, both softint modes, Linux;
#                     medians of BENCH_REPEAT rounds)
#   make bench-tcp    tcpbench (TCP rr, crr, stream against Linux; options
#                     in TCPBENCH_OPTS, e.g. TCPBENCH_OPTS="--repeat 3")
#   make bench-loss   lossbench (TCP goodput over a simulated lossy link,
#                     virtual time: newreno, newreno+sack, cubic+sack+rack
#                     at 0.1%, 1%, 5% loss; options in LOSSBENCH_OPTS,
#                     e.g. LOSSBENCH_OPTS="--seeds 3"); a long fat pipe
#                     (1 Gbit/s, 50 ms RTT, 0.001% loss); then, as root,
#                     the same over a real veth link with the loss inside
#                     rumpnet, rumpnet and Linux as the sender
#                     (scripts/bench-loss-real, LOSS_SECONDS per run)
#   make fuzz         build the libFuzzer targets of tests/fuzz with clang
#                     in build-fuzz (ASan, UBSan, checksums not checked)
#                     and run each for FUZZ_SECONDS (default 60)
#   make soak         tests/sim/soak in BUILD: rounds of random TCP and UDP
#                     workloads between instances on the impaired bus
#                     (virtual time), every byte, counter and pool checked,
#                     for SOAK_SECONDS of wall-clock time (default 3600);
#                     SOAK_SEED=n repeats a run (it prints its seed)
#   make BUILD=dir MESON_OPTS="-Dlocks=up" check    another configuration
BUILD ?= build
MESON_OPTS ?=
TCPBENCH_OPTS ?=
LOSSBENCH_OPTS ?=
BENCH_DURATION ?= 5
LOSS_SECONDS ?= 15
FUZZ_SECONDS ?= 60
FUZZ_TARGETS = frame tcp api reass
SOAK_SECONDS ?= 3600
SOAK_SEED ?=
BENCH_REPEAT ?= 3

.PHONY: all deps build run check check-valgrind bench bench-matrix bench-scale bench-kern bench-udp \
	bench-tcp bench-loss fuzz soak clean

all: build

deps:
	@scripts/deps

$(BUILD)/build.ninja:
	@scripts/deps
	meson setup $(BUILD) $(MESON_OPTS)

build: deps $(BUILD)/build.ninja
	ninja -C $(BUILD)

run: build
	scripts/run-main $(BUILD)

check: build
	scripts/check $(BUILD)

check-valgrind: build
	scripts/check-valgrind $(BUILD)

bench: deps
	@[ -f build-bench-default/build.ninja ] || meson setup build-bench-default \
		--buildtype=release -Db_ndebug=true >/dev/null
	@[ -f build-bench-up/build.ninja ] || meson setup build-bench-up \
		--buildtype=release -Db_ndebug=true -Dlocks=up >/dev/null
	ninja -C build-bench-default apps/rumpnet-perf >/dev/null
	ninja -C build-bench-up apps/rumpnet-perf bench/ringfloor >/dev/null
	scripts/bench-main build-bench-up $(BENCH_DURATION) $(BENCH_REPEAT) \
		build-bench-default

bench-matrix: deps
	scripts/bench-matrix $(BENCH_DURATION) $(BENCH_REPEAT)

bench-scale: deps
	@[ -f build-bench-default/build.ninja ] || meson setup build-bench-default \
		--buildtype=release -Db_ndebug=true >/dev/null
	ninja -C build-bench-default apps/rumpnet-perf >/dev/null
	scripts/bench-scale build-bench-default $(BENCH_DURATION) $(BENCH_REPEAT)

bench-kern: deps
	scripts/bench-kern

bench-udp: deps
	@[ -f build-bench-default/build.ninja ] || meson setup build-bench-default \
		--buildtype=release -Db_ndebug=true >/dev/null
	ninja -C build-bench-default bench/udpbench >/dev/null
	build-bench-default/bench/udpbench --repeat $(BENCH_REPEAT)

bench-tcp: deps
	@[ -f build-bench-default/build.ninja ] || meson setup build-bench-default \
		--buildtype=release -Db_ndebug=true >/dev/null
	ninja -C build-bench-default bench/tcpbench >/dev/null
	build-bench-default/bench/tcpbench $(TCPBENCH_OPTS)

bench-loss: deps
	@[ -f build-bench-default/build.ninja ] || meson setup build-bench-default \
		--buildtype=release -Db_ndebug=true >/dev/null
	ninja -C build-bench-default bench/lossbench apps/rumpnet-perf >/dev/null
	build-bench-default/bench/lossbench $(LOSSBENCH_OPTS)
	@echo "lossbench: a long fat pipe, 1 Gbit/s, 50 ms RTT:" >&2
	build-bench-default/bench/lossbench --rate 1000 --delay-ms 25 \
		--loss 0.001 --bytes 512M --sockbuf 16M
	scripts/bench-loss-real build-bench-default $(LOSS_SECONDS)

fuzz: deps
	@[ -f build-fuzz/build.ninja ] || CC=clang meson setup build-fuzz \
		-Dfuzz=true -Dfuzz_nocksum=true -Ddpdk=disabled \
		-Db_sanitize=address,undefined -Db_lundef=false >/dev/null
	ninja -C build-fuzz $(FUZZ_TARGETS:%=tests/fuzz/fuzz_%) >/dev/null
	scripts/fuzz build-fuzz $(FUZZ_SECONDS) $(FUZZ_TARGETS)

# a sanitizer build's findings abort the run (as in the meson tests)
soak: deps $(BUILD)/build.ninja
	ninja -C $(BUILD) tests/sim/soak
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
		$(BUILD)/tests/sim/soak --seconds $(SOAK_SECONDS) \
		$(if $(SOAK_SEED),--seed $(SOAK_SEED))

clean:
	rm -rf build build-*

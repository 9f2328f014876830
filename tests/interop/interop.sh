#!/usr/bin/env bash
# tests/interop/interop.sh BUILD [CASE...] -- rumpnet against the Linux
# kernel's own stack and ordinary tools.
#
# Two network namespaces this script makes and removes, joined by a veth
# pair: rumpnet runs in "r" on its veth end through DPDK's net_af_packet
# (198.18.1.2/24); Linux has the other end in "l" (198.18.1.1/24, TX
# checksum offload off so that af_packet sees whole checksums).  Nothing
# can leave the two namespaces.
#
# Needs root (exit 77, meson's "skipped", otherwise, saying why).  Prints
# one "ok N - what" / "not ok N - what" line per check and exits 1 if any
# failed.  Cases: ping perf echo mcast http wrk impair pcap cores perfcores
# link tapmove tfo (default: all).
# RUMPNET_INTEROP=0 skips it.
set -uo pipefail
B=$(cd "${1:-build}" && pwd)
shift || true
cases=${*:-ping perf echo mcast http wrk impair pcap cores perfcores link tapmove tfo}

skip() { echo "1..0 # SKIP $*"; exit 77; }
[ "${RUMPNET_INTEROP:-1}" != 0 ] || skip "RUMPNET_INTEROP=0 (.ci/run runs it in the default configuration only)"
[ "$(id -u)" -eq 0 ] || skip "needs root (network namespaces, veth, af_packet)"
command -v ip >/dev/null || skip "no ip (iproute2)"
for t in curl nc ping tcpdump ethtool wrk; do
	command -v "$t" >/dev/null || skip "no $t (scripts/deps installs it)"
done
[ -x "$B/apps/rumpnet-httpd" ] || skip "apps not built (no DPDK?)"

id=$$
R=rnr$id L=rnl$id
VR=vr$id VL=vl$id
work=$(mktemp -d)
pids=()
n=0 failed=0

cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
	ip netns del "$R" 2>/dev/null
	ip netns del "$L" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

ok() { n=$((n + 1)); echo "ok $n - $*"; }
notok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $*"; }
check() { local what=$1; shift; if "$@"; then ok "$what"; else notok "$what"; fi; }

ip netns add "$R" && ip netns add "$L" || skip "cannot make network namespaces"
ip link add "$VR" netns "$R" type veth peer name "$VL" netns "$L" ||
	skip "cannot make a veth pair"
ip -n "$R" link set lo up
ip -n "$L" link set lo up
ip -n "$R" link set "$VR" up
ip -n "$L" link set "$VL" up
ip netns exec "$R" sysctl -qw "net.ipv6.conf.$VR.disable_ipv6=1"
ip netns exec "$L" sysctl -qw "net.ipv6.conf.$VL.disable_ipv6=1"
ip -n "$L" addr add 198.18.1.1/24 dev "$VL"
ip netns exec "$L" ethtool -K "$VL" tx off >/dev/null 2>&1
ip netns exec "$R" ethtool -K "$VR" tx off >/dev/null 2>&1

EAL="--no-huge --no-shconf --no-pci -m 512 --log-level=*:error --vdev=net_af_packet0,iface=$VR"
NET=(--dpdk "$EAL" --port net_af_packet0 --addr 198.18.1.2/24)
inl() { ip netns exec "$L" "$@"; }
inr() { ip netns exec "$R" "$@"; }

# start APP ARGS...: a rumpnet app in namespace R; waits for its first line
start() {
	local log=$work/app$((${#pids[@]})).log
	# not through inr(): $! must be the app (ip netns exec execs it)
	ip netns exec "$R" "$@" >"$log" 2>&1 &
	pids+=($!)
	for _ in $(seq 100); do
		[ -s "$log" ] && grep -qE 'serving|listening|echo' "$log" && break
		sleep 0.1
	done
	sleep 0.3
	LAST_LOG=$log
}
stop_all() {
	# TERM: a background job of a script ignores SIGINT
	for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
	pids=()
}

mkfiles() {
	mkdir -p "$work/www"
	: >"$work/www/empty"
	printf x >"$work/www/one"
	head -c 1000000 /dev/urandom >"$work/www/1m"
	head -c 10000000 /dev/urandom >"$work/www/10m"
	[ -f "$work/www/100m" ] || head -c 100000000 /dev/urandom >"$work/www/100m"
	echo '<h1>rumpnet</h1>' >"$work/www/index.html"
}

# fetch NAME [TIMEOUT]: curl it from L and compare SHA-256
fetch() {
	local f=$1 t=${2:-60}
	inl curl -sS --max-time "$t" -o "$work/got" "http://198.18.1.2/$f" &&
		[ "$(sha256sum <"$work/got")" = "$(sha256sum <"$work/www/$f")" ]
}

case_ping() {
	start "$B/apps/rumpnet-echo" "${NET[@]}" --duration 60
	check "Linux ping -> rumpnet (5 replies)" inl ping -c 5 -i 0.2 -W 2 198.18.1.2
	if [ -x "$B/apps/rumpnet-ping" ]; then
		stop_all
		check "rumpnet-ping -> Linux (3 replies)" \
			inr "$B/apps/rumpnet-ping" "${NET[@]}" -c 3 -i 0.2 198.18.1.1
	fi
	stop_all
}

case_echo() {
	local f
	for f in "" --fibers; do
		echo_checks "$f"
	done
}

# echo_checks [--fibers]: rumpnet-echo's kqueue loop, or its fibers
echo_checks() {
	local how=${1:-kqueue}
	start "$B/apps/rumpnet-echo" "${NET[@]}" --tcp-port 7 --udp-port 7 --duration 60 $1
	check "nc TCP -> rumpnet-echo ($how)" bash -c \
		"[ \"\$(printf 'hello rumpnet\n' | ip netns exec $L nc -q 1 -w 3 198.18.1.2 7)\" = 'hello rumpnet' ]"
	head -c 2000000 /dev/urandom >"$work/echo.in"
	inl nc -q 2 -w 5 198.18.1.2 7 <"$work/echo.in" >"$work/echo.out"
	check "nc TCP 2 MB through rumpnet-echo ($how), intact" cmp -s "$work/echo.in" "$work/echo.out"
	check "UDP datagram -> rumpnet-echo ($how) and back" bash -c \
		"[ \"\$(ip netns exec $L python3 -c 'import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(3); s.sendto(b\"datagram\", (\"198.18.1.2\", 7)); print(s.recvfrom(100)[0].decode())')\" = datagram ]"
	check "nc UDP -> rumpnet-echo ($how)" bash -c \
		"[ \"\$(printf 'datagram\n' | ip netns exec $L nc -u -w 2 198.18.1.2 7)\" = 'datagram' ]"
	# from another echo service's port: answering would loop for ever
	check "UDP from port 7 -> rumpnet-echo ($how): not echoed (a loop)" bash -c \
		"[ \"\$(ip netns exec $L python3 -c 'import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind((\"198.18.1.1\", 7)); s.settimeout(1); s.sendto(b\"loop\", (\"198.18.1.2\", 7))
try: print(s.recvfrom(100)[0].decode())
except socket.timeout: print(\"none\")')\" = none ]"
	stop_all
	check "rumpnet-echo ($how) counted the looping datagram" \
		grep -q ', 1 refused (a looping source port)' "$LAST_LOG"
}

# mcast_send GROUP: a datagram from Linux to GROUP port 7 out of its veth;
# prints the answer, or "none" after 2 s
mcast_send() {
	inl python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton("198.18.1.1"))
s.settimeout(2)
s.sendto(b"to the group", (sys.argv[1], 7))
try:
    d, a = s.recvfrom(100)
    print(d.decode(), a[0])
except socket.timeout:
    print("none")' "$1"
}

case_mcast() {
	# tcpdump in L decodes what rumpnet sends on joining and on leaving
	ip netns exec "$L" tcpdump -l -n -vv -i "$VL" igmp >"$work/igmp.out" 2>/dev/null &
	local td=$!
	sleep 1
	start "$B/apps/rumpnet-echo" "${NET[@]}" --tcp-port 0 --udp-port 7 --join 239.1.2.3 --duration 60
	check "UDP from Linux to a joined group -> rumpnet-echo and back" \
		[ "$(mcast_send 239.1.2.3)" = "to the group 198.18.1.2" ]
	check "UDP to a group rumpnet did not join: no echo" \
		[ "$(mcast_send 239.1.2.4)" = none ]
	stop_all
	sleep 0.5
	kill -TERM "$td" 2>/dev/null
	wait "$td" 2>/dev/null
	check "rumpnet-echo counted the other group's datagram in ip.notmember" \
		grep -qE '^ip\.notmember 1$' "$LAST_LOG"
	check "tcpdump: an IGMPv2 report on joining (TTL 1, Router Alert)" bash -c \
		"grep -A1 'tos 0xc0, ttl 1,.*options (RA)' '$work/igmp.out' | grep -q '198.18.1.2 > 239.1.2.3: igmp v2 report 239.1.2.3'"
	check "tcpdump: an IGMPv2 leave on closing" \
		grep -q '198.18.1.2 > 224.0.0.2: igmp leave 239.1.2.3' "$work/igmp.out"
}

# http_probe REQUEST: REQUEST (with \r\n escapes) sent raw to rumpnet-httpd;
# prints the answer's status line, or "closed N" if the server closed the
# connection without one, N seconds after the request went
http_probe() {
	inl python3 -c '
import socket, sys, time
s = socket.create_connection(("198.18.1.2", 80), timeout=10)
s.sendall(sys.argv[1].encode().decode("unicode_escape").encode("latin-1"))
t = time.time()
d = s.recv(200)
print(d.split(b"\r\n")[0].decode() if d else "closed %d" % int(time.time() - t))' "$1"
}
# probe_is STATUS REQUEST; probe_closes REQUEST: closed 2 to 4 s after it
probe_is() { [ "$(http_probe "$2")" = "$1" ]; }
probe_closes() { http_probe "$1" | grep -qE '^closed [234]$'; }

case_http() {
	local how
	mkfiles
	mkdir -p "$work/www/loop/index.html"
	for how in "" --fibers; do
		start "$B/apps/rumpnet-httpd" "${NET[@]}" --root "$work/www" --http-port 80 --duration 300 --header-timeout 2 $how
		for f in empty one index.html 1m 10m 100m; do
			check "curl -> rumpnet-httpd ${how:-kqueue}: $f, SHA-256 intact" fetch "$f" 120
		done
		check "curl: 404 for a missing file (${how:-kqueue})" bash -c \
			"[ \"\$(ip netns exec $L curl -s -o /dev/null -w '%{http_code}' http://198.18.1.2/nope)\" = 404 ]"
		check "curl: an unknown method is 501, POST 405 (${how:-kqueue})" bash -c \
			"[ \"\$(ip netns exec $L curl -s -o /dev/null -w '%{http_code}' -X BREW http://198.18.1.2/)\" = 501 ] && [ \"\$(ip netns exec $L curl -s -o /dev/null -w '%{http_code}' -X POST http://198.18.1.2/)\" = 405 ]"
		check "curl: a directory where index.html would be is 403 (${how:-kqueue})" bash -c \
			"[ \"\$(ip netns exec $L curl -s -o /dev/null -w '%{http_code}' http://198.18.1.2/loop/)\" = 403 ]"
		check "HTTP: two Content-Lengths that differ are 400 (${how:-kqueue})" \
			probe_is 'HTTP/1.1 400 Bad Request' \
			'GET /one HTTP/1.1\r\nHost: x\r\nContent-Length: 18446744073709551615\r\nContent-Length: 5\r\n\r\n'
		check "HTTP: a header section not whole after --header-timeout 2 closes (${how:-kqueue})" \
			probe_closes 'GET /one HTTP/1.1\r\nHost: x\r\n'
		check "HTTP: empty lines alone do not hold the connection either (${how:-kqueue})" \
			probe_closes '\r\n'
		check "HTTP: a method that is not a token is 400, a long unknown one 501 (${how:-kqueue})" \
			bash -c "[ \"\$(ip netns exec $L curl -s -o /dev/null -w '%{http_code}' -X 'A(B' http://198.18.1.2/)\" = 400 ] && [ \"\$(ip netns exec $L curl -s -o /dev/null -w '%{http_code}' -X M-SEARCH-EVERYTHING-NOW http://198.18.1.2/)\" = 501 ]"
		check "curl: /stats has TCP counters (${how:-kqueue})" bash -c \
			"ip netns exec $L curl -sS http://198.18.1.2/stats | grep -q '^tcp\\.'"
		stop_all
	done
}

case_wrk() {
	local how
	mkfiles
	for how in "" --fibers; do
		start "$B/apps/rumpnet-httpd" "${NET[@]}" --root "$work/www" --http-port 80 --duration 300 $how
		inl wrk -t 2 -c 50 -d 5 http://198.18.1.2/index.html >"$work/wrk.out" 2>&1
		sed 's/^/# /' "$work/wrk.out"
		check "wrk 5 s, 50 connections (${how:-kqueue}): requests served" \
			grep -qE 'Requests/sec: +[1-9]' "$work/wrk.out"
		check "wrk (${how:-kqueue}): no errors" bash -c "! grep -qE 'Socket errors|Non-2xx' '$work/wrk.out'"
		stop_all
	done
}

case_perf() {
	ip netns exec "$L" "$B/apps/rumpnet-perf" server --stack linux --quiet \
		>"$work/linux-server.log" 2>&1 &
	pids+=($!)
	sleep 0.5
	local t extra
	for t in rr stream rr-fibers; do
		extra=
		[ "$t" = rr-fibers ] && extra=--fibers
		inr "$B/apps/rumpnet-perf" client "${NET[@]}" --server 198.18.1.1 \
			--test "${t%-fibers}" --duration 3 $extra >"$work/perf-$t.out" 2>&1
		local rc=$?
		tail -n 1 "$work/perf-$t.out" | sed 's/^/# /'
		check "rumpnet-perf client -> Linux server: $t" \
			bash -c "[ $rc -eq 0 ] && tail -n 1 '$work/perf-$t.out' | grep -q '^{'"
	done
	# requests far larger than the socket buffers: sent while the
	# echo is read, or both ends would wait for each other
	inr timeout 30 "$B/apps/rumpnet-perf" client "${NET[@]}" --server 198.18.1.1 \
		--test rr --msg 1M --sockbuf 16K --duration 2 >"$work/perf-big.out" 2>&1
	local rc=$?
	tail -n 1 "$work/perf-big.out" | sed 's/^/# /'
	check "rumpnet-perf client -> Linux server: rr of 1 MiB with 16 KiB buffers" \
		bash -c "[ $rc -eq 0 ] && tail -n 1 '$work/perf-big.out' | grep -qE '\"transactions\":[1-9]'"
	stop_all
}

case_impair() {
	mkfiles
	start "$B/apps/rumpnet-httpd" "${NET[@]}" --root "$work/www" --http-port 80 --duration 300 \
		--impair loss=0.01,delay=20,reorder=0.02,reorder_delay=5,seed=7
	for f in empty one 1m 10m; do
		check "1% loss, 20 ms delay, reordering both ways: $f intact" fetch "$f" 240
	done
	stop_all
	grep -E 'impair_(lost|reordered)' "$LAST_LOG" | sed 's/^/# /'
	check "impairment counted drops and reorderings" bash -c \
		"grep -qE 'impair_lost [1-9]' '$LAST_LOG' && grep -qE 'impair_reordered [1-9]' '$LAST_LOG'"
	# values nothing could mean: refused before the port is touched
	local v
	for v in loss=nan loss=1.5 delay=1e300 seed=1e30 jitter=-1 bogus=1; do
		check "--impair $v refused" bash -c \
			"out=\$('$B/apps/rumpnet-echo' --addr 198.18.1.2/24 --impair '$v' 2>&1); [ \$? -ne 0 ] && grep -q '^--impair $v: expected' <<<\"\$out\""
	done
}

case_pcap() {
	mkfiles
	start "$B/apps/rumpnet-httpd" "${NET[@]}" --root "$work/www" --http-port 80 \
		--duration 300 --pcap "$work/cap.pcap"
	check "curl with the capture on: 1m intact" fetch 1m 30
	stop_all
	tail -n 3 "$LAST_LOG" | sed 's/^/# /'
	check "tcpdump reads the capture" bash -c \
		"tcpdump -nn -r '$work/cap.pcap' 2>/dev/null | grep -q '198.18.1.2.80 > 198.18.1.1'"
	echo "# $(tcpdump -nn -r "$work/cap.pcap" 2>/dev/null | wc -l) frames captured"
}

# cores: rumpnet-echo --cores 0,1 on an af_packet port with two queue
# pairs (the kernel's fanout spreads frames over them; the dispatcher in
# instance 0 re-steers them by our Toeplitz hash): many connections, each
# echoed intact, spread over both instances
case_cores() {
	local eal2="--no-huge --no-shconf --no-pci -m 512 --log-level=*:error --vdev=net_af_packet0,iface=$VR,qpairs=2"
	local how i ncpids
	for how in "" --fibers; do
		start "$B/apps/rumpnet-echo" --dpdk "$eal2" --port net_af_packet0 \
			--addr 198.18.1.2/24 --tcp-port 7 --udp-port 7 --duration 60 \
			--cores 0,1 --quiet $how
		ncpids=()
		for i in $(seq 40); do
			head -c 30000 /dev/urandom >"$work/c$i.in"
			inl nc -q 2 -w 5 198.18.1.2 7 <"$work/c$i.in" >"$work/c$i.out" &
			ncpids+=($!)
		done
		wait "${ncpids[@]}"
		check "40 connections to rumpnet-echo --cores 0,1 ${how:-kqueue}: all intact" \
			bash -c "for i in \$(seq 40); do cmp -s $work/c\$i.in $work/c\$i.out || exit 1; done"
		check "UDP to rumpnet-echo --cores 0,1 ${how:-kqueue}" bash -c \
			"[ \"\$(printf 'datagram\n' | ip netns exec $L nc -u -w 2 198.18.1.2 7)\" = 'datagram' ]"
		stop_all
		grep -E '^rumpnet-echo: core [01]: [0-9]+ conn' "$LAST_LOG" | sed 's/^/# /'
		check "both instances accepted connections (${how:-kqueue})" bash -c \
			"grep -qE '^rumpnet-echo: core 0: [1-9][0-9]* connections' '$LAST_LOG' && grep -qE '^rumpnet-echo: core 1: [1-9][0-9]* connections' '$LAST_LOG'"
	done
	mkfiles
	start "$B/apps/rumpnet-httpd" --dpdk "$eal2" --port net_af_packet0 \
		--addr 198.18.1.2/24 --root "$work/www" --http-port 80 --duration 120 \
		--cores 0,1 --fibers
	check "curl -> rumpnet-httpd --cores 0,1: 10m, SHA-256 intact" fetch 10m 60
	inl wrk -t 2 -c 50 -d 5 http://198.18.1.2/index.html >"$work/wrk.out" 2>&1
	sed 's/^/# /' "$work/wrk.out"
	check "wrk, 50 connections, rumpnet-httpd --cores 0,1: no errors" bash -c \
		"grep -qE 'Requests/sec: +[1-9]' '$work/wrk.out' && ! grep -qE 'Socket errors|Non-2xx' '$work/wrk.out'"
	stop_all
	grep -E '^rumpnet-httpd: core [01]: [0-9]+ conn' "$LAST_LOG" | sed 's/^/# /'
	check "both httpd instances served" bash -c \
		"grep -qE '^rumpnet-httpd: core 0: [1-9][0-9]* connections' '$LAST_LOG' && grep -qE '^rumpnet-httpd: core 1: [1-9][0-9]* connections' '$LAST_LOG'"
}

# perfcores: rumpnet-perf --cores 0,1 as the server of a Linux client
# and as the client of a Linux server, on the two-queue af_packet port:
# every transaction checked by the client, and each instance carried
# connections of its own
case_perfcores() {
	local eal2="--no-huge --no-shconf --no-pci -m 512 --log-level=*:error --vdev=net_af_packet0,iface=$VR,qpairs=2"
	local t rc
	start "$B/apps/rumpnet-perf" server --dpdk "$eal2" --port net_af_packet0 \
		--addr 198.18.1.2/24 --cores 0,1 --duration 60
	for t in crr rr; do
		inl "$B/apps/rumpnet-perf" client --stack linux --server 198.18.1.2 \
			--test $t --conns 16 --duration 2 --quiet >"$work/pc-$t.out" 2>&1
		rc=$?
		tail -n 1 "$work/pc-$t.out" | sed 's/^/# /'
		check "Linux client, $t, 16 connections -> rumpnet-perf server --cores 0,1" \
			bash -c "[ $rc -eq 0 ] && tail -n 1 '$work/pc-$t.out' | grep -q '^{'"
	done
	stop_all
	grep -E '^rumpnet-perf: core [01]: server: ' "$LAST_LOG" | sed 's/^/# /'
	check "both server instances accepted connections" bash -c \
		"grep -qE '^rumpnet-perf: core 0: server: [1-9][0-9]* conn' '$LAST_LOG' && grep -qE '^rumpnet-perf: core 1: server: [1-9][0-9]* conn' '$LAST_LOG'"

	ip netns exec "$L" "$B/apps/rumpnet-perf" server --stack linux --quiet \
		>"$work/linux-server2.log" 2>&1 &
	pids+=($!)
	sleep 0.5
	for t in crr rr; do
		inr "$B/apps/rumpnet-perf" client --dpdk "$eal2" --port net_af_packet0 \
			--addr 198.18.1.2/24 --cores 0,1 --server 198.18.1.1 --test $t \
			--conns 8 --duration 2 >"$work/pcc-$t.out" 2>&1
		rc=$?
		grep -E '^rumpnet-perf: core [01]: ' "$work/pcc-$t.out" | sed 's/^/# /'
		tail -n 1 "$work/pcc-$t.out" | sed 's/^/# /'
		check "rumpnet-perf client --cores 0,1, $t, 8 connections each -> Linux server" \
			bash -c "[ $rc -eq 0 ] && tail -n 1 '$work/pcc-$t.out' | grep -q '^{'"
		check "both client instances completed transactions ($t)" bash -c \
			"grep -qE '^rumpnet-perf: core 0: [1-9]' '$work/pcc-$t.out' && grep -qE '^rumpnet-perf: core 1: [1-9]' '$work/pcc-$t.out'"
	done
	stop_all
}

# link: the port's link goes down and up again (a net_tap port: af_packet
# reports no link changes; the tap's host end is set down): the instance
# follows it (IFF_RUNNING, counted linkdown), and traffic flows again
case_link() {
	local tap=rnt$id
	local eal="--no-huge --no-shconf --no-pci -m 512 --log-level=*:error --vdev=net_tap0,iface=$tap"
	start "$B/apps/rumpnet-echo" --dpdk "$eal" --port net_tap0 --addr 198.18.3.2/24 \
		--tcp-port 7 --udp-port 7 --duration 60
	for _ in $(seq 50); do ip -n "$R" link show "$tap" >/dev/null 2>&1 && break; sleep 0.1; done
	ip -n "$R" addr add 198.18.3.1/24 dev "$tap"
	ip netns exec "$R" ethtool -K "$tap" tx off >/dev/null 2>&1
	ip -n "$R" link set "$tap" up
	sleep 1.5
	check "ping over net_tap before the link goes down" inr ping -c 2 -i 0.2 -W 2 198.18.3.2
	ip -n "$R" link set "$tap" down
	sleep 2.5
	ip -n "$R" link set "$tap" up
	sleep 2.5
	check "ping after the link came back" inr ping -c 3 -i 0.2 -W 2 198.18.3.2
	check "nc TCP -> rumpnet-echo after the link came back" bash -c \
		"[ \"\$(printf 'hello again\n' | ip netns exec $R nc -q 1 -w 3 198.18.3.2 7)\" = 'hello again' ]"
	stop_all
	grep -E 'linkdown|odown' "$LAST_LOG" | sed 's/^/# /'
	check "the link going down was seen (if.dpdk0.linkdown)" \
		grep -qE 'dpdk0.linkdown [1-9]' "$LAST_LOG"
}

# tapmove: as make run does, the host end of a net_tap port is moved to
# another namespace (L), where its link state can no longer be read from
# R: the port stays up, and after the once-a-second port check a 10 MB
# download through it arrives intact
case_tapmove() {
	local tap=rnm$id
	local eal="--no-huge --no-shconf --no-pci -m 512 --log-level=*:error --vdev=net_tap0,iface=$tap"
	mkfiles
	start "$B/apps/rumpnet-httpd" --dpdk "$eal" --port net_tap0 --addr 198.18.4.2/24 \
		--root "$work/www" --http-port 80 --duration 60
	for _ in $(seq 50); do ip -n "$R" link show "$tap" >/dev/null 2>&1 && break; sleep 0.1; done
	ip -n "$R" link set "$tap" netns "$L"
	ip -n "$L" addr add 198.18.4.1/24 dev "$tap"
	inl ethtool -K "$tap" tx off >/dev/null 2>&1
	ip -n "$L" link set "$tap" up
	sleep 2.5
	check "net_tap moved to another namespace: 10m intact after 2.5 s" bash -c \
		"ip netns exec $L curl -sS --max-time 30 -o '$work/got' http://198.18.4.2/10m &&
		 [ \"\$(sha256sum <'$work/got')\" = \"\$(sha256sum <'$work/www/10m')\" ]"
	stop_all
	grep -E 'linkdown|odown' "$LAST_LOG" | sed 's/^/# /'
	check "no link down and no output refused for it" bash -c \
		"! grep -qE 'dpdk0\.(linkdown|odown) [1-9]' '$LAST_LOG'"
}

# TCP Fast Open (RFC 7413): Linux's client to rumpnet-echo --fastopen.  The
# first connection asks for a cookie; the next two put their data in the
# SYN, which Linux counts as TcpExtTCPFastOpenActive only when rumpnet's
# SYN-ACK acked it.  Then rumpnet's client to Linux's server.
case_tfo() {
	local before after
	start "$B/apps/rumpnet-echo" "${NET[@]}" --tcp-port 7 --udp-port 0 --fastopen 16 --duration 60
	inl sysctl -qw net.ipv4.tcp_fastopen=1
	before=$(inl nstat -az TcpExtTCPFastOpenActive | awk '/TcpExtTCPFastOpenActive/ {print $2}')
	check "Linux sendto(MSG_FASTOPEN) -> rumpnet-echo --fastopen: 3 echoes" bash -c \
		"[ \"\$(ip netns exec $L python3 -c '
import socket
out = []
for i in range(3):
    s = socket.socket()
    s.sendto(b\"tfo%d\" % i, 0x20000000, (\"198.18.1.2\", 7))
    s.settimeout(3)
    out.append(s.recv(100).decode())
    s.close()
print(\" \".join(out))
')\" = 'tfo0 tfo1 tfo2' ]"
	after=$(inl nstat -az TcpExtTCPFastOpenActive | awk '/TcpExtTCPFastOpenActive/ {print $2}')
	echo "# TcpExtTCPFastOpenActive ${before:-?} -> ${after:-?}"
	check "Linux's data in the SYN taken by rumpnet (TCPFastOpenActive +2)" \
		[ "$((${after:-0} - ${before:-0}))" -eq 2 ]
	stop_all
	# and the other way: rumpnet-perf's crr client, sendto(MSG_FASTOPEN),
	# to a Linux server with TCP_FASTOPEN; Linux counts the SYNs whose
	# data it took (TcpExtTCPFastOpenPassive)
	inl sysctl -qw net.ipv4.tcp_fastopen=3
	ip netns exec "$L" "$B/apps/rumpnet-perf" server --stack linux --fastopen --quiet \
		>"$work/linux-server.log" 2>&1 &
	pids+=($!)
	sleep 0.5
	before=$(inl nstat -az TcpExtTCPFastOpenPassive | awk '/TcpExtTCPFastOpenPassive/ {print $2}')
	inr "$B/apps/rumpnet-perf" client "${NET[@]}" --server 198.18.1.1 \
		--test crr --fastopen --duration 2 --stats >"$work/perf-tfo.out" 2>&1
	local rc=$? conns acked
	after=$(inl nstat -az TcpExtTCPFastOpenPassive | awk '/TcpExtTCPFastOpenPassive/ {print $2}')
	tail -n 1 "$work/perf-tfo.out" | sed 's/^/# /'
	conns=$(tail -n 1 "$work/perf-tfo.out" | python3 -c 'import json, sys; print(json.load(sys.stdin)["transactions"])' 2>/dev/null)
	acked=$(awk '$1 == "tcp.tfo_dataacked" {print $2}' "$work/perf-tfo.out")
	echo "# TcpExtTCPFastOpenPassive ${before:-?} -> ${after:-?}; rumpnet's tcp.tfo_dataacked ${acked:-?} of ${conns:-?} connections"
	check "rumpnet-perf crr --fastopen -> Linux server: no error" \
		bash -c "[ $rc -eq 0 ] && tail -n 1 '$work/perf-tfo.out' | grep -q '^{'"
	# the two stacks agree on every SYN whose data was taken, and all
	# but the first connection's (which asked for the cookie) were
	# unless a SYN was lost (then Fast Open pauses: tcp.tfo_synloss)
	check "rumpnet's data in the SYN taken by Linux: both count ${acked:-?}" \
		bash -c "[ '${acked:-0}' -gt 0 ] && [ $((${after:-0} - ${before:-0})) -eq '${acked:-0}' ]"
	if ! grep -q '^tcp.tfo_synloss' "$work/perf-tfo.out"; then
		check "every connection after the first had its data in the SYN" \
			[ "${acked:-0}" -eq "$((${conns:-0} - 1))" ]
	fi
	stop_all
}

for c in $cases; do
	"case_$c"
done
echo "1..$n"
[ "$failed" -eq 0 ]

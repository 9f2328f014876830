#!/usr/bin/env python3
"""tests/fuzz/mkseeds.py -- write the seed corpora of the fuzz targets
(tests/fuzz/corpus/<target>/) in the input formats fuzz_*.c describe.

The frames are the ones the packet suites send (tests/packet: ARP, ICMP
echo and errors, UDP, multicast and IGMP, TCP opens and segments, IP
options, fragments, raw protocols), in the same addresses (the stack 198.18.0.1, the peer
198.18.0.2).  Checksums are left for fuzz_frame to fix.  Rerun after
changing an input format; the files are checked in.
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
STACK_MAC = bytes([2, 0, 0, 0, 1, 1])
PEER_MAC = bytes([2, 0, 0, 0, 1, 2])
STACK = bytes([198, 18, 0, 1])
PEER = bytes([198, 18, 0, 2])
BCAST = b"\xff" * 6


def eth(t, dst=STACK_MAC):
    return dst + PEER_MAC + struct.pack("!H", t)


def ipv4(proto, payload, opts=b"", off=0, ident=1, ttl=64, dst=STACK):
    hlen = 20 + len(opts)
    return struct.pack("!BBHHHBBH4s4s", 0x40 | hlen // 4, 0,
                       hlen + len(payload), ident, off, ttl, proto, 0,
                       PEER, dst) + opts + payload


def tcp(sport, dport, seq, ack, flags, opts=b"", data=b"", win=65535):
    off = (20 + len(opts)) // 4
    return struct.pack("!HHIIBBHHH", sport, dport, seq, ack, off << 4,
                       flags, win, 0, 0) + opts + data


def udp(sport, dport, data, sumzero=False):
    return struct.pack("!HHHH", sport, dport, 8 + len(data),
                       0 if sumzero else 1) + data


def icmp(t, code, rest, data=b""):
    return struct.pack("!BBH", t, code, 0) + rest + data


def igmp(t, code, group, extra=b""):
    return struct.pack("!BBH4s", t, code, 0, group) + extra


ROUTER_ALERT = bytes([0x94, 4, 0, 0])
GROUP = bytes([239, 1, 2, 3])
ALLHOSTS = bytes([224, 0, 0, 1])


def mcast_mac(group):
    return bytes([1, 0, 0x5e, group[1] & 0x7f, group[2], group[3]])


def arp(op, sha, spa, tha, tpa, hln=6, pln=4):
    return struct.pack("!HHBBH", 1, 0x0800, hln, pln, op) + sha + spa + \
        tha + tpa


SYNOPTS = bytes([2, 4, 5, 0xb4, 1, 1, 4, 2, 1, 1, 8, 10, 0, 0, 0x13,
                 0x88, 0, 0, 0, 0, 1, 3, 3, 7])
SYN, FIN, RST, PSH, ACK, URG = 2, 1, 4, 8, 16, 32


def frames():
    f = {}
    f["arp_request"] = eth(0x0806, BCAST) + arp(1, PEER_MAC, PEER,
                                                 b"\0" * 6, STACK)
    f["arp_reply_unasked"] = eth(0x0806) + arp(2, PEER_MAC,
                                               bytes([198, 18, 0, 7]),
                                               STACK_MAC, STACK)
    f["arp_claims_ours"] = eth(0x0806, BCAST) + arp(1, PEER_MAC, STACK,
                                                     b"\0" * 6, STACK)
    f["arp_bad_lengths"] = eth(0x0806, BCAST) + arp(1, PEER_MAC, PEER,
                                                     b"\0" * 6, STACK, 8, 2)
    echo = icmp(8, 0, struct.pack("!HH", 7, 1), b"ping" * 8)
    f["icmp_echo"] = eth(0x0800) + ipv4(1, echo)
    f["icmp_echo_bcast"] = eth(0x0800, BCAST) + \
        ipv4(1, echo, dst=bytes([198, 18, 0, 255]))
    f["icmp_echo_rr"] = eth(0x0800) + ipv4(1, echo, opts=bytes(
        [7, 11, 4] + [0] * 8 + [0]))
    f["icmp_echo_ts"] = eth(0x0800) + ipv4(1, echo, opts=bytes(
        [68, 12, 5, 0] + [0] * 8))
    f["icmp_echo_lsrr"] = eth(0x0800) + ipv4(1, echo, opts=bytes(
        [131, 7, 4] + list(PEER) + [0]))
    quoted = ipv4(6, tcp(80, 40001, 1, 0, SYN)[:8], dst=PEER)
    f["icmp_unreach_tcp"] = eth(0x0800) + ipv4(1, icmp(
        3, 3, b"\0\0\0\0", quoted))
    f["icmp_needfrag"] = eth(0x0800) + ipv4(1, icmp(
        3, 4, struct.pack("!HH", 0, 68), quoted))
    f["icmp_timxceed"] = eth(0x0800) + ipv4(1, icmp(11, 0, b"\0" * 4,
                                                    quoted))
    f["udp_echo_port"] = eth(0x0800) + ipv4(17, udp(5000, 7, b"hello"))
    f["udp_closed_port"] = eth(0x0800) + ipv4(17, udp(5000, 9, b"x"))
    f["udp_nosum"] = eth(0x0800) + ipv4(17, udp(5000, 7, b"abc",
                                                sumzero=True))
    f["udp_bcast"] = eth(0x0800, BCAST) + ipv4(
        17, udp(5000, 7, b"b"), dst=b"\xff" * 4)
    f["tcp_syn"] = eth(0x0800) + ipv4(6, tcp(40001, 80, 1000, 0, SYN,
                                             SYNOPTS))
    f["tcp_syn_closed"] = eth(0x0800) + ipv4(6, tcp(40001, 81, 1000, 0,
                                                    SYN))
    f["tcp_synfin"] = eth(0x0800) + ipv4(6, tcp(40001, 80, 1000, 0,
                                                SYN | FIN))
    f["tcp_syn_data"] = eth(0x0800) + ipv4(6, tcp(40001, 80, 1000, 0, SYN,
                                                  data=b"early"))
    f["tcp_ack_stray"] = eth(0x0800) + ipv4(6, tcp(40001, 80, 1000, 5,
                                                   ACK))
    f["tcp_rst"] = eth(0x0800) + ipv4(6, tcp(40001, 80, 1000, 0, RST))
    f["raw_proto253"] = eth(0x0800) + ipv4(253, b"experiment")
    f["igmp_query"] = eth(0x0800, mcast_mac(ALLHOSTS)) + ipv4(
        2, igmp(0x11, 100, b"\0" * 4), ROUTER_ALERT, ttl=1, dst=ALLHOSTS)
    f["igmp_query_v3"] = eth(0x0800, mcast_mac(GROUP)) + ipv4(
        2, igmp(0x11, 200, GROUP, bytes(4)), ROUTER_ALERT, ttl=1,
        dst=GROUP)
    f["igmp_report"] = eth(0x0800, mcast_mac(GROUP)) + ipv4(
        2, igmp(0x16, 0, GROUP), ROUTER_ALERT, ttl=1, dst=GROUP)
    f["udp_mcast"] = eth(0x0800, mcast_mac(GROUP)) + ipv4(
        17, udp(5000, 7, b"group"), dst=GROUP)
    f["frag_first"] = eth(0x0800) + ipv4(17, udp(5000, 7, b"A" * 40)[:24],
                                         off=0x2000, ident=9)
    f["frag_last"] = eth(0x0800) + ipv4(17, b"B" * 24, off=3, ident=9)
    f["frag_beyond_64k"] = eth(0x0800) + ipv4(17, b"C" * 64, off=8189,
                                              ident=10)
    f["ip_for_other"] = eth(0x0800) + ipv4(
        17, udp(5000, 7, b"fwd"), ttl=1, dst=bytes([198, 18, 0, 9]))
    f["ipv6"] = eth(0x86dd) + bytes(40)
    f["vlan"] = eth(0x8100) + bytes(4) + b"\x08\x00" + ipv4(1, echo)
    f["runt"] = eth(0x0800) + b"\x45\x00"
    return f


def write(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as fp:
        fp.write(data)


def tcp_seg(flags, seqd=0, ackd=0, win=65535, urp=0, opts=b"", dlen=0,
            ts=True):
    op = 0x01 if ts else 0
    return bytes([op, flags]) + struct.pack("!hhHHB", seqd, ackd, win, urp,
                                            len(opts)) + opts + \
        struct.pack("!H", dlen)


def app(which, arg=None):
    return bytes([0x80 | which]) + (struct.pack("!H", arg)
                                    if arg is not None else b"")


def tcp_seeds():
    s = {}
    s["est_data"] = b"\0" + tcp_seg(ACK | PSH, dlen=100) + app(1)
    s["est_ack_all"] = b"\0" + tcp_seg(ACK)
    s["est_fin"] = b"\0" + tcp_seg(ACK | FIN) + app(1) + app(4) + \
        tcp_seg(ACK, seqd=0)
    s["est_rst"] = b"\0" + tcp_seg(RST, ts=False)
    s["est_rst_inwindow"] = b"\0" + tcp_seg(RST, seqd=10, ts=False)
    s["est_ooo"] = b"\0" + tcp_seg(ACK, seqd=1000, dlen=500) + \
        tcp_seg(ACK, dlen=1000)
    s["est_sack"] = b"\0" + tcp_seg(ACK, ackd=-4096, opts=bytes(
        [1, 1, 5, 10]) + b"\0" * 8)
    s["est_zero_window"] = b"\0" + tcp_seg(ACK, win=0) + app(0, 5000) + \
        app(0, 60000)
    s["est_urgent"] = b"\0" + tcp_seg(ACK | URG, urp=5, dlen=10) + app(1)
    s["est_dupacks"] = b"\0" + tcp_seg(ACK, ackd=-4096) * 4 + app(7)
    s["est_syn"] = b"\0" + tcp_seg(SYN)
    s["est_close_timers"] = b"\0" + app(4) + app(0, 3000) + \
        tcp_seg(ACK) + app(0, 60000)
    s["est_write_more"] = b"\0" + app(2, 30000) + tcp_seg(ACK) + app(7)
    s["est_badsum"] = b"\0" + bytes([0x05, ACK | PSH]) + struct.pack(
        "!hhHHB", 0, 0, 65535, 0, 0) + struct.pack("!H", 10)
    s["est_doff"] = b"\0" + bytes([0x03, ACK]) + struct.pack(
        "!hhHHB", 0, 0, 65535, 0, 0) + struct.pack("!H", 10) + b"\xf0"
    s["listen_syn"] = b"\1" + tcp_seg(SYN, opts=SYNOPTS, ts=False)
    s["listen_open"] = b"\1" + tcp_seg(SYN, opts=SYNOPTS, ts=False) + \
        tcp_seg(ACK, ts=False) + app(5) + app(1)
    # TCP Fast Open (RFC 7413): a cookie request, a cookie not ours
    tfo_req = bytes([1, 1, 34, 2])
    tfo_bad = bytes([1, 1, 34, 10, 1, 2, 3, 4, 5, 6, 7, 8])
    s["listen_tfo_req"] = b"\1" + tcp_seg(SYN, opts=SYNOPTS + tfo_req,
                                          dlen=10, ts=False) + \
        tcp_seg(ACK, ts=False) + app(5) + app(1)
    s["listen_tfo_bad"] = b"\1" + tcp_seg(SYN, opts=SYNOPTS + tfo_bad,
                                          dlen=10, ts=False) + \
        tcp_seg(ACK, ts=False) + app(5) + app(1)
    s["listen_synfin"] = b"\1" + tcp_seg(SYN | FIN, ts=False)
    s["listen_fin"] = b"\1" + tcp_seg(FIN, ts=False)
    s["listen_ack"] = b"\1" + tcp_seg(ACK, ts=False)
    s["listen_syn_retx"] = b"\1" + tcp_seg(SYN, ts=False) + app(0, 3000)
    s["synsent_synack"] = b"\2" + tcp_seg(SYN | ACK, opts=SYNOPTS,
                                          ts=False) + app(6)
    s["synsent_rstack"] = b"\2" + tcp_seg(RST | ACK, ts=False)
    s["synsent_syn"] = b"\2" + tcp_seg(SYN, ts=False)
    s["synsent_badack"] = b"\2" + tcp_seg(SYN | ACK, ackd=5, ts=False)
    s["synsent_timeout"] = b"\2" + app(0, 60000) + app(0, 60000)
    return s


def api_call(op, *args):
    return bytes([op]) + b"".join(args)


def B(*v):
    return bytes(v)


def H(v):
    return struct.pack("!H", v)


def I(v):
    return struct.pack("!I", v)


def api_seeds():
    s = {}
    # socket(0, sel) bind(1, fd, sel, port) connect(2) listen(3, fd, bl)
    # accept4(4, fd, len, named, flags) send(5, fd, n, flags)
    # sendto(6, fd, n, sel, port, flags) recv(7, fd, n, flags) ...
    loop = B(0)  # 127.0.0.1
    s["udp_self"] = api_call(0, B(0), B(1)) + api_call(1, B(0), loop,
                                                      H(1)) + \
        api_call(6, B(0), H(100), B(0), H(1), I(0)) + \
        api_call(7, B(0), H(2000), I(0))
    s["tcp_loop"] = api_call(0, B(0), B(0)) + api_call(0, B(0), B(0)) + \
        api_call(1, B(0), B(1), H(2)) + api_call(3, B(0), B(5)) + \
        api_call(2, B(1), B(1), H(2)) + api_call(4, B(0), B(16), B(1), B(0)) + \
        api_call(5, B(1), H(3000), I(0)) + api_call(7, B(2), H(5000), I(0)) + \
        api_call(15, B(1)) + api_call(23, B(0), H(100)) + api_call(15, B(2))
    s["tcp_peer"] = api_call(0, B(0), B(0)) + api_call(2, B(0), B(2), H(3)) + \
        api_call(23 + 128, B(0), H(600))
    s["kqueue"] = api_call(0, B(0), B(1)) + api_call(22 + 128, B(0)) + \
        api_call(22, B(1), B(2), B(4), B(1), B(0), H(1), I(0), H(0),
                 B(0), B(0), H(1), I(0), H(0))
    s["sockopts"] = api_call(0, B(0), B(0)) + \
        api_call(16, B(0), B(0), B(13), B(8), I(1) + I(0)) + \
        api_call(17, B(0), B(2), B(11), B(64)) + \
        api_call(16, B(0), B(2), B(1), B(4), I(1))
    s["msgs"] = api_call(0, B(0), B(1)) + api_call(1, B(0), B(1), H(1)) + \
        api_call(9, B(0), I(0), B(2), H(10), H(20), B(1), B(1), H(1),
                 B(0)) + \
        api_call(10, B(0), I(0), B(1), H(100), B(0), B(0))
    s["raw"] = api_call(0, B(2), B(1)) + api_call(6, B(0), H(64), B(2),
                                                  H(0), I(0))
    s["poll_fcntl"] = api_call(0, B(0), B(0)) + api_call(19, B(0), I(0),
                                                         B(4)) + \
        api_call(20, B(0), I(0), B(0)) + api_call(21, B(0), B(2), B(0),
                                                  H(5), B(1), H(4))
    s["bcast_mcast"] = api_call(0, B(0), B(1)) + \
        api_call(6, B(0), H(10), B(5), H(1), I(0)) + \
        api_call(6, B(0), H(10), B(6), H(1), I(0))
    return s


def reass_rec(which, mf, off8, length, bad=False, opts=False, df=False):
    op = which | (2 if mf else 0) | (4 if df else 0) | (8 if bad else 0) | \
        (0x20 if opts else 0)
    return B(op) + H(off8) + H(length)


def advance(sec):
    return B(0x10) + H(sec) + H(0)


def reass_seeds():
    s = {}
    s["in_order"] = H(2000) + reass_rec(0, 1, 0, 1480) + \
        reass_rec(0, 0, 185, 528)
    s["reverse"] = H(2000) + reass_rec(0, 0, 185, 528) + \
        reass_rec(0, 1, 0, 1480)
    s["overlap"] = H(2000) + reass_rec(0, 1, 0, 1480) + \
        reass_rec(0, 1, 100, 800) + reass_rec(0, 0, 185, 528)
    s["duplicate"] = H(100) + reass_rec(0, 1, 0, 64) + \
        reass_rec(0, 1, 0, 64) + reass_rec(0, 0, 8, 44)
    s["tiny"] = H(40) + b"".join(reass_rec(0, 1, i, 8) for i in range(5)) + \
        reass_rec(0, 0, 5, 8)
    s["timeout"] = H(2000) + reass_rec(0, 1, 0, 1480) + advance(40) + \
        reass_rec(0, 0, 185, 528)
    s["beyond_64k"] = H(100) + reass_rec(0, 1, 0, 1480) + \
        reass_rec(0, 0, 8189, 1480)
    s["raw_two"] = H(0) + reass_rec(1, 1, 0, 512) + reass_rec(1, 0, 64, 496)
    s["interleaved"] = H(2000) + reass_rec(0, 1, 0, 1480) + \
        reass_rec(1, 1, 0, 512) + reass_rec(0, 0, 185, 528) + \
        reass_rec(1, 0, 64, 496)
    s["options_df"] = H(1000) + reass_rec(0, 1, 0, 504, opts=True) + \
        reass_rec(0, 0, 63, 504, df=True)
    s["bad_bytes"] = H(1000) + reass_rec(0, 1, 0, 504, bad=True) + \
        reass_rec(0, 0, 63, 504)
    return s


def main():
    for name, f in frames().items():
        write("frame", name, b"\0" + f)
    write("frame", "ip_for_other_forwarding", b"\2" +
          frames()["ip_for_other"])
    write("frame", "frag_first_timers", b"\4" + frames()["frag_first"])
    write("frame", "igmp_query_timers", b"\4" + frames()["igmp_query"])
    for name, d in tcp_seeds().items():
        write("tcp", name, d)
    for name, d in api_seeds().items():
        write("api", name, d)
    for name, d in reass_seeds().items():
        write("reass", name, d)


if __name__ == "__main__":
    main()

/*
 * tcp.h -- the TCP header (RFC 9293 3.1), its options, and the TCP-level
 * socket options with the host's (Linux) numbering, as sys/socket.h does
 * for the socket level.
 */
#ifndef NETINET_TCP_H
#define NETINET_TCP_H

#include "kern/libkern.h"

typedef uint32_t tcp_seq;

struct tcphdr {
	uint16_t th_sport;
	uint16_t th_dport;
	tcp_seq th_seq;
	tcp_seq th_ack;
	uint8_t th_x2off;		/* data offset (high 4 bits) */
	uint8_t th_flags;
	uint16_t th_win;
	uint16_t th_sum;
	uint16_t th_urp;
} __attribute__((__packed__));

#define TH_OFF(th) ((th)->th_x2off >> 4)
#define TH_SETOFF(th, off) ((th)->th_x2off = (uint8_t)((off) << 4))

#define TH_FIN 0x01
#define TH_SYN 0x02
#define TH_RST 0x04
#define TH_PUSH 0x08
#define TH_ACK 0x10
#define TH_URG 0x20
#define TH_ECE 0x40
#define TH_CWR 0x80

#define TCPOPT_EOL 0
#define TCPOPT_NOP 1
#define TCPOPT_MAXSEG 2
#define TCPOLEN_MAXSEG 4
#define TCPOPT_WINDOW 3
#define TCPOLEN_WINDOW 3
#define TCPOPT_SACK_PERMITTED 4
#define TCPOLEN_SACK_PERMITTED 2
#define TCPOPT_SACK 5
#define TCPOPT_TIMESTAMP 8
#define TCPOPT_FASTOPEN 34		/* RFC 7413 4.1.1 */
#define TCPOLEN_FASTOPEN_REQ 2		/* a cookie request: no cookie */
#define TCP_FASTOPEN_COOKIE_MIN 4	/* RFC 7413 4.1.1: 4 to 16 bytes */
#define TCP_FASTOPEN_COOKIE_MAX 16
#define TCP_FASTOPEN_COOKIE_LEN 8	/* the cookies this host makes */
#define TCPOLEN_TIMESTAMP 10
#define TCPOLEN_TSTAMP_APPA (TCPOLEN_TIMESTAMP + 2)	/* NOP NOP TS */
#define TCPOPT_TSTAMP_HDR \
	(TCPOPT_NOP << 24 | TCPOPT_NOP << 16 | TCPOPT_TIMESTAMP << 8 | \
	TCPOLEN_TIMESTAMP)

#define TCP_MAXOLEN 40			/* 60-byte header less 20 */
#define TCP_MAXWINSHIFT 14		/* RFC 7323 2.3 */
#define TCP_MAXWIN 65535
#define TCP_MSS 536			/* RFC 9293 3.7.1 default (RFC 1122) */

/* TCP-level socket options (level IPPROTO_TCP), Linux values */
#define TCP_NODELAY 1
#define TCP_MAXSEG 2
#define TCP_CORK 3
#define TCP_KEEPIDLE 4
#define TCP_KEEPINTVL 5
#define TCP_KEEPCNT 6
#define TCP_SYNCNT 7
#define TCP_LINGER2 8
#define TCP_DEFER_ACCEPT 9
#define TCP_WINDOW_CLAMP 10
#define TCP_INFO 11
#define TCP_QUICKACK 12
#define TCP_CONGESTION 13
#define TCP_USER_TIMEOUT 18
#define TCP_FASTOPEN 23
#define TCP_NOTSENT_LOWAT 25
#define TCP_FASTOPEN_CONNECT 30

#define TCP_CA_NAME_MAX 16

/*
 * struct tcp_info: the layout of the host's (glibc's <netinet/tcp.h>)
 * struct tcp_info, so a program passes its own; getsockopt() fills as
 * many bytes as it is given.  Times in microseconds.
 */
struct tcp_info {
	uint8_t tcpi_state;		/* Linux numbering: TCP_ESTABLISHED=1.. */
	uint8_t tcpi_ca_state;
	uint8_t tcpi_retransmits;	/* consecutive timeouts now */
	uint8_t tcpi_probes;		/* unanswered zero-window/keepalive */
	uint8_t tcpi_backoff;
	uint8_t tcpi_options;		/* TCPI_OPT_* */
	uint8_t tcpi_wscale;		/* snd (low 4 bits), rcv (high 4) */
	uint8_t tcpi_pad;
	uint32_t tcpi_rto;
	uint32_t tcpi_ato;
	uint32_t tcpi_snd_mss;
	uint32_t tcpi_rcv_mss;
	uint32_t tcpi_unacked;		/* segments in flight */
	uint32_t tcpi_sacked;
	uint32_t tcpi_lost;
	uint32_t tcpi_retrans;
	uint32_t tcpi_fackets;
	uint32_t tcpi_last_data_sent;	/* ms ago */
	uint32_t tcpi_last_ack_sent;
	uint32_t tcpi_last_data_recv;
	uint32_t tcpi_last_ack_recv;
	uint32_t tcpi_pmtu;
	uint32_t tcpi_rcv_ssthresh;
	uint32_t tcpi_rtt;		/* smoothed, us */
	uint32_t tcpi_rttvar;
	uint32_t tcpi_snd_ssthresh;	/* segments */
	uint32_t tcpi_snd_cwnd;		/* segments */
	uint32_t tcpi_advmss;
	uint32_t tcpi_reordering;
	uint32_t tcpi_rcv_rtt;
	uint32_t tcpi_rcv_space;
	uint32_t tcpi_total_retrans;
	/* rumpnet's own, after the glibc layout */
	uint64_t tcpi_bytes_in_flight;	/* SND.NXT - SND.UNA */
	uint64_t tcpi_bytes_acked;
	uint64_t tcpi_bytes_received;
	uint32_t tcpi_snd_wnd;		/* peer's window, bytes */
	uint32_t tcpi_rcv_wnd;
	uint32_t tcpi_snd_cwnd_bytes;
	uint32_t tcpi_snd_ssthresh_bytes;
};

#define TCPI_OPT_TIMESTAMPS 0x01
#define TCPI_OPT_SACK 0x02
#define TCPI_OPT_WSCALE 0x04
#define TCPI_OPT_ECN 0x08

#endif /* NETINET_TCP_H */

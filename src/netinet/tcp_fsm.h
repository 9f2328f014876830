/*
 * tcp_fsm.h -- the connection states (RFC 9293 3.3.2, figure 5).
 */
#ifndef NETINET_TCP_FSM_H
#define NETINET_TCP_FSM_H

#define TCP_NSTATES 11

#define TCPS_CLOSED 0		/* closed */
#define TCPS_LISTEN 1		/* listening for connection */
#define TCPS_SYN_SENT 2		/* active, have sent SYN */
#define TCPS_SYN_RECEIVED 3	/* have sent and received SYN */
/* states < TCPS_ESTABLISHED are those where connections not established */
#define TCPS_ESTABLISHED 4	/* established */
#define TCPS_CLOSE_WAIT 5	/* rcvd FIN, waiting for close */
/* states > TCPS_CLOSE_WAIT are those where user has closed */
#define TCPS_FIN_WAIT_1 6	/* have closed, sent FIN */
#define TCPS_CLOSING 7		/* closed xchd FIN; await FIN ACK */
#define TCPS_LAST_ACK 8		/* had FIN and close; await FIN ACK */
/* states > TCPS_CLOSE_WAIT && < TCPS_FIN_WAIT_2 await ACK of FIN */
#define TCPS_FIN_WAIT_2 9	/* have closed, FIN is acked */
#define TCPS_TIME_WAIT 10	/* in 2*MSL quiet wait after close */

#define TCPS_HAVERCVDSYN(s) ((s) >= TCPS_SYN_RECEIVED)
#define TCPS_HAVEESTABLISHED(s) ((s) >= TCPS_ESTABLISHED)
#define TCPS_HAVERCVDFIN(s) \
	((s) == TCPS_CLOSE_WAIT || ((s) >= TCPS_CLOSING && (s) != TCPS_FIN_WAIT_2))

extern const char *const tcpstates[TCP_NSTATES];

#endif /* NETINET_TCP_FSM_H */

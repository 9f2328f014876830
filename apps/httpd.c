/*
 * rumpnet-httpd -- an HTTP/1.1 file server (RFC 9110, RFC 9112) on a
 * rumpnet instance over a DPDK port.
 *
 * GET and HEAD of the files under --root, persistent connections,
 * pipelined requests answered in order, and /stats: the instance's
 * counters and the open connections (text/plain).
 *
 * One thread, bound to the instance, runs a kqueue loop; each connection
 * is in one of three states:
 *
 *   HC_READ    EVFILT_READ on: recv into hc_in, then http_process() parses
 *              every complete request there (request line and headers in
 *              at most HTTP_INBUF bytes), one at a time
 *   HC_WRITE   a response is going out, EVFILT_WRITE on, reading off (the
 *              next pipelined request waits in hc_in or in the socket):
 *              http_send() writes the headers (and an in-memory body) from
 *              hc_out, then the file in pieces read with pread() only as
 *              large as the send buffer has room for, so a file of any
 *              size streams without being read into memory
 *   HC_LINGER  after a response that closes the connection: our FIN is
 *              sent (shutdown(SHUT_WR)) and what the client still sends is
 *              read and dropped until its FIN, so that a close with unread
 *              data (an RST) cannot destroy the response in flight
 *
 *   main() -> http_loop() -> rump_sys_kevent()
 *       listener -> http_accept()
 *       HC_READ  -> http_read() -> http_process() -> http_request()
 *                   -> http_serve_file() / http_serve_stats() /
 *                      http_error() -> http_send()
 *       HC_WRITE -> http_send() -> (done) http_process() for the next
 *
 * Requests: the request line (method, target, HTTP-version), header
 * fields (Host, Connection, Content-Length, Transfer-Encoding are read).
 * Responses: 200, 301 (a directory without its slash), 400 (malformed,
 * or HTTP/1.1 without Host), 403 ("..", also percent-encoded, or not a
 * regular file), 404, 405 (methods other than GET and HEAD), 414 (target
 * over HTTP_MAX_TARGET bytes), 431 (header section over HTTP_INBUF),
 * 500, 501 (a request body with Transfer-Encoding), 505 (versions other
 * than 1.0 and 1.1).  HTTP/1.1 connections persist unless "Connection:
 * close"; HTTP/1.0 ones close unless "Connection: keep-alive".  Malformed
 * requests (400, 414, 431, 501, 505) close the connection after the
 * answer.  A body sent with GET or HEAD (Content-Length) is read and
 * dropped.  Idle connections close after HTTP_IDLE_S seconds, and so does
 * one whose request's header section is not whole HTTP_HEADER_S seconds
 * after its first byte.
 *
 * With --fibers the same state machine runs as blocking code: an accepting
 * fiber and a fiber per connection (http_fibers()), on the thread that runs
 * the DPDK poll loop as a fiber; the sockets block with timeouts of
 * HTTP_WAIT_MS instead of raising kqueue events.
 *
 * Symbolic links under --root are followed (as most servers do by
 * default): only ".." segments are refused.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common.h"
#include "util.h"
#include "rumpnet/event.h"
#include "rumpnet/socket.h"

#define HTTP_INBUF	16384		/* request line and headers, at most */
#define HTTP_MAX_TARGET	4096		/* longer request target: 414 */
#define HTTP_CHUNK	(256 * 1024)	/* file bytes per write, at most */
#define HTTP_EVENTS	128
#define HTTP_WAIT_MS	100		/* kevent timeout: signals, timers */
#define HTTP_IDLE_S	30		/* idle or stalled connection */
#define HTTP_HEADER_S	20		/* default --header-timeout: a
					   request's header section, from
					   its first byte (a client sending
					   it a byte at a time, slowloris,
					   holds no connection longer) */
#define HTTP_LINGER_S	2		/* waiting for the client's FIN */

struct http_opts {
	const char *root;
	uint16_t port;
	double duration;
	double header_s;		/* --header-timeout */
	bool verbose;			/* one line per request */
};

enum hc_state { HC_READ, HC_WRITE, HC_LINGER };

struct http_conn {
	int hc_fd;
	enum hc_state hc_state;
	bool hc_closed;			/* freed after the batch of events */
	bool hc_rd, hc_wr;		/* EVFILT_READ / EVFILT_WRITE enabled */
	bool hc_close_after;		/* close once the response is out */
	struct sockaddr_in hc_peer;
	uint64_t hc_active_ns;		/* last progress */
	uint64_t hc_reqstart_ns;	/* first byte of the request in hc_in */
	bool hc_started;		/* bytes of the next request came (the
					   empty lines before one too) */
	uint64_t hc_requests, hc_sent;
	/* requests */
	size_t hc_inlen;
	uint64_t hc_discard;		/* request body bytes still to drop */
	/* the response: hc_out (headers, small bodies), then the file */
	char *hc_out;
	size_t hc_outoff, hc_outlen, hc_outcap;
	int hc_file;			/* -1: none */
	off_t hc_fileoff, hc_fileend;
	char *hc_chunk;			/* --fibers: its own pread() buffer */
	struct http_server *hc_server;	/* --fibers */
	LIST_ENTRY(http_conn) hc_live;
	SLIST_ENTRY(http_conn) hc_dead;
	char hc_in[HTTP_INBUF];
};

struct http_server {
	const struct http_opts *hs_opts;
	struct app_net *hs_net;
	int hs_kq, hs_lfd;
	bool hs_paused;			/* listener off: no descriptor left */
	LIST_HEAD(, http_conn) hs_live;	/* open connections */
	SLIST_HEAD(, http_conn) hs_dead;	/* closed in this batch */
	uint64_t hs_start_ns, hs_sweep_ns;
	uint64_t hs_accepted, hs_open, hs_requests, hs_sent;
	uint64_t hs_status[6];		/* responses by class: [2] = 2xx */
	char *hs_chunk;			/* HTTP_CHUNK bytes for pread() */
	bool hs_fibers;			/* a fiber per connection, no kqueue */
	uint64_t hs_deadline;
	time_t hs_date_t;
	char hs_date[40];		/* the Date header's value, per second */
};

/* One parsed request. */
struct http_req {
	char method[16];
	const char *target;		/* in hc_in, NUL-terminated */
	size_t target_len;
	int minor;			/* HTTP/1.minor */
	bool has_host;
	bool conn_close, conn_keepalive;
	bool chunked;			/* Transfer-Encoding present */
	bool has_length;		/* Content-Length present */
	uint64_t content_length;
};

static char tag_listener;

/*
 * RFC 9110 9.3's methods (and RFC 5789's PATCH), which this server knows
 * and does not allow (405, with Allow); any other it does not recognise
 * (501, RFC 9110 15.6.2).
 */
static bool
method_known(const char *m)
{
	static const char *const known[] = { "POST", "PUT", "DELETE",
	    "CONNECT", "OPTIONS", "TRACE", "PATCH" };

	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (strcmp(m, known[i]) == 0)
			return true;
	return false;
}

static const char http_usage[] =
"usage: rumpnet-httpd --addr A.B.C.D/N [--root DIR] [options]\n"
"HTTP/1.1 file server (GET, HEAD, keep-alive, pipelining) on a rumpnet\n"
"instance over DPDK; /stats shows the counters and the connections.\n"
"  --root DIR            directory to serve (default: .)\n"
"  --http-port N         TCP port (default 80; --port is the DPDK port)\n"
"  --duration S          stop after S seconds (default: at SIGINT/SIGTERM)\n"
"  --header-timeout S    close a connection whose request's header section\n"
"                        is not whole S seconds after its first byte\n"
"                        (default 20; idle connections close after 30)\n"
"  --verbose             one line per request\n"
"  --help\n";

/* ---- connections ---- */

/* Enable or disable the two filters of c as asked; 0 or -1. */
static int
conn_want(struct http_server *hs, struct http_conn *c, bool rd, bool wr)
{
	if (hs->hs_fibers) {		/* the fiber just calls again */
		c->hc_rd = rd;
		c->hc_wr = wr;
		return 0;
	}
	if (c->hc_rd != rd && util_kq_set(hs->hs_kq, c->hc_fd, EVFILT_READ,
	    rd ? EV_ENABLE : EV_DISABLE, c) != 0)
		return -1;
	c->hc_rd = rd;
	if (c->hc_wr != wr && util_kq_set(hs->hs_kq, c->hc_fd, EVFILT_WRITE,
	    wr ? EV_ENABLE : EV_DISABLE, c) != 0)
		return -1;
	c->hc_wr = wr;
	return 0;
}

static void
conn_close(struct http_server *hs, struct http_conn *c)
{
	if (c->hc_closed)
		return;
	rump_sys_close(c->hc_fd);
	if (c->hc_file >= 0)
		close(c->hc_file);
	c->hc_file = -1;
	c->hc_closed = true;
	LIST_REMOVE(c, hc_live);
	if (!hs->hs_fibers)		/* a fiber frees its own */
		SLIST_INSERT_HEAD(&hs->hs_dead, c, hc_dead);
	hs->hs_open--;
	if (hs->hs_paused && util_kq_set(hs->hs_kq, hs->hs_lfd, EVFILT_READ,
	    EV_ENABLE, &tag_listener) == 0)
		hs->hs_paused = false;
}

static void
conn_free_dead(struct http_server *hs)
{
	struct http_conn *c;

	while ((c = SLIST_FIRST(&hs->hs_dead)) != NULL) {
		SLIST_REMOVE_HEAD(&hs->hs_dead, hc_dead);
		free(c->hc_out);
		free(c);
	}
}

/* ---- building responses ---- */

static int
out_reserve(struct http_conn *c, size_t more)
{
	size_t cap = c->hc_outcap;
	char *p;

	if (c->hc_outlen + more <= cap)
		return 0;
	while (cap < c->hc_outlen + more)
		cap = cap < 1024 ? 1024 : cap * 2;
	if ((p = realloc(c->hc_out, cap)) == NULL)
		return -1;
	c->hc_out = p;
	c->hc_outcap = cap;
	return 0;
}

static int
out_printf(struct http_conn *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
out_printf(struct http_conn *c, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || out_reserve(c, (size_t)n + 1) != 0)
		return -1;
	va_start(ap, fmt);
	vsnprintf(c->hc_out + c->hc_outlen, (size_t)n + 1, fmt, ap);
	va_end(ap);
	c->hc_outlen += (size_t)n;
	return 0;
}

static int
out_append(struct http_conn *c, const void *p, size_t len)
{
	if (out_reserve(c, len) != 0)
		return -1;
	memcpy(c->hc_out + c->hc_outlen, p, len);
	c->hc_outlen += len;
	return 0;
}

static const char *
http_date(struct http_server *hs)
{
	time_t now = time(NULL);
	struct tm tm;

	if (now != hs->hs_date_t) {
		gmtime_r(&now, &tm);
		strftime(hs->hs_date, sizeof(hs->hs_date),
		    "%a, %d %b %Y %H:%M:%S GMT", &tm);
		hs->hs_date_t = now;
	}
	return hs->hs_date;
}

static const char *
status_text(int status)
{
	switch (status) {
	case 200: return "OK";
	case 301: return "Moved Permanently";
	case 400: return "Bad Request";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 414: return "URI Too Long";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 505: return "HTTP Version Not Supported";
	default: return "Unknown";
	}
}

/*
 * The status line and the headers every response has; the caller adds
 * its own and the empty line.  A 1.0 client asking for keep-alive is told
 * it is granted; a 1.1 one is told when the connection closes.
 */
static int
out_head(struct http_server *hs, struct http_conn *c,
    const struct http_req *rq, int status, const char *type,
    uint64_t length)
{
	const char *conn = NULL;

	hs->hs_status[status / 100]++;
	if (c->hc_close_after)
		conn = "close";
	else if (rq != NULL && rq->minor == 0)
		conn = "keep-alive";
	return out_printf(c, "HTTP/1.1 %d %s\r\nServer: rumpnet-httpd\r\n"
	    "Date: %s\r\nContent-Type: %s\r\nContent-Length: %llu\r\n"
	    "%s%s%s", status, status_text(status), http_date(hs), type,
	    (unsigned long long)length, conn != NULL ? "Connection: " : "",
	    conn != NULL ? conn : "", conn != NULL ? "\r\n" : "");
}

/* An error page (no body for HEAD); closes after it when close says so. */
static int
http_error(struct http_server *hs, struct http_conn *c,
    const struct http_req *rq, int status, bool close)
{
	char body[160];
	int n;

	if (close)
		c->hc_close_after = true;
	n = snprintf(body, sizeof(body), "<html><head><title>%d %s</title>"
	    "</head><body><h1>%d %s</h1></body></html>\n", status,
	    status_text(status), status, status_text(status));
	if (out_head(hs, c, rq, status, "text/html", (uint64_t)n) != 0 ||
	    (status == 405 && out_printf(c, "Allow: GET, HEAD\r\n") != 0) ||
	    out_printf(c, "\r\n") != 0)
		return -1;
	if (rq != NULL && strcmp(rq->method, "HEAD") == 0)
		return 0;
	return out_append(c, body, (size_t)n);
}

/* ---- /stats ---- */

static const char *
tcp_state_name(unsigned s)
{
	static const char *const names[] = { "?", "ESTABLISHED", "SYN_SENT",
	    "SYN_RECV", "FIN_WAIT1", "FIN_WAIT2", "TIME_WAIT", "CLOSE",
	    "CLOSE_WAIT", "LAST_ACK", "LISTEN", "CLOSING" };

	return s < sizeof(names) / sizeof(names[0]) ? names[s] : "?";
}

static void
stats_connections(struct http_server *hs, FILE *f)
{
	static const char *const st[] = { "read", "write", "linger" };

	fprintf(f, "\nconnections: %llu open (this one included), %llu "
	    "accepted\n", (unsigned long long)hs->hs_open,
	    (unsigned long long)hs->hs_accepted);
	fprintf(f, "%-4s %-21s %-6s %8s %12s %-11s %8s %6s %9s\n", "fd",
	    "peer", "app", "requests", "bytes_sent", "tcp_state", "rtt_us",
	    "cwnd", "unacked");
	struct http_conn *c;

	LIST_FOREACH(c, &hs->hs_live, hc_live) {
		char peer[32], a[INET_ADDRSTRLEN];
		struct tcp_info ti;
		socklen_t tlen = sizeof(ti);

		inet_ntop(AF_INET, &c->hc_peer.sin_addr, a, sizeof(a));
		snprintf(peer, sizeof(peer), "%s:%u", a,
		    ntohs(c->hc_peer.sin_port));
		memset(&ti, 0, sizeof(ti));
		if (rump_sys_getsockopt(c->hc_fd, IPPROTO_TCP, TCP_INFO, &ti,
		    &tlen) != 0)
			ti.tcpi_state = 0;
		fprintf(f, "%-4d %-21s %-6s %8llu %12llu %-11s %8u %6u %9u\n",
		    c->hc_fd, peer, st[c->hc_state],
		    (unsigned long long)c->hc_requests,
		    (unsigned long long)c->hc_sent,
		    tcp_state_name(ti.tcpi_state), ti.tcpi_rtt,
		    ti.tcpi_snd_cwnd, ti.tcpi_unacked);
	}
}

/*
 * The /stats page: the server's own figures, its connections (with each
 * one's TCP_INFO: state, smoothed RTT, congestion window in segments,
 * segments not yet acknowledged) and the instance's non-zero interface,
 * IP and TCP counters.
 */
static int
http_serve_stats(struct http_server *hs, struct http_conn *c,
    const struct http_req *rq)
{
	char *body = NULL;
	size_t len = 0;
	FILE *f;
	int rv;

	if ((f = open_memstream(&body, &len)) == NULL)
		return http_error(hs, c, rq, 500, false);
	fprintf(f, "rumpnet-httpd: serving %s\nuptime_s %.1f\nrequests %llu\n"
	    "responses_2xx %llu\nresponses_3xx %llu\nresponses_4xx %llu\n"
	    "responses_5xx %llu\nbytes_sent %llu\n", hs->hs_opts->root,
	    (double)(app_now_ns() - hs->hs_start_ns) / 1e9,
	    (unsigned long long)hs->hs_requests,
	    (unsigned long long)hs->hs_status[2],
	    (unsigned long long)hs->hs_status[3],
	    (unsigned long long)hs->hs_status[4],
	    (unsigned long long)hs->hs_status[5],
	    (unsigned long long)hs->hs_sent);
	stats_connections(hs, f);
	fprintf(f, "\ncounters (non-zero):\n");
	app_stats_print(f, hs->hs_net->k, "if.,ip.,tcp.");
	if (fclose(f) != 0) {
		free(body);
		return http_error(hs, c, rq, 500, false);
	}
	rv = out_head(hs, c, rq, 200, "text/plain; charset=utf-8",
	    (uint64_t)len);
	if (rv == 0)
		rv = out_printf(c, "Cache-Control: no-store\r\n\r\n");
	if (rv == 0 && strcmp(rq->method, "HEAD") != 0)
		rv = out_append(c, body, len);
	free(body);
	return rv;
}

/* ---- files ---- */

static const char *
content_type(const char *path)
{
	static const struct { const char *ext, *type; } types[] = {
		{ "html", "text/html; charset=utf-8" },
		{ "htm", "text/html; charset=utf-8" },
		{ "txt", "text/plain; charset=utf-8" },
		{ "css", "text/css" },
		{ "js", "text/javascript" },
		{ "json", "application/json" },
		{ "xml", "application/xml" },
		{ "png", "image/png" },
		{ "jpg", "image/jpeg" },
		{ "jpeg", "image/jpeg" },
		{ "gif", "image/gif" },
		{ "svg", "image/svg+xml" },
		{ "ico", "image/x-icon" },
		{ "pdf", "application/pdf" },
		{ "wasm", "application/wasm" },
	};
	const char *dot = strrchr(path, '.'), *slash = strrchr(path, '/');

	if (dot != NULL && (slash == NULL || dot > slash))
		for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
			if (strcasecmp(dot + 1, types[i].ext) == 0)
				return types[i].type;
	return "application/octet-stream";
}

static int
hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/*
 * The path of a request target, percent-decoded into out: 0, 400 (bad
 * escape, a NUL, not a path) or 403 (a ".." segment, before or after
 * decoding, so %2e%2e and ..%2f are refused too).  The query and fragment
 * are dropped; an absolute-form target ("http://host/path") is reduced to
 * its path.
 */
static int
target_path(const char *t, char *out, size_t outlen)
{
	size_t n = 0;
	const char *seg;

	if (strncasecmp(t, "http://", 7) == 0 ||
	    strncasecmp(t, "https://", 8) == 0) {
		t = strchr(strchr(t, ':') + 3, '/');
		if (t == NULL)
			t = "/";
	}
	if (t[0] != '/')
		return 400;
	for (; *t != '\0' && *t != '?' && *t != '#'; t++) {
		int ch = (unsigned char)*t;

		if (ch == '%') {
			int hi = hexval(t[1]), lo = hi < 0 ? -1 : hexval(t[2]);

			if (lo < 0)
				return 400;
			ch = hi << 4 | lo;
			t += 2;
		}
		if (ch == '\0' || n + 1 >= outlen)
			return 400;
		out[n++] = (char)ch;
	}
	out[n] = '\0';
	for (seg = out; seg != NULL; seg = strchr(seg + 1, '/')) {
		const char *s = seg + 1;

		if (s[0] == '.' && s[1] == '.' && (s[2] == '/' || s[2] == '\0'))
			return 403;
	}
	return 0;
}

/*
 * Open the file under the root for a decoded path: 0 with *fdp and *st,
 * or an HTTP status (403, 404, 500; 301 for a directory named without its
 * trailing slash).  A directory's file is its index.html (403 if that is
 * not a regular file: a directory there would redirect for ever, to a
 * slash more each time).  O_NONBLOCK: a
 * FIFO must not block the server (it is refused as not regular anyway).
 */
static int
open_file(const char *root, const char *path, char *full, size_t fulllen,
    int *fdp, struct stat *st)
{
	size_t plen = strlen(path);
	int fd, n;

	n = snprintf(full, fulllen, "%s%s%s", root, path,
	    path[plen - 1] == '/' ? "index.html" : "");
	if (n < 0 || (size_t)n >= fulllen)
		return 404;
	if ((fd = open(full, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) < 0)
		return errno == ENOENT || errno == ENOTDIR ||
		    errno == ENAMETOOLONG ? 404 : errno == EACCES ? 403 : 500;
	if (fstat(fd, st) != 0) {
		close(fd);
		return 500;
	}
	if (S_ISDIR(st->st_mode)) {
		close(fd);
		return path[plen - 1] == '/' ? 403 : 301;
	}
	if (!S_ISREG(st->st_mode)) {
		close(fd);
		return 403;
	}
	*fdp = fd;
	return 0;
}

static int
http_serve_file(struct http_server *hs, struct http_conn *c,
    const struct http_req *rq, const char *path)
{
	char full[HTTP_MAX_TARGET + 512], lm[40];
	struct stat st;
	struct tm tm;
	int fd = -1, status;

	status = open_file(hs->hs_opts->root, path, full, sizeof(full), &fd,
	    &st);
	if (status == 301) {
		char loc[HTTP_MAX_TARGET + 2];

		/* the target as sent (still encoded), without its query */
		snprintf(loc, sizeof(loc), "%.*s/", (int)strcspn(rq->target,
		    "?#"), rq->target);
		if (out_head(hs, c, rq, 301, "text/plain", 0) != 0 ||
		    out_printf(c, "Location: %s\r\n\r\n", loc) != 0)
			return -1;
		return 0;
	}
	if (status != 0)
		return http_error(hs, c, rq, status, false);
	gmtime_r(&st.st_mtime, &tm);
	strftime(lm, sizeof(lm), "%a, %d %b %Y %H:%M:%S GMT", &tm);
	if (out_head(hs, c, rq, 200, content_type(full),
	    (uint64_t)st.st_size) != 0 ||
	    out_printf(c, "Last-Modified: %s\r\n\r\n", lm) != 0) {
		close(fd);
		return -1;
	}
	if (strcmp(rq->method, "HEAD") == 0 || st.st_size == 0) {
		close(fd);
		return 0;
	}
	c->hc_file = fd;
	c->hc_fileoff = 0;
	c->hc_fileend = st.st_size;
	return 0;
}

/* ---- requests ---- */

/* Whether a comma-separated header value has token tok (any case). */
static bool
has_token(const char *v, const char *tok)
{
	size_t tl = strlen(tok);

	while (*v != '\0') {
		size_t n;

		v += strspn(v, " \t,");
		n = strcspn(v, ",");
		while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'))
			n--;
		if (n == tl && strncasecmp(v, tok, n) == 0)
			return true;
		v += strcspn(v, ",");
	}
	return false;
}

/* One header field line (NUL-terminated, no CRLF): 0 or 400. */
static int
parse_field(char *line, struct http_req *rq)
{
	char *colon = strchr(line, ':'), *v, *end;

	/* no obsolete line folding, no space before the colon (RFC 9112 5) */
	if (line[0] == ' ' || line[0] == '\t' || colon == NULL ||
	    colon == line || colon[-1] == ' ' || colon[-1] == '\t')
		return 400;
	*colon = '\0';
	v = colon + 1 + strspn(colon + 1, " \t");
	for (end = v + strlen(v); end > v && (end[-1] == ' ' ||
	    end[-1] == '\t'); end--)
		end[-1] = '\0';
	if (strcasecmp(line, "Host") == 0) {
		if (rq->has_host)
			return 400;	/* RFC 9112 3.2: exactly one */
		rq->has_host = true;
	} else if (strcasecmp(line, "Connection") == 0) {
		rq->conn_close |= has_token(v, "close");
		rq->conn_keepalive |= has_token(v, "keep-alive");
	} else if (strcasecmp(line, "Transfer-Encoding") == 0) {
		rq->chunked = true;
	} else if (strcasecmp(line, "Content-Length") == 0) {
		unsigned long long n;

		errno = 0;
		n = strtoull(v, &end, 10);
		if (errno != 0 || end == v || *end != '\0' || v[0] == '-' ||
		    (rq->has_length && rq->content_length != n))
			return 400;
		rq->has_length = true;
		rq->content_length = n;
	}
	return 0;
}

/*
 * The request line "METHOD SP target SP HTTP/x.y": 0, 400, 414 or 505
 * (rq->minor is set for 1.0 and 1.1 only).
 */
static int
parse_request_line(char *line, struct http_req *rq)
{
	char *sp1 = strchr(line, ' '), *sp2, *ver;
	size_t mlen;

	if (sp1 == NULL || (sp2 = strchr(sp1 + 1, ' ')) == NULL ||
	    strchr(sp2 + 1, ' ') != NULL || sp2 == sp1 + 1)
		return 400;
	mlen = (size_t)(sp1 - line);
	if (mlen == 0)
		return 400;
	/* a method is a token (RFC 9110 5.6.2); one this long, unknown */
	for (size_t i = 0; i < mlen; i++)
		if (!isalnum((unsigned char)line[i]) &&
		    strchr("!#$%&'*+-.^_`|~", line[i]) == NULL)
			return 400;
	if (mlen >= sizeof(rq->method))
		return 501;
	memcpy(rq->method, line, mlen);
	rq->method[mlen] = '\0';
	*sp2 = '\0';
	rq->target = sp1 + 1;
	rq->target_len = (size_t)(sp2 - sp1 - 1);
	ver = sp2 + 1;
	/* HTTP-version = "HTTP/" DIGIT "." DIGIT (a lone digit: HTTP/2) */
	if (strncmp(ver, "HTTP/", 5) != 0 || ver[5] < '0' || ver[5] > '9' ||
	    !((ver[6] == '\0') || (ver[6] == '.' && ver[7] >= '0' &&
	    ver[7] <= '9' && ver[8] == '\0')))
		return 400;
	if (rq->target_len > HTTP_MAX_TARGET)
		return 414;
	if (ver[5] != '1' || ver[6] != '.' || ver[7] > '1')
		return 505;
	rq->minor = ver[7] - '0';
	return 0;
}

/*
 * Parse the request whose header section is hc_in[0..len) (lines end in
 * CRLF or LF; the last line is empty) and build its response.  0 or -1
 * (out of memory: close).
 */
static int
http_request(struct http_server *hs, struct http_conn *c, size_t len)
{
	struct http_req rq;
	char *p = c->hc_in, *end = c->hc_in + len, path[HTTP_MAX_TARGET + 1];
	int status;
	bool first = true;

	memset(&rq, 0, sizeof(rq));
	rq.minor = 1;
	status = 0;
	while (p < end && status == 0) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t llen = (size_t)(nl - p);

		if (llen > 0 && p[llen - 1] == '\r')
			llen--;
		p[llen] = '\0';
		if (llen == 0)
			break;		/* the empty line */
		if (strlen(p) != llen)
			status = 400;	/* a NUL inside a line */
		else if (first)
			status = parse_request_line(p, &rq);
		else
			status = parse_field(p, &rq);
		first = false;
		p = nl + 1;
	}
	c->hc_requests++;
	hs->hs_requests++;
	c->hc_close_after = rq.conn_close || (rq.minor == 0 &&
	    !rq.conn_keepalive);
	if (status == 0 && rq.chunked)
		status = 501;		/* a body we cannot delimit */
	if (status == 0 && rq.minor == 1 && !rq.has_host)
		status = 400;		/* RFC 9112 3.2 */
	if (status != 0)
		return http_error(hs, c, &rq, status, true);
	c->hc_discard = rq.content_length;
	if (strcmp(rq.method, "GET") != 0 && strcmp(rq.method, "HEAD") != 0)
		return http_error(hs, c, &rq, method_known(rq.method) ? 405 :
		    501, false);
	if ((status = target_path(rq.target, path, sizeof(path))) != 0)
		return http_error(hs, c, &rq, status, status == 400);
	if (hs->hs_opts->verbose) {
		char a[INET_ADDRSTRLEN];

		inet_ntop(AF_INET, &c->hc_peer.sin_addr, a, sizeof(a));
		printf("rumpnet-httpd: %s %s %s HTTP/1.%d\n", a, rq.method,
		    rq.target, rq.minor);
	}
	if (strcmp(path, "/stats") == 0)
		return http_serve_stats(hs, c, &rq);
	return http_serve_file(hs, c, &rq, path);
}

/*
 * The length of the header section at the start of hc_in (through its
 * empty line), 0 when it is not complete yet.  Empty lines before a
 * request line are dropped (RFC 9112 2.2).
 */
static size_t
header_end(struct http_conn *c)
{
	size_t skip = 0;

	while (skip < c->hc_inlen && (c->hc_in[skip] == '\r' ||
	    c->hc_in[skip] == '\n'))
		skip++;
	if (skip > 0) {
		memmove(c->hc_in, c->hc_in + skip, c->hc_inlen - skip);
		c->hc_inlen -= skip;
	}
	for (size_t i = 0; i < c->hc_inlen; i++) {
		if (c->hc_in[i] != '\n')
			continue;
		if (i + 1 < c->hc_inlen && c->hc_in[i + 1] == '\n')
			return i + 2;
		if (i + 2 < c->hc_inlen && c->hc_in[i + 1] == '\r' &&
		    c->hc_in[i + 2] == '\n')
			return i + 3;
	}
	return 0;
}

/* Drop what hc_in has of a request body still to skip. */
static void
discard_body(struct http_conn *c)
{
	size_t n = c->hc_discard < c->hc_inlen ? (size_t)c->hc_discard :
	    c->hc_inlen;

	memmove(c->hc_in, c->hc_in + n, c->hc_inlen - n);
	c->hc_inlen -= n;
	c->hc_discard -= n;
}

/* What http_send() did. */
enum http_sent { SENT_ALL, SENT_SOME, SENT_FAILED };

static enum http_sent http_send(struct http_server *hs, struct http_conn *c,
    int64_t room);
static void http_finish(struct http_server *hs, struct http_conn *c);

/*
 * Answer the complete requests in hc_in, one at a time: each response is
 * sent (or started: HC_WRITE, and the rest waits for EVFILT_WRITE) before
 * the next request is looked at.
 */
static void
http_process(struct http_server *hs, struct http_conn *c)
{
	while (!c->hc_closed && c->hc_state == HC_READ) {
		size_t hlen;

		discard_body(c);
		if (c->hc_discard > 0)
			break;		/* more body to come */
		if ((hlen = header_end(c)) == 0) {
			if (c->hc_inlen < HTTP_INBUF)
				break;	/* wait for the rest */
			/* full without its empty line: too large */
			c->hc_requests++;
			hs->hs_requests++;
			if (http_error(hs, c, NULL, memchr(c->hc_in, '\n',
			    c->hc_inlen) == NULL ? 414 : 431, true) != 0) {
				conn_close(hs, c);
				return;
			}
			c->hc_inlen = 0;
		} else {
			if (http_request(hs, c, hlen) != 0) {
				conn_close(hs, c);
				return;
			}
			memmove(c->hc_in, c->hc_in + hlen, c->hc_inlen - hlen);
			c->hc_inlen -= hlen;
			if (c->hc_close_after)
				c->hc_inlen = 0;	/* nothing after it */
		}
		c->hc_state = HC_WRITE;
		switch (http_send(hs, c, -1)) {
		case SENT_ALL:
			http_finish(hs, c);
			break;
		case SENT_SOME:
			return;
		case SENT_FAILED:
			conn_close(hs, c);
			return;
		}
	}
	if (!c->hc_closed && c->hc_state == HC_READ &&
	    conn_want(hs, c, true, false) != 0)
		conn_close(hs, c);
}

/*
 * The response is out: on to HC_READ (the caller looks at the next
 * request), or HC_LINGER when the connection closes.
 */
static void
http_finish(struct http_server *hs, struct http_conn *c)
{
	if (c->hc_outcap > 65536) {
		free(c->hc_out);
		c->hc_out = NULL;
		c->hc_outcap = 0;
	}
	c->hc_outoff = c->hc_outlen = 0;
	if (c->hc_file >= 0)
		close(c->hc_file);
	c->hc_file = -1;
	if (c->hc_close_after) {
		c->hc_state = HC_LINGER;
		if (rump_sys_shutdown(c->hc_fd, SHUT_WR) != 0 ||
		    conn_want(hs, c, true, false) != 0)
			conn_close(hs, c);
		return;
	}
	c->hc_state = HC_READ;
	/* a pipelined request's time starts when it is looked at */
	c->hc_started = c->hc_inlen > 0;
	c->hc_reqstart_ns = app_now_ns();
}

/*
 * Write what the response has left: hc_out, then the file from hc_fileoff
 * (read only as much as room, the send buffer's space, says fits; -1:
 * unknown).  On EAGAIN, wait for EVFILT_WRITE.
 */
static enum http_sent
http_send(struct http_server *hs, struct http_conn *c, int64_t room)
{
	for (;;) {
		struct iovec iov[2];
		size_t want = 0;
		int n_iov = 0;
		ssize_t n;

		if (c->hc_outoff < c->hc_outlen) {
			iov[n_iov].iov_base = c->hc_out + c->hc_outoff;
			iov[n_iov++].iov_len = c->hc_outlen - c->hc_outoff;
		}
		if (c->hc_file >= 0 && c->hc_fileoff < c->hc_fileend) {
			off_t left = c->hc_fileend - c->hc_fileoff;

			want = room > 4096 && room < HTTP_CHUNK ?
			    (size_t)room : room < 0 ? 65536 : HTTP_CHUNK;
			if ((off_t)want > left)
				want = (size_t)left;
			n = pread(c->hc_file, c->hc_chunk != NULL ?
			    c->hc_chunk : hs->hs_chunk, want, c->hc_fileoff);
			if (n <= 0) {
				/* the file shrank or failed: cut it short */
				fprintf(stderr, "rumpnet-httpd: reading a "
				    "file: %s\n", n < 0 ? strerror(errno) :
				    "it became shorter");
				return SENT_FAILED;
			}
			iov[n_iov].iov_base = c->hc_chunk != NULL ?
			    c->hc_chunk : hs->hs_chunk;
			iov[n_iov++].iov_len = (size_t)n;
		}
		if (n_iov == 0)
			return SENT_ALL;
		n = rump_sys_writev(c->hc_fd, iov, n_iov);
		if (n < 0) {
			if (errno == EAGAIN && conn_want(hs, c, false,
			    true) == 0)
				return SENT_SOME;
			return SENT_FAILED;
		}
		c->hc_active_ns = app_now_ns();
		c->hc_sent += (uint64_t)n;
		hs->hs_sent += (uint64_t)n;
		if (c->hc_outoff < c->hc_outlen) {
			size_t o = c->hc_outlen - c->hc_outoff;

			if ((size_t)n < o) {
				c->hc_outoff += (size_t)n;
				continue;
			}
			c->hc_outoff = c->hc_outlen;
			n -= (ssize_t)o;
		}
		c->hc_fileoff += n;
		room = -1;
	}
}

/*
 * HC_WRITE: send more of the response (room: as http_send()); once it is
 * all out, on to the next request; on an error, close.
 */
static void
http_write(struct http_server *hs, struct http_conn *c, int64_t room)
{
	switch (http_send(hs, c, room)) {
	case SENT_ALL:
		http_finish(hs, c);
		if (c->hc_state == HC_READ)
			http_process(hs, c);
		break;
	case SENT_SOME:
		break;
	case SENT_FAILED:
		conn_close(hs, c);
		break;
	}
}

/*
 * Whether c is to be closed at now: no progress in its state for too
 * long, or a request's header section still not whole HTTP_HEADER_S
 * after its first byte.
 */
static bool
conn_expired(const struct http_server *hs, const struct http_conn *c,
    uint64_t now)
{
	if (now - c->hc_active_ns > (c->hc_state == HC_LINGER ?
	    HTTP_LINGER_S : HTTP_IDLE_S) * 1000000000ull)
		return true;
	return c->hc_state == HC_READ && c->hc_started &&
	    (double)(now - c->hc_reqstart_ns) > hs->hs_opts->header_s * 1e9;
}

/* Read and drop until the client's FIN (or an error): then close. */
static void
http_linger(struct http_server *hs, struct http_conn *c)
{
	char buf[4096];
	ssize_t n;

	while ((n = rump_sys_recv(c->hc_fd, buf, sizeof(buf), 0)) > 0)
		continue;
	if (n == 0 || errno != EAGAIN)
		conn_close(hs, c);
}

static void
http_read(struct http_server *hs, struct http_conn *c)
{
	ssize_t n;

	if (c->hc_inlen == HTTP_INBUF) {
		http_process(hs, c);
		return;
	}
	n = rump_sys_recv(c->hc_fd, c->hc_in + c->hc_inlen,
	    HTTP_INBUF - c->hc_inlen, 0);
	if (n == 0 || (n < 0 && errno != EAGAIN)) {
		/* EOF or reset: a half-sent request is abandoned */
		conn_close(hs, c);
		return;
	}
	if (n < 0)
		return;
	c->hc_active_ns = app_now_ns();
	if (!c->hc_started) {
		c->hc_started = true;
		c->hc_reqstart_ns = c->hc_active_ns;
	}
	c->hc_inlen += (size_t)n;
	http_process(hs, c);
}

static void
http_accept(struct http_server *hs)
{
	for (int i = 0; i < HTTP_EVENTS; i++) {
		struct http_conn *c;
		socklen_t plen;
		int fd, one = 1;

		if ((c = calloc(1, sizeof(*c))) == NULL) {
			fprintf(stderr, "rumpnet-httpd: out of memory\n");
			return;
		}
		plen = sizeof(c->hc_peer);
		fd = rump_sys_accept4(hs->hs_lfd,
		    (struct sockaddr *)&c->hc_peer, &plen, SOCK_NONBLOCK);
		if (fd < 0) {
			free(c);
			/*
			 * out of descriptors or memory: the listener stays
			 * readable, so it goes off until a connection closes
			 * or the next sweep (a second) tries again
			 */
			if ((errno == EMFILE || errno == ENFILE ||
			    errno == ENOBUFS || errno == ENOMEM) &&
			    util_kq_set(hs->hs_kq, hs->hs_lfd, EVFILT_READ,
			    EV_DISABLE, &tag_listener) == 0) {
				fprintf(stderr, "rumpnet-httpd: accept: %s "
				    "at %llu connections\n", strerror(errno),
				    (unsigned long long)hs->hs_open);
				hs->hs_paused = true;
			} else if (errno != EAGAIN && errno != ECONNABORTED) {
				perror("rumpnet-httpd: accept");
			}
			return;
		}
		c->hc_fd = fd;
		c->hc_file = -1;
		c->hc_rd = true;
		c->hc_active_ns = app_now_ns();
		/* responses end in small writes: do not let Nagle hold them */
		rump_sys_setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
		    sizeof(one));
		if (util_kq_set(hs->hs_kq, fd, EVFILT_READ, EV_ADD, c) != 0 ||
		    util_kq_set(hs->hs_kq, fd, EVFILT_WRITE,
		    EV_ADD | EV_DISABLE, c) != 0) {
			perror("rumpnet-httpd: kevent");
			rump_sys_close(fd);
			free(c);
			continue;
		}
		LIST_INSERT_HEAD(&hs->hs_live, c, hc_live);
		hs->hs_accepted++;
		hs->hs_open++;
	}
}

/* Once a second: close connections idle (or stalled) for too long. */
static void
http_sweep(struct http_server *hs)
{
	uint64_t now = app_now_ns();
	struct http_conn *c, *next;

	if (now - hs->hs_sweep_ns < 1000000000u)
		return;
	hs->hs_sweep_ns = now;
	if (hs->hs_paused && util_kq_set(hs->hs_kq, hs->hs_lfd, EVFILT_READ,
	    EV_ENABLE, &tag_listener) == 0)
		hs->hs_paused = false;	/* try again */
	for (c = LIST_FIRST(&hs->hs_live); c != NULL; c = next) {
		next = LIST_NEXT(c, hc_live);
		if (conn_expired(hs, c, now))
			conn_close(hs, c);
	}
	conn_free_dead(hs);
}

static void
http_event(struct http_server *hs, const struct kevent *ev)
{
	struct http_conn *c = ev->udata;

	if (ev->udata == &tag_listener) {
		http_accept(hs);
		return;
	}
	if (c->hc_closed)
		return;
	switch (c->hc_state) {
	case HC_READ:
		if (ev->filter == EVFILT_READ)
			http_read(hs, c);
		break;
	case HC_WRITE:
		if (ev->filter != EVFILT_WRITE)
			break;
		http_write(hs, c, ev->data);
		break;
	case HC_LINGER:
		if (ev->filter == EVFILT_READ)
			http_linger(hs, c);
		break;
	}
}

static int
http_loop(struct http_server *hs, uint64_t deadline)
{
	struct kevent evs[HTTP_EVENTS];
	const struct timespec ts = { 0, HTTP_WAIT_MS * 1000000L };

	while (!util_expired(deadline)) {
		int n = rump_sys_kevent(hs->hs_kq, NULL, 0, evs, HTTP_EVENTS,
		    &ts);

		if (n < 0) {
			perror("rumpnet-httpd: kevent");
			return -1;
		}
		for (int i = 0; i < n; i++)
			http_event(hs, &evs[i]);
		conn_free_dead(hs);
		http_sweep(hs);
	}
	return 0;
}

/*
 * ---- --fibers ----
 *
 * Each connection's fiber drives the same states as http_event() does,
 * with blocking calls that time out after HTTP_WAIT_MS (then it looks at
 * the stop flag and the idle limit): a call that waits parks only this
 * connection's fiber.
 */

static __thread struct rump_kernel *http_fiber_k;	/* per instance */

static void
http_conn_fiber(void *arg)
{
	struct http_conn *c = arg;
	struct http_server *hs = c->hc_server;

	while (!c->hc_closed) {
		if (util_expired(hs->hs_deadline) ||
		    conn_expired(hs, c, app_now_ns())) {
			conn_close(hs, c);
			break;
		}
		switch (c->hc_state) {
		case HC_READ:
			http_read(hs, c);
			break;
		case HC_WRITE:
			http_write(hs, c, -1);
			break;
		case HC_LINGER:
			http_linger(hs, c);
			break;
		}
	}
	free(c->hc_chunk);
	free(c->hc_out);
	free(c);
}

static void
http_accept_fiber(void *arg)
{
	struct http_server *hs = arg;
	struct timeval tv = { 0, HTTP_WAIT_MS * 1000 };

	while (!util_expired(hs->hs_deadline)) {
		struct http_conn *c;
		socklen_t plen;
		int fd, one = 1;

		if ((c = calloc(1, sizeof(*c))) == NULL ||
		    (c->hc_chunk = malloc(HTTP_CHUNK)) == NULL) {
			fprintf(stderr, "rumpnet-httpd: out of memory\n");
			free(c);
			rump_fiber_yield();
			continue;
		}
		plen = sizeof(c->hc_peer);
		fd = rump_sys_accept(hs->hs_lfd,
		    (struct sockaddr *)&c->hc_peer, &plen);
		if (fd < 0) {
			free(c->hc_chunk);
			free(c);
			if (errno == EMFILE || errno == ENFILE ||
			    errno == ENOBUFS || errno == ENOMEM)
				rump_fiber_yield();
			else if (errno != EAGAIN && errno != EINTR &&
			    errno != ECONNABORTED) {
				perror("rumpnet-httpd: accept");
				return;
			}
			continue;
		}
		c->hc_fd = fd;
		c->hc_file = -1;
		c->hc_rd = true;
		c->hc_server = hs;
		c->hc_active_ns = app_now_ns();
		rump_sys_setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
		    sizeof(one));
		if (rump_sys_setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv,
		    sizeof(tv)) != 0 || rump_sys_setsockopt(fd, SOL_SOCKET,
		    SO_SNDTIMEO, &tv, sizeof(tv)) != 0 ||
		    rump_fiber_spawn(http_fiber_k, http_conn_fiber, c, 0) != 0) {
			perror("rumpnet-httpd: a connection's fiber");
			rump_sys_close(fd);
			free(c->hc_chunk);
			free(c);
			continue;
		}
		LIST_INSERT_HEAD(&hs->hs_live, c, hc_live);
		hs->hs_accepted++;
		hs->hs_open++;
	}
}

/* Serve with fibers until the deadline or a signal: 0 or -1. */
static int
http_fibers(struct http_server *hs, struct rump_kernel *k, uint64_t deadline)
{
	struct timeval tv = { 0, HTTP_WAIT_MS * 1000 };
	int error;

	http_fiber_k = k;
	hs->hs_fibers = true;
	hs->hs_deadline = deadline;
	if (rump_sys_fcntl(hs->hs_lfd, F_SETFL, 0) != 0 ||
	    rump_sys_setsockopt(hs->hs_lfd, SOL_SOCKET, SO_RCVTIMEO, &tv,
	    sizeof(tv)) != 0) {
		perror("rumpnet-httpd: the listener");
		return -1;
	}
	if ((error = rump_fiber_spawn(k, http_accept_fiber, hs, 0)) != 0 ||
	    (error = rump_fiber_run()) != 0) {
		fprintf(stderr, "rumpnet-httpd: fibers: %s\n",
		    strerror(error));
		return -1;
	}
	return 0;
}

/* The listening socket on the port, registered with the kqueue. */
static int
http_listen(struct http_server *hs, uint16_t port)
{
	if ((hs->hs_kq = rump_sys_kqueue()) < 0 ||
	    (hs->hs_lfd = util_listen(SOCK_STREAM, port)) < 0 ||
	    util_kq_set(hs->hs_kq, hs->hs_lfd, EVFILT_READ, EV_ADD,
	    &tag_listener) != 0)
		return -1;
	return 0;
}

enum { OPT_ROOT = 1, OPT_PORT, OPT_DURATION, OPT_HEADER, OPT_VERBOSE,
	OPT_HELP };

static int
http_getopt(void *arg, int c, const char *val)
{
	struct http_opts *ho = arg;

	switch (c) {
	case OPT_ROOT:
		ho->root = val;
		return 0;
	case OPT_PORT:
		return util_parse_port("--http-port", val, &ho->port) ? 0 : -1;
	case OPT_DURATION:
		return util_parse_seconds("--duration", val, &ho->duration) ?
		    0 : -1;
	case OPT_HEADER:
		if (!util_parse_seconds("--header-timeout", val, &ho->header_s))
			return -1;
		if (ho->header_s <= 0) {
			fprintf(stderr, "--header-timeout %s: more than 0 "
			    "seconds\n", val);
			return -1;
		}
		return 0;
	case OPT_VERBOSE:
		ho->verbose = true;
		return 0;
	case OPT_HELP:
		printf("%s%s", http_usage, app_net_usage);
		exit(0);
	default:
		return -1;
	}
}

static int
parse_args(int argc, char **argv, struct http_opts *ho,
    struct app_net_opts *no)
{
	static const struct option longopts[] = {
		{ "root", required_argument, 0, OPT_ROOT },
		{ "http-port", required_argument, 0, OPT_PORT },
		{ "duration", required_argument, 0, OPT_DURATION },
		{ "header-timeout", required_argument, 0, OPT_HEADER },
		{ "verbose", no_argument, 0, OPT_VERBOSE },
		{ "help", no_argument, 0, OPT_HELP },
		APP_NET_LONGOPTS,
		{ 0, 0, 0, 0 }
	};
	struct stat st;

	if (util_getopt(argc, argv, 1, longopts, no, http_getopt, ho) != 0)
		return -1;
	if (no->addr == NULL) {
		fprintf(stderr, "rumpnet-httpd: --addr is required\n");
		return -1;
	}
	if (stat(ho->root, &st) != 0 || !S_ISDIR(st.st_mode)) {
		fprintf(stderr, "rumpnet-httpd: --root %s: not a directory\n",
		    ho->root);
		return -1;
	}
	return 0;
}

/* One instance and its server, on the calling thread. */
struct http_inst {
	struct app_net_opts hi_no;
	const struct http_opts *hi_ho;
	struct http_server hi_hs;
	int hi_rv;
};

static void *
http_inst_main(void *arg)
{
	struct http_inst *hi = arg;
	struct http_server *hs = &hi->hi_hs;
	const struct http_opts *ho = hi->hi_ho;
	struct app_net net;
	char addr[INET_ADDRSTRLEN], who[40];

	hs->hs_kq = hs->hs_lfd = -1;
	if ((hs->hs_chunk = malloc(HTTP_CHUNK)) == NULL) {
		fprintf(stderr, "rumpnet-httpd: out of memory\n");
		hi->hi_rv = 1;
		return NULL;
	}
	if (app_net_start(&hi->hi_no, &net) != 0) {
		free(hs->hs_chunk);
		hi->hi_rv = 1;
		return NULL;
	}
	hs->hs_opts = ho;
	hs->hs_net = &net;
	hs->hs_start_ns = hs->hs_sweep_ns = app_now_ns();
	if (http_listen(hs, ho->port) != 0) {
		fprintf(stderr, "rumpnet-httpd: port %u: %s\n", ho->port,
		    strerror(errno));
		hi->hi_rv = 1;
	} else {
		inet_ntop(AF_INET, &net.addr, addr, sizeof(addr));
		printf("rumpnet-httpd: serving %s on %s:%u%s\n", ho->root, addr,
		    ho->port, hi->hi_no.nqueues > 1 ?
		    " (an instance per core)" : "");
		if ((hi->hi_no.fibers ? http_fibers(hs, net.k,
		    util_deadline(ho->duration)) :
		    http_loop(hs, util_deadline(ho->duration))) != 0)
			hi->hi_rv = 1;
	}
	while (!LIST_EMPTY(&hs->hs_live))
		conn_close(hs, LIST_FIRST(&hs->hs_live));
	conn_free_dead(hs);
	if (hs->hs_lfd >= 0)
		rump_sys_close(hs->hs_lfd);
	if (hs->hs_kq >= 0)
		rump_sys_close(hs->hs_kq);
	if (hi->hi_no.nqueues > 1)
		snprintf(who, sizeof(who), "rumpnet-httpd: core %d",
		    hi->hi_no.cpu);
	else
		snprintf(who, sizeof(who), "rumpnet-httpd");
	util_print_stats(stdout, net.k, who);
	app_net_stop(&net);
	free(hs->hs_chunk);
	return NULL;
}

int
main(int argc, char **argv)
{
	struct http_opts ho = { .root = ".", .port = 80,
	    .header_s = HTTP_HEADER_S };
	struct http_inst *hi;
	struct app_net_opts no;
	char root[4096];
	uint64_t acc = 0, open_ = 0, req = 0, sent = 0;
	unsigned n;
	int rv = 0;

	app_net_opts_default(&no);
	if (parse_args(argc, argv, &ho, &no) != 0) {
		fprintf(stderr, "(rumpnet-httpd --help for the options)\n");
		return 2;
	}
	/* the root without its trailing slashes: paths start with '/' */
	snprintf(root, sizeof(root), "%s", ho.root);
	for (size_t k = strlen(root); k > 1 && root[k - 1] == '/'; k--)
		root[k - 1] = '\0';
	ho.root = root;
	setvbuf(stdout, NULL, _IOLBF, 0);
	util_signals();
	n = no.ncores > 0 ? no.ncores : 1;
	if ((hi = calloc(n, sizeof(*hi))) == NULL) {
		fprintf(stderr, "rumpnet-httpd: out of memory\n");
		return 1;
	}
	for (unsigned i = 0; i < n; i++)
		hi[i].hi_ho = &ho;
	app_run_instances(&no, hi, sizeof(*hi),
	    offsetof(struct http_inst, hi_no), http_inst_main);
	for (unsigned i = 0; i < n; i++) {
		struct http_server *hs = &hi[i].hi_hs;

		acc += hs->hs_accepted;
		open_ += hs->hs_open;
		req += hs->hs_requests;
		sent += hs->hs_sent;
		rv |= hi[i].hi_rv;
		if (n > 1)
			printf("rumpnet-httpd: core %d: %llu connections, %llu "
			    "requests\n", hi[i].hi_no.cpu,
			    (unsigned long long)hs->hs_accepted,
			    (unsigned long long)hs->hs_requests);
	}
	printf("rumpnet-httpd: stopping: %llu connections accepted, %llu "
	    "open, %llu requests, %llu bytes sent\n",
	    (unsigned long long)acc, (unsigned long long)open_,
	    (unsigned long long)req, (unsigned long long)sent);
	free(hi);
	return rv;
}

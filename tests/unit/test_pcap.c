/*
 * test_pcap.c -- capture files of the hypercall layer: packets gathered from
 * iovec segments, snaplen truncation, link types, open errors, several host
 * threads writing one file, flush, and tcpdump reading the result.
 *
 * Host-only suite: includes hyper.h (which includes nothing), host headers
 * and libpcap, which reads the files back; no kernel header.  Kernel errno
 * values are written as numbers (NetBSD's).  Every file lives in a directory
 * made by mkdtemp() in the group setup and removed by the group teardown.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <setjmp.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <cmocka.h>
#include <pcap/pcap.h>

#include "hyper/hyper.h"

#define K_ENOENT 2
#define K_EINVAL 22

#define NS 1000000000ull

static char tmpdir[1024];	/* short enough for any path below */

/* group_setup: make the directory every test writes its files in. */
static int
group_setup(void **state)
{
	const char *base = getenv("TMPDIR");

	(void)state;
	if (base == NULL || *base == '\0')
		base = "/tmp";
	if ((size_t)snprintf(tmpdir, sizeof(tmpdir), "%s/rumpnet-pcap-XXXXXX",
	    base) >= sizeof(tmpdir))
		return -1;
	return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

/* group_teardown: remove the files left in the directory, then it. */
static int
group_teardown(void **state)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d;

	(void)state;
	if ((d = opendir(tmpdir)) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", tmpdir, de->d_name);
		unlink(path);
	}
	closedir(d);
	return rmdir(tmpdir);
}

/* tpath: the path of file name in the test directory, in buf. */
static const char *
tpath(char *buf, size_t size, const char *name)
{
	snprintf(buf, size, "%s/%s", tmpdir, name);
	return buf;
}

/* rd_open: open a capture file for reading with nanosecond timestamps. */
static pcap_t *
rd_open(const char *path)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	pcap_t *rd;

	rd = pcap_open_offline_with_tstamp_precision(path,
	    PCAP_TSTAMP_PRECISION_NANO, errbuf);
	if (rd == NULL)
		fail_msg("pcap_open_offline %s: %s", path, errbuf);
	assert_int_equal(pcap_get_tstamp_precision(rd),
	    PCAP_TSTAMP_PRECISION_NANO);
	return rd;
}

/* rd_next: the next packet of rd, which must be there. */
static void
rd_next(pcap_t *rd, struct pcap_pkthdr **hp, const u_char **datap)
{
	int r = pcap_next_ex(rd, hp, datap);

	if (r != 1)
		fail_msg("pcap_next_ex: %d (%s)", r, pcap_geterr(rd));
}

/* rd_check: the next packet of rd is as given. */
static void
rd_check(pcap_t *rd, hyper_u64 ts_ns, unsigned caplen, unsigned len,
    const void *bytes)
{
	struct pcap_pkthdr *h;
	const u_char *data;

	rd_next(rd, &h, &data);
	assert_int_equal(h->ts.tv_sec, ts_ns / NS);
	assert_int_equal(h->ts.tv_usec, ts_ns % NS);
	assert_int_equal(h->caplen, caplen);
	assert_int_equal(h->len, len);
	assert_memory_equal(data, bytes, caplen);
}

/* rd_end: rd has no more packets. */
static void
rd_end(pcap_t *rd)
{
	struct pcap_pkthdr *h;
	const u_char *data;

	assert_int_equal(pcap_next_ex(rd, &h, &data), PCAP_ERROR_BREAK);
}

/* pattern: fill buf with bytes that depend on seed and the offset. */
static void
pattern(uint8_t *buf, size_t len, unsigned seed)
{
	for (size_t k = 0; k < len; k++)
		buf[k] = (uint8_t)(seed * 31 + k * 7 + 1);
}

#define NFRAMES 8
#define FRAMEMAX 400

/*
 * Frames of 60 to 319 bytes written as six segments (header, an empty one
 * with a NULL base, one byte, an empty one, the body, the last five bytes)
 * come back whole, with exact timestamps, and with the recorded length
 * origlen, or the bytes' count when origlen is smaller.
 */
static void
test_ethernet_segments(void **state)
{
	static const uint8_t empty[1];
	uint8_t frame[NFRAMES][FRAMEMAX];
	unsigned flen[NFRAMES], orig[NFRAMES], want[NFRAMES];
	hyper_u64 ts[NFRAMES];
	struct hyper_pcap *p = NULL;
	char path[PATH_MAX];
	pcap_t *rd;

	(void)state;
	tpath(path, sizeof(path), "eth.pcap");
	assert_int_equal(hyper_pcap_open(path, HYPER_PCAP_ETHERNET, 2048, &p),
	    0);
	assert_non_null(p);
	for (int i = 0; i < NFRAMES; i++) {
		const uint8_t *f = frame[i];
		unsigned L = 60 + 37 * (unsigned)i;

		pattern(frame[i], L, (unsigned)i);
		flen[i] = L;
		orig[i] = want[i] = L;
		if (i == 1)	/* smaller than the bytes: their count wins */
			orig[i] = 0;
		if (i == 3)	/* the caller already cut the packet */
			orig[i] = want[i] = L + 1000;
		ts[i] = (1700000000ull + (hyper_u64)i * 86400) * NS +
		    123456789u * (hyper_u64)i % NS;
		if (i == NFRAMES - 1)
			ts[i] = 1800000000ull * NS + (NS - 1);

		const struct hyper_iovec iov[6] = {
			{ f, 14 },
			{ NULL, 0 },
			{ f + 14, 1 },
			{ empty, 0 },
			{ f + 15, L - 20 },
			{ f + L - 5, 5 },
		};
		assert_int_equal(hyper_pcap_write(p, ts[i], iov, 6, orig[i]),
		    0);
	}
	hyper_pcap_close(p);

	rd = rd_open(path);
	assert_int_equal(pcap_datalink(rd), DLT_EN10MB);
	assert_int_equal(pcap_snapshot(rd), 2048);
	for (int i = 0; i < NFRAMES; i++)
		rd_check(rd, ts[i], flen[i], want[i], frame[i]);
	rd_end(rd);
	pcap_close(rd);
	unlink(path);
}

/*
 * With snaplen 64, longer packets keep their first 64 bytes (whichever
 * segments they come from) and their full length; shorter ones stay whole;
 * an empty packet is recorded as such.
 */
static void
test_snaplen_truncation(void **state)
{
	uint8_t buf[300];
	struct hyper_pcap *p = NULL;
	char path[PATH_MAX];
	pcap_t *rd;

	(void)state;
	pattern(buf, sizeof(buf), 5);
	tpath(path, sizeof(path), "snap.pcap");
	assert_int_equal(hyper_pcap_open(path, HYPER_PCAP_ETHERNET, 64, &p),
	    0);

	const struct hyper_iovec split[4] = {	/* 64 falls in the last */
		{ buf, 50 }, { buf + 50, 0 }, { buf + 50, 1 },
		{ buf + 51, 149 },
	};
	const struct hyper_iovec at64[2] = {	/* 64 is a segment's end */
		{ buf, 64 }, { buf + 64, 100 },
	};
	const struct hyper_iovec exact[1] = { { buf, 64 } };
	const struct hyper_iovec small[2] = { { buf, 3 }, { buf + 3, 7 } };

	assert_int_equal(hyper_pcap_write(p, 1 * NS + 1, split, 4, 200), 0);
	assert_int_equal(hyper_pcap_write(p, 2 * NS + 2, split, 4, 300), 0);
	assert_int_equal(hyper_pcap_write(p, 3 * NS + 3, at64, 2, 0), 0);
	assert_int_equal(hyper_pcap_write(p, 4 * NS + 4, exact, 1, 64), 0);
	assert_int_equal(hyper_pcap_write(p, 5 * NS + 5, small, 2, 10), 0);
	assert_int_equal(hyper_pcap_write(p, 6 * NS + 6, NULL, 0, 0), 0);
	hyper_pcap_close(p);

	rd = rd_open(path);
	assert_int_equal(pcap_snapshot(rd), 64);
	rd_check(rd, 1 * NS + 1, 64, 200, buf);
	rd_check(rd, 2 * NS + 2, 64, 300, buf);
	rd_check(rd, 3 * NS + 3, 64, 164, buf);
	rd_check(rd, 4 * NS + 4, 64, 64, buf);
	rd_check(rd, 5 * NS + 5, 10, 10, buf);
	rd_check(rd, 6 * NS + 6, 0, 0, buf);
	rd_end(rd);
	pcap_close(rd);
	unlink(path);
}

/* A HYPER_PCAP_RAW_IPV4 file has link type LINKTYPE_IPV4 (DLT_IPV4). */
static void
test_raw_ipv4(void **state)
{
	static const uint8_t ip[28] = {
		0x45, 0x00, 0x00, 0x1c, 0x00, 0x01, 0x00, 0x00,
		0x40, 0x11, 0x00, 0x00, 10, 0, 0, 1, 10, 0, 0, 2,
		0x9c, 0x40, 0x1e, 0x61, 0x00, 0x08, 0x00, 0x00,
	};
	const struct hyper_iovec iov[2] = { { ip, 20 }, { ip + 20, 8 } };
	struct hyper_pcap *p = NULL;
	char path[PATH_MAX];
	pcap_t *rd;

	(void)state;
	tpath(path, sizeof(path), "ipv4.pcap");
	assert_int_equal(hyper_pcap_open(path, HYPER_PCAP_RAW_IPV4, 65535,
	    &p), 0);
	assert_int_equal(hyper_pcap_write(p, 42 * NS + 7, iov, 2, 28), 0);
	hyper_pcap_close(p);

	rd = rd_open(path);
	assert_int_equal(pcap_datalink(rd), DLT_IPV4);
	assert_int_equal(pcap_datalink(rd), 228);
	assert_int_equal(pcap_snapshot(rd), 65535);
	rd_check(rd, 42 * NS + 7, 28, 28, ip);
	rd_end(rd);
	pcap_close(rd);
	unlink(path);
}

/*
 * Bad arguments are EINVAL and create no file; a path in a missing
 * directory is the kernel's ENOENT.
 */
static void
test_open_errors(void **state)
{
	struct hyper_pcap *p = NULL;
	char path[PATH_MAX];

	(void)state;
	tpath(path, sizeof(path), "bad.pcap");
	assert_int_equal(hyper_pcap_open(path, 999, 1500, &p), K_EINVAL);
	assert_int_equal(hyper_pcap_open(path, 0, 1500, &p), K_EINVAL);
	assert_int_equal(hyper_pcap_open(path, HYPER_PCAP_ETHERNET, 0, &p),
	    K_EINVAL);
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(hyper_pcap_open(NULL, HYPER_PCAP_ETHERNET, 1500, &p),
	    K_EINVAL);
	tpath(path, sizeof(path), "missing/dir/x.pcap");
	assert_int_equal(hyper_pcap_open(path, HYPER_PCAP_ETHERNET, 1500, &p),
	    K_ENOENT);
	assert_null(p);
}

#define NTHREADS 4
#define NPKTS 1000
#define HDRLEN 14
#define IDLEN 8
#define FILLMAX 97

struct writer {
	struct hyper_pcap *p;
	pthread_barrier_t *start;
	uint32_t tid;
	int errors;
};

/* fill_byte: byte k of the fill of packet seq of thread tid. */
static uint8_t
fill_byte(uint32_t tid, uint32_t seq, size_t k)
{
	return (uint8_t)(tid * 7 + seq * 3 + k);
}

/*
 * writer_body: write NPKTS packets, each an Ethernet header, the thread id
 * and the sequence number, and seq % FILLMAX fill bytes, in three segments,
 * stamped tid seconds and seq nanoseconds.
 */
static void *
writer_body(void *v)
{
	struct writer *w = v;
	uint8_t hdr[HDRLEN], id[IDLEN], fill[FILLMAX];

	memset(hdr, 0xff, 6);
	memcpy(hdr + 6, "\x02\x00\x00\x00\x00", 5);
	hdr[11] = (uint8_t)w->tid;
	hdr[12] = 0x88;		/* local experimental EtherType */
	hdr[13] = 0xb5;
	pthread_barrier_wait(w->start);
	for (uint32_t seq = 0; seq < NPKTS; seq++) {
		size_t nfill = seq % FILLMAX;

		memcpy(id, &w->tid, 4);
		memcpy(id + 4, &seq, 4);
		for (size_t k = 0; k < nfill; k++)
			fill[k] = fill_byte(w->tid, seq, k);
		const struct hyper_iovec iov[3] = {
			{ hdr, HDRLEN }, { id, IDLEN }, { fill, nfill },
		};
		if (hyper_pcap_write(w->p, w->tid * NS + seq, iov, 3,
		    (unsigned)(HDRLEN + IDLEN + nfill)) != 0)
			w->errors++;
	}
	return NULL;
}

/*
 * Four host threads writing 1000 packets each to one capture: the file has
 * exactly 4000 packets, each whole, each (thread, sequence) pair once.
 */
static void
test_threads_one_file(void **state)
{
	static uint8_t seen[NTHREADS][NPKTS];
	struct writer w[NTHREADS];
	pthread_t t[NTHREADS];
	pthread_barrier_t start;
	struct hyper_pcap *p = NULL;
	struct pcap_pkthdr *h;
	const u_char *data;
	char path[PATH_MAX];
	pcap_t *rd;
	int count = 0, r;

	(void)state;
	memset(seen, 0, sizeof(seen));
	tpath(path, sizeof(path), "threads.pcap");
	assert_int_equal(hyper_pcap_open(path, HYPER_PCAP_ETHERNET, 1500, &p),
	    0);
	assert_int_equal(pthread_barrier_init(&start, NULL, NTHREADS), 0);
	for (uint32_t i = 0; i < NTHREADS; i++) {
		w[i] = (struct writer){ .p = p, .start = &start, .tid = i };
		assert_int_equal(pthread_create(&t[i], NULL, writer_body,
		    &w[i]), 0);
	}
	for (int i = 0; i < NTHREADS; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(w[i].errors, 0);
	}
	pthread_barrier_destroy(&start);
	hyper_pcap_close(p);

	rd = rd_open(path);
	while ((r = pcap_next_ex(rd, &h, &data)) == 1) {
		uint32_t tid, seq;
		size_t nfill;

		count++;
		assert_true(h->caplen >= HDRLEN + IDLEN);
		assert_int_equal(data[12], 0x88);
		assert_int_equal(data[13], 0xb5);
		memcpy(&tid, data + HDRLEN, 4);
		memcpy(&seq, data + HDRLEN + 4, 4);
		assert_in_range(tid, 0, NTHREADS - 1);
		assert_in_range(seq, 0, NPKTS - 1);
		assert_int_equal(data[11], tid);
		assert_int_equal(seen[tid][seq], 0);
		seen[tid][seq] = 1;
		nfill = seq % FILLMAX;
		assert_int_equal(h->caplen, HDRLEN + IDLEN + nfill);
		assert_int_equal(h->len, h->caplen);
		assert_int_equal(h->ts.tv_sec, tid);
		assert_int_equal(h->ts.tv_usec, seq);
		for (size_t k = 0; k < nfill; k++)
			assert_int_equal(data[HDRLEN + IDLEN + k],
			    fill_byte(tid, seq, k));
	}
	assert_int_equal(r, PCAP_ERROR_BREAK);
	assert_int_equal(count, NTHREADS * NPKTS);
	for (int i = 0; i < NTHREADS; i++)
		for (int j = 0; j < NPKTS; j++)
			assert_int_equal(seen[i][j], 1);
	pcap_close(rd);
	unlink(path);
}

/*
 * After hyper_pcap_flush the file holds every packet written so far (a
 * reader sees them while the capture is still open); packets written after
 * it are there once the capture is closed.
 */
static void
test_flush_visible(void **state)
{
	uint8_t buf[100];
	const struct hyper_iovec iov[1] = { { buf, sizeof(buf) } };
	struct hyper_pcap *p = NULL;
	char path[PATH_MAX];
	struct stat st;
	pcap_t *rd;

	(void)state;
	pattern(buf, sizeof(buf), 9);
	tpath(path, sizeof(path), "flush.pcap");
	assert_int_equal(hyper_pcap_open(path, HYPER_PCAP_ETHERNET, 1500, &p),
	    0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(hyper_pcap_write(p, 10 * NS + (hyper_u64)i,
		    iov, 1, sizeof(buf)), 0);
	assert_int_equal(hyper_pcap_flush(p), 0);

	/* file header, then three records of header and bytes */
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, 24 + 3 * (16 + sizeof(buf)));
	rd = rd_open(path);
	for (int i = 0; i < 3; i++)
		rd_check(rd, 10 * NS + (hyper_u64)i, sizeof(buf), sizeof(buf),
		    buf);
	rd_end(rd);
	pcap_close(rd);

	assert_int_equal(hyper_pcap_write(p, 11 * NS, iov, 1, sizeof(buf)), 0);
	hyper_pcap_close(p);
	rd = rd_open(path);
	for (int i = 0; i < 3; i++)
		rd_check(rd, 10 * NS + (hyper_u64)i, sizeof(buf), sizeof(buf),
		    buf);
	rd_check(rd, 11 * NS, sizeof(buf), sizeof(buf), buf);
	rd_end(rd);
	pcap_close(rd);
	unlink(path);
}

/* ip_cksum: the Internet checksum of len (even) bytes. */
static uint16_t
ip_cksum(const uint8_t *b, size_t len)
{
	uint32_t sum = 0;

	for (size_t i = 0; i < len; i += 2)
		sum += (uint32_t)b[i] << 8 | b[i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/*
 * tcpdump reads a capture of one hand-made Ethernet + IPv4 + UDP frame and
 * decodes it as UDP.  Skipped when tcpdump is not installed.
 */
static void
test_tcpdump_reads(void **state)
{
	static const char *const tcpdumps[] = {
		"/usr/bin/tcpdump", "/usr/sbin/tcpdump",
	};
	uint8_t f[14 + 20 + 8 + 4];
	uint8_t *ip = f + 14, *udp = f + 34;
	struct hyper_pcap *p = NULL;
	char path[PATH_MAX], cmd[PATH_MAX + 64], line[512];
	const char *tcpdump = NULL;
	int sawudp = 0, status;
	uint16_t ck;
	FILE *fp;

	(void)state;
	for (size_t i = 0; i < sizeof(tcpdumps) / sizeof(tcpdumps[0]); i++)
		if (access(tcpdumps[i], X_OK) == 0) {
			tcpdump = tcpdumps[i];
			break;
		}
	if (tcpdump == NULL)
		skip();

	memset(f, 0, sizeof(f));
	memcpy(f, "\x02\x00\x00\x00\x00\x02", 6);	/* destination */
	memcpy(f + 6, "\x02\x00\x00\x00\x00\x01", 6);	/* source */
	f[12] = 0x08;					/* IPv4 */
	ip[0] = 0x45;					/* v4, 20 bytes */
	ip[3] = 20 + 8 + 4;				/* total length */
	ip[4] = 0x12, ip[5] = 0x34;			/* id */
	ip[6] = 0x40;					/* DF */
	ip[8] = 64;					/* TTL */
	ip[9] = 17;					/* UDP */
	memcpy(ip + 12, "\x0a\x00\x00\x01\x0a\x00\x00\x02", 8);
	ck = ip_cksum(ip, 20);
	ip[10] = (uint8_t)(ck >> 8), ip[11] = (uint8_t)ck;
	udp[0] = 0x9c, udp[1] = 0x40;			/* port 40000 */
	udp[2] = 0x1e, udp[3] = 0x61;			/* port 7777 */
	udp[5] = 8 + 4;					/* length */
	memcpy(udp + 8, "ping", 4);			/* checksum 0 */

	const struct hyper_iovec iov[3] = {
		{ f, 14 }, { ip, 20 }, { udp, 12 },
	};
	tpath(path, sizeof(path), "tcpdump.pcap");
	assert_int_equal(hyper_pcap_open(path, HYPER_PCAP_ETHERNET, 2048, &p),
	    0);
	assert_int_equal(hyper_pcap_write(p, 1700000000ull * NS + 5, iov, 3,
	    sizeof(f)), 0);
	hyper_pcap_close(p);

	/*
	 * As root, tcpdump switches to its own user after opening the file;
	 * -Z root keeps it from failing where that user does not exist.
	 */
	snprintf(cmd, sizeof(cmd), "%s %s-nr '%s' 2>&1", tcpdump,
	    geteuid() == 0 ? "-Z root " : "", path);
	fp = popen(cmd, "r");
	assert_non_null(fp);
	while (fgets(line, sizeof(line), fp) != NULL) {
		print_message("# %s", line);
		if (strstr(line, "UDP") != NULL)
			sawudp = 1;
	}
	status = pclose(fp);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_true(sawudp);
	unlink(path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ethernet_segments),
		cmocka_unit_test(test_snaplen_truncation),
		cmocka_unit_test(test_raw_ipv4),
		cmocka_unit_test(test_open_errors),
		cmocka_unit_test(test_threads_one_file),
		cmocka_unit_test(test_flush_visible),
		cmocka_unit_test(test_tcpdump_reads),
	};

	if (getenv("RUMPNET_TEST") != NULL)	/* run one test: see README */
		cmocka_set_test_filter(getenv("RUMPNET_TEST"));
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}

/*
 * hyper_pcap.c -- packet capture files on a POSIX host, written with
 * libpcap so that tcpdump and Wireshark read them.
 *
 * A capture is a libpcap "dead" handle (link type, snapshot length,
 * nanosecond timestamps), the dumper that writes the file, a buffer of
 * snaplen bytes into which each packet's segments are gathered, and a mutex:
 * several host threads may write to one capture, and the buffer and the
 * dumper's stdio stream are used only with the mutex held.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pcap/pcap.h>

#include "hyper.h"

/* The kernel's numbers for the host errors used below (errno_list.h). */
#define K_EINVAL 22
#define K_EIO 5

/*
 * The largest snapshot length libpcap's readers accept for the link types
 * used here (libpcap's MAXIMUM_SNAPLEN); a larger one is cut down to it, as
 * pcap_set_snaplen() and tcpdump -s do.
 */
#define PCAP_MAX_SNAPLEN 262144

struct hyper_pcap {
	pthread_mutex_t	 hp_lock;	/* serialises writers of the file */
	pcap_t		*hp_pcap;	/* dead handle: link type, snaplen */
	pcap_dumper_t	*hp_dumper;	/* the open capture file */
	unsigned	 hp_snaplen;	/* bytes kept of each packet */
	unsigned char	 hp_buf[];	/* hp_snaplen bytes, one packet */
};

/*
 * pcap_dlt: the libpcap DLT_ value for a HYPER_PCAP_* link type, or -1 when
 * the link type is unknown.
 */
static int
pcap_dlt(int linktype)
{
	switch (linktype) {
	case HYPER_PCAP_ETHERNET:
		return DLT_EN10MB;
	case HYPER_PCAP_RAW_IPV4:
		return DLT_IPV4;
	default:
		return -1;
	}
}

/*
 * hyper_pcap_open: create or truncate path as a capture file of linktype,
 * keeping at most snaplen bytes of each packet, with nanosecond timestamps.
 * Returns 0 and *pp, EINVAL for a NULL path, an unknown link type or a zero
 * snaplen, ENOMEM, or the kernel's value of fopen()'s errno.
 */
int
hyper_pcap_open(const char *path, int linktype, unsigned snaplen,
    struct hyper_pcap **pp)
{
	struct hyper_pcap *p;
	int dlt, error;

	if (path == NULL || snaplen == 0 || (dlt = pcap_dlt(linktype)) < 0)
		return K_EINVAL;
	if (snaplen > PCAP_MAX_SNAPLEN)
		snaplen = PCAP_MAX_SNAPLEN;

	if ((p = malloc(sizeof(*p) + snaplen)) == NULL)
		return hyper_errno_from_host(ENOMEM);
	p->hp_snaplen = snaplen;
	if ((error = pthread_mutex_init(&p->hp_lock, NULL)) != 0) {
		free(p);
		return hyper_errno_from_host(error);
	}
	p->hp_pcap = pcap_open_dead_with_tstamp_precision(dlt, (int)snaplen,
	    PCAP_TSTAMP_PRECISION_NANO);
	if (p->hp_pcap == NULL) {
		error = hyper_errno_from_host(ENOMEM);
		goto fail;
	}
	/* pcap_dump_open() fails with fopen()'s errno, or without one. */
	errno = 0;
	if ((p->hp_dumper = pcap_dump_open(p->hp_pcap, path)) == NULL) {
		error = errno != 0 ? hyper_errno_from_host(errno) : K_EIO;
		pcap_close(p->hp_pcap);
		goto fail;
	}
	*pp = p;
	return 0;

fail:
	pthread_mutex_destroy(&p->hp_lock);
	free(p);
	return error;
}

/*
 * hyper_pcap_write: append one packet stamped ts_ns, made of the iovcnt
 * segments of iov in order, of which at most snaplen bytes are kept.  The
 * recorded length is origlen, or the segments' total when that is larger.
 * Returns 0, EINVAL for a negative iovcnt, or EIO once the file's stream has
 * failed.
 */
int
hyper_pcap_write(struct hyper_pcap *p, hyper_u64 ts_ns,
    const struct hyper_iovec *iov, int iovcnt, unsigned origlen)
{
	struct pcap_pkthdr hdr;
	size_t total, caplen, n;
	int i, error;

	if (iovcnt < 0 || (iovcnt > 0 && iov == NULL))
		return K_EINVAL;
	total = 0;
	for (i = 0; i < iovcnt; i++)
		total += iov[i].iov_len;
	caplen = total < p->hp_snaplen ? total : p->hp_snaplen;

	memset(&hdr, 0, sizeof(hdr));
	hdr.ts.tv_sec = (time_t)(ts_ns / 1000000000u);
	hdr.ts.tv_usec = (suseconds_t)(ts_ns % 1000000000u); /* nanoseconds */
	hdr.caplen = (bpf_u_int32)caplen;
	if (origlen >= total)
		hdr.len = origlen;
	else
		hdr.len = total > UINT_MAX ? UINT_MAX : (bpf_u_int32)total;

	pthread_mutex_lock(&p->hp_lock);
	for (i = 0, n = 0; i < iovcnt && n < caplen; i++) {
		size_t seg = iov[i].iov_len;

		if (seg > caplen - n)
			seg = caplen - n;
		if (seg > 0)
			memcpy(p->hp_buf + n, iov[i].iov_base, seg);
		n += seg;
	}
	pcap_dump((u_char *)p->hp_dumper, &hdr, p->hp_buf);
	error = ferror(pcap_dump_file(p->hp_dumper)) ? K_EIO : 0;
	pthread_mutex_unlock(&p->hp_lock);
	return error;
}

/*
 * hyper_pcap_flush: push the packets buffered by stdio to the file, so that
 * a reader sees them.  Returns 0 or EIO.
 */
int
hyper_pcap_flush(struct hyper_pcap *p)
{
	int error;

	pthread_mutex_lock(&p->hp_lock);
	error = pcap_dump_flush(p->hp_dumper) != 0 ? K_EIO : 0;
	pthread_mutex_unlock(&p->hp_lock);
	return error;
}

/*
 * hyper_pcap_close: flush and close the file and free the capture.  No other
 * thread may use p any more.  A NULL p is ignored.
 */
void
hyper_pcap_close(struct hyper_pcap *p)
{
	if (p == NULL)
		return;
	pcap_dump_flush(p->hp_dumper);
	pcap_dump_close(p->hp_dumper);
	pcap_close(p->hp_pcap);
	pthread_mutex_destroy(&p->hp_lock);
	free(p);
}

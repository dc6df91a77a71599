/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * adopt.c - adopt the client half of a live TCP connection (HANDOFF.md, "TCP_REPAIR facts").
 *
 * The order below is the one measured to work; each step says why it is where it is.
 * Any failure closes the socket while it is still in repair mode, so the client sees nothing.
 *
 * Adoption after part of the ClientHello went to the server (the project's recipe; README
 * "How a decrypted connection is handed over"). The engine releases every segment that does
 * not complete the ClientHello to the server at once and holds only the completing one, so
 * the server has acknowledged a prefix of the client's stream when the decision lands:
 *   - the receive sequence still starts at client ISN + 1 (step 2), and right after connect
 *     the prefix (the bytes before the held segment) is written into the receive queue
 *     (TCP_REPAIR_QUEUE = TCP_RECV_QUEUE, then send()), which advances rcv_nxt past it;
 *   - rcv_wup in TCP_REPAIR_WINDOW is that rcv_nxt (the kernel refuses one beyond it);
 *   - the held segment is re-injected as before and lands exactly at rcv_nxt, so the kernel
 *     ACKs it at once;
 *   - the server's half is reset at client ISN + 1 + the prefix the server has (its rcv_nxt:
 *     an RST anywhere else only draws a challenge ACK, RFC 5961);
 *   - the server's timestamp is taken from its latest ACK, not only the SYN-ACK.
 * Measured on this platform (test_e2e.sh): a real TLS client writing its ClientHello in 7-byte
 * segments, 5 of 5 transfers of 4 MiB decrypted with zero client retransmissions.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "tlsgate/pkt_build.h"

#include "adopt.h"

static int sockaddr_of(uint8_t family, const uint8_t *addr, uint16_t port,
		       struct sockaddr_storage *ss, socklen_t *len)
{
	memset(ss, 0, sizeof(*ss));
	if (family == 4) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		memcpy(&sin->sin_addr, addr, 4);
		*len = sizeof(*sin);
		return 0;
	}
	if (family == 6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		memcpy(&sin6->sin6_addr, addr, 16);
		*len = sizeof(*sin6);
		return 0;
	}
	errno = EAFNOSUPPORT;
	return -1;
}

static int setint(int fd, int level, int opt, int val)
{
	return setsockopt(fd, level, opt, &val, sizeof(val));
}

/*
 * Steps 1 to 4 on a fresh TCP socket @fd: repair mode, the server's address, both sequence
 * numbers and the MSS while closed, then connect() (no SYN). Returns 0, or -1 with errno and
 * *@step naming the step that failed.
 */
static int adopt_closed(int fd, const struct adopt_facts *f, uint16_t mss, uint32_t fwmark,
			const char **step)
{
	struct sockaddr_storage ss;
	socklen_t sslen;

	/* 1. Repair mode first; transparent, else bind to a foreign address is EADDRNOTAVAIL. */
	*step = "TCP_REPAIR on";
	if (setint(fd, IPPROTO_TCP, TCP_REPAIR, TCP_REPAIR_ON) == -1)
		return -1;
	*step = "IP_TRANSPARENT";
	if (f->family == 4 ? setint(fd, IPPROTO_IP, IP_TRANSPARENT, 1) == -1
			   : setint(fd, IPPROTO_IPV6, IPV6_TRANSPARENT, 1) == -1)
		return -1;
	/*
	 * Every adopted socket of a server binds the same server ip:port; each is connected to
	 * a different client. SO_REUSEADDR alone refuses the second bind (EADDRINUSE, measured).
	 */
	*step = "SO_REUSEADDR";
	if (setint(fd, SOL_SOCKET, SO_REUSEADDR, 1) == -1 ||
	    setint(fd, SOL_SOCKET, SO_REUSEPORT, 1) == -1)
		return -1;
	/* Our own packets carry the fwmark that routes replies the local way. */
	*step = "SO_MARK";
	if (fwmark && setint(fd, SOL_SOCKET, SO_MARK, (int)fwmark) == -1)
		return -1;
	*step = "bind";
	if (sockaddr_of(f->family, f->server, f->server_port, &ss, &sslen) == -1 ||
	    bind(fd, (struct sockaddr *)&ss, sslen) == -1)
		return -1;
	/* 2. Sequence numbers only while closed: after connect they are EPERM. */
	*step = "TCP_QUEUE_SEQ send";
	if (setint(fd, IPPROTO_TCP, TCP_REPAIR_QUEUE, TCP_SEND_QUEUE) == -1 ||
	    setint(fd, IPPROTO_TCP, TCP_QUEUE_SEQ, (int)(f->server_isn + 1)) == -1)
		return -1;
	*step = "TCP_QUEUE_SEQ recv";
	if (setint(fd, IPPROTO_TCP, TCP_REPAIR_QUEUE, TCP_RECV_QUEUE) == -1 ||
	    setint(fd, IPPROTO_TCP, TCP_QUEUE_SEQ, (int)(f->client_isn + 1)) == -1)
		return -1;
	/* 3. Before connect, or the send MSS stays at 524. */
	*step = "TCP_MAXSEG";
	if (setint(fd, IPPROTO_TCP, TCP_MAXSEG, mss) == -1)
		return -1;
	/* 4. In repair mode connect() sends no SYN: the socket is ESTABLISHED at once. */
	*step = "connect";
	if (sockaddr_of(f->family, f->client, f->client_port, &ss, &sslen) == -1 ||
	    connect(fd, (struct sockaddr *)&ss, sslen) == -1)
		return -1;
	return 0;
}

/*
 * Steps 5 to 7 on the connected socket still in repair mode: the negotiated options, the
 * server's timestamp clock, the window state (@prefix_len: bytes already in the receive
 * queue). Returns 0, or -1 with errno and *@step naming the step that failed.
 */
static int adopt_repair_state(int fd, const struct adopt_facts *f, uint16_t mss, size_t prefix_len,
			      uint64_t now_ms, const char **step)
{
	struct tcp_repair_opt opts[4];
	struct tcp_repair_window win;
	unsigned nopts = 0;

	/* 5. Options only after connect. Window scale: the peer's shift in the low half. */
	opts[nopts].opt_code = TCPOPT_MAXSEG;
	opts[nopts++].opt_val = mss;
	if (f->wscale_ok) {
		opts[nopts].opt_code = TCPOPT_WINDOW;
		opts[nopts++].opt_val = f->client_wscale | (uint32_t)f->server_wscale << 16;
	}
	if (f->sack_ok) {
		opts[nopts].opt_code = TCPOPT_SACK_PERMITTED;
		opts[nopts++].opt_val = 0;
	}
	if (f->ts_ok) {
		opts[nopts].opt_code = TCPOPT_TIMESTAMP;
		opts[nopts++].opt_val = 0;
	}
	*step = "TCP_REPAIR_OPTIONS";
	if (setsockopt(fd, IPPROTO_TCP, TCP_REPAIR_OPTIONS, opts, nopts * sizeof(opts[0])) == -1)
		return -1;
	/*
	 * 6. Continue the server's timestamp clock, else PAWS drops our segments. The low bit is
	 * cleared: on kernels >= 6.7 an odd value selects microsecond timestamps.
	 */
	if (f->ts_ok) {
		uint32_t ts = f->server_tsval + (uint32_t)(now_ms - f->server_tsval_ms);

		*step = "TCP_TIMESTAMP";
		if (setint(fd, IPPROTO_TCP, TCP_TIMESTAMP, (int)(ts & ~1u)) == -1)
			return -1;
	}
	/* 7. Without the window state, clients whose ISN has bit 31 set stalled forever. */
	memset(&win, 0, sizeof(win));
	win.snd_wl1 = f->client_isn + 1;
	win.snd_wnd = (uint32_t)f->client_window << (f->wscale_ok ? f->client_wscale : 0);
	win.max_window = win.snd_wnd;
	win.rcv_wnd = f->synack_window;
	win.rcv_wup = f->client_isn + 1 + (uint32_t)prefix_len;
	*step = "TCP_REPAIR_WINDOW";
	if (setsockopt(fd, IPPROTO_TCP, TCP_REPAIR_WINDOW, &win, sizeof(win)) == -1)
		return -1;
	return 0;
}

int adopt_socket(const struct adopt_facts *f, const uint8_t *prefix, size_t prefix_len,
		 uint32_t fwmark, uint64_t now_ms, const char **step)
{
	int fd = -1, saved;
	uint16_t mss = f->client_mss ? f->client_mss : (f->family == 4 ? 536 : 1220);

	*step = "socket";
	fd = socket(f->family == 4 ? AF_INET : AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1)
		goto fail;
	if (adopt_closed(fd, f, mss, fwmark, step) == -1)
		goto fail;
	/*
	 * 4b. The bytes the server already acknowledged go into the receive queue (in repair
	 * mode a send() on the receive queue appends there and advances rcv_nxt); the held
	 * segment the caller re-injects continues the stream after them.
	 */
	if (prefix_len > 0) {
		ssize_t n;

		*step = "receive queue";
		if (setint(fd, IPPROTO_TCP, TCP_REPAIR_QUEUE, TCP_RECV_QUEUE) == -1)
			goto fail;
		n = send(fd, prefix, prefix_len, 0);
		if (n == -1)
			goto fail;
		if ((size_t)n != prefix_len) {
			errno = EMSGSIZE;
			goto fail;
		}
	}
	if (adopt_repair_state(fd, f, mss, prefix_len, now_ms, step) == -1)
		goto fail;
	/* 8. Repair off: the kernel sends a window probe; the client's answer syncs the rest. */
	*step = "TCP_REPAIR off";
	if (setint(fd, IPPROTO_TCP, TCP_REPAIR, TCP_REPAIR_OFF) == -1)
		goto fail;
	*step = NULL;
	return fd;
fail:
	saved = errno;
	/* 10. Still in repair mode (unless step 8 failed): close() sends neither FIN nor RST. */
	if (fd != -1)
		close(fd);
	errno = saved;
	return -1;
}

int adopt_raw_open(uint8_t family, uint32_t mark)
{
	int fd = socket(family == 4 ? AF_INET : AF_INET6, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
	int saved;

	if (fd == -1)
		return -1;
	if (mark && setint(fd, SOL_SOCKET, SO_MARK, (int)mark) == -1) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

int adopt_raw_send(int raw_fd, uint8_t family, const uint8_t *dst, const uint8_t *pkt, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t sslen;

	/* Port 0: for IPPROTO_RAW the destination only selects the route. */
	if (sockaddr_of(family, dst, 0, &ss, &sslen) == -1)
		return -1;
	if (sendto(raw_fd, pkt, len, 0, (struct sockaddr *)&ss, sslen) == -1)
		return -1;
	return 0;
}

int adopt_reset_server(int raw_fd, const struct adopt_facts *f)
{
	uint8_t pkt[TG_PKT_RST_MAX];
	size_t len;

	len = tg_pkt_build_rst(pkt, f->family, f->client, f->server, f->client_port, f->server_port,
			       f->client_isn + 1 + f->server_has, f->server_isn + 1);
	return adopt_raw_send(raw_fd, f->family, f->server, pkt, len);
}

int adopt_reset_client(int raw_fd, const struct adopt_facts *f, uint32_t client_bytes)
{
	uint8_t pkt[TG_PKT_RST_MAX];
	size_t len;

	len = tg_pkt_build_rst(pkt, f->family, f->server, f->client, f->server_port, f->client_port,
			       f->server_isn + 1 + f->server_sent,
			       f->client_isn + 1 + client_bytes);
	return adopt_raw_send(raw_fd, f->family, f->client, pkt, len);
}

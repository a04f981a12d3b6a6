/*
 * linkemu.c — crm-linkemu: a TCP proxy that makes a loopback connection
 * behave like a bad link (DESIGN.md §11 "bad links", §12 budgets).
 *
 * It sits between a sync client and the hub: every accepted client connection
 * gets its own upstream connection to --to, and the bytes of each direction
 * pass through an emulated link of --rate kbit/s, --rtt ms round trip and
 * --loss % segment loss; every --drop-every seconds (on average) the link
 * drops and every live connection is cut with a TCP reset.
 *
 * It must never change, reorder, duplicate or invent a byte: whatever it
 * delivers is an exact prefix of what it read.  It never blocks (one poll()
 * loop, non-blocking sockets), never holds more than QUEUE_CAP bytes per
 * direction of a connection, and never touches an address it was not given.
 *
 * Design notes
 *  1. The link is a virtual clock per direction (link_free): a segment of
 *     len bytes read at time t starts to serialise at max(t, link_free) and
 *     finishes len*8/rate later — a token bucket whose depth is one segment,
 *     computed at enqueue time so poll() wake-up jitter never accumulates.
 *  2. A segment is released to the receiver at its serialisation end plus
 *     rtt/2, plus one retransmission timeout max(200 ms, rtt) if it was
 *     "lost".  Release times never decrease: TCP delivers in order, so a late
 *     segment holds back the ones behind it (head-of-line blocking).
 *  3. Loss models the cost of TCP retransmission, never corruption.  The
 *     stream is cut into 1460-byte segments by byte offset, and whether
 *     segment k of direction d of connection n is lost is a hash of
 *     (seed, n, d, k): the same bytes meet the same fate in every run.
 *  4. Drop times come from their own generator seeded by --seed, so the
 *     schedule is the same in every run; where a drop falls in the byte
 *     stream depends on the traffic, i.e. drops land at random offsets.
 *  5. End of stream is a segment too: the FIN is passed on (shutdown) only
 *     after the bytes before it and rtt/2.  A connection ends normally when
 *     both FINs are delivered, and by reset on any error or drop.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define SEG_MAX 1460                 /* bytes per emulated TCP segment */
#define QUEUE_CAP ((size_t)4 << 20)  /* bytes queued per direction, at most */
#define QUEUE_SEGS_MAX 8192          /* segments queued per direction, at most */
#define READ_CHUNK 65536             /* bytes taken per read() */
#define CONN_MAX 4096                /* live connections; beyond, accept waits */
#define RTO_MIN_NS 200000000LL       /* TCP's minimum retransmission timeout */
#define ACCEPT_PAUSE_NS 100000000LL  /* after EMFILE, retry accept this late */
#define NS 1000000000LL

struct opts {
	const char *listen, *to, *port_file;
	double rate_kbit;       /* 0: unlimited */
	double rtt_ms;
	double drop_every_s;    /* 0: never */
	double drop_jitter_s;   /* < 0: exponential intervals */
	double loss_pct;
	uint64_t seed;
};

struct seg {
	struct seg *next;
	int64_t ready;          /* when the receiver may have it (monotonic ns) */
	uint32_t len, off;      /* off: bytes of it already delivered */
	unsigned char data[];
};

/* One direction of one connection: read from one socket, written to the other. */
struct queue {
	struct seg *head, *tail;
	size_t len, count;      /* queued bytes and segments */
	int64_t link_free;      /* virtual clock: the link is busy until then */
	int64_t last_ready;     /* release time of the newest segment */
	int64_t eof_ready;      /* when the FIN may be passed on */
	int eof_in, eof_out, blocked;
	uint64_t in_len, out_len;
};

struct conn {
	unsigned id;
	int cfd, ufd;           /* client side, upstream side */
	int connecting, dead;
	int64_t opened;
	struct queue up, down;  /* up: client -> upstream */
	char peer[80];
};

struct emu {
	struct opts o;
	double ns_per_byte;
	int64_t one_way, rto;
	double loss;
	int lfd, sig[2];
	struct sockaddr_storage to, listen_sa;
	socklen_t to_len, listen_len;
	struct conn **conns;
	size_t nconns;
	struct pollfd *pfd;
	uint64_t rng_drop;
	int64_t t0, next_drop, accept_pause;
	unsigned next_id;
	uint64_t n_conns, n_drops, n_cut, n_lost_segs;
	uint64_t up_bytes, down_bytes, discarded;
};

static volatile sig_atomic_t g_sigfd = -1;

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * NS + ts.tv_nsec;
}

static uint64_t mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

/* splitmix64: uniform in [0, 1). */
static double rng_unit(uint64_t *state)
{
	*state += UINT64_C(0x9e3779b97f4a7c15);
	return (double)(mix64(*state) >> 11) * 0x1.0p-53;
}

static void logmsg(const struct emu *e, const char *fmt, ...)
{
	va_list ap;
	char line[512];
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	fprintf(stderr, "linkemu: +%.3f %s\n", (double)(now_ns() - e->t0) / NS, line);
}

/* ---- arguments ---------------------------------------------------------- */

static void usage(FILE *f)
{
	fputs("usage: crm-linkemu --listen HOST:PORT --to HOST:PORT [--rate KBIT] [--rtt MS]\n"
	      "                   [--drop-every SECONDS] [--drop-jitter SECONDS] [--loss PERCENT]\n"
	      "                   [--seed N] [--port-file FILE]\n"
	      "  --listen      where clients connect; port 0 picks a free port ([::1]:0 for IPv6)\n"
	      "  --to          the upstream (hub) every client connection is relayed to\n"
	      "  --rate        bandwidth per direction in kbit/s (1000 bit/s); 0 = unlimited\n"
	      "  --rtt         round-trip time in ms; each direction is delayed by rtt/2\n"
	      "  --drop-every  mean seconds between link drops (exponential; uniform with\n"
	      "                --drop-jitter J: every +- J); a drop resets all connections\n"
	      "  --loss        percent of 1460-byte segments that cost a TCP retransmission\n"
	      "                timeout, max(200 ms, rtt) — delay only, bytes stay intact\n"
	      "  --seed        seed of the drop schedule and the loss pattern (default 1)\n"
	      "  --port-file   write the listening port to FILE once listening\n", f);
}

/* Parse a number in [lo, hi]; 0 or -1. */
static int parse_num(const char *s, double lo, double hi, double *out)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= lo && v <= hi))
		return -1;
	*out = v;
	return 0;
}

static int bad_value(const char *opt, const char *val, const char *want)
{
	fprintf(stderr, "linkemu: %s: expected %s, got '%s' (see --help)\n", opt, want, val);
	return -1;
}

/* Store one "--opt value" pair; 0 or -1 (message printed). */
static int set_opt(struct opts *o, const char *opt, const char *val)
{
	double seed;
	if (!strcmp(opt, "--listen"))
		o->listen = val;
	else if (!strcmp(opt, "--to"))
		o->to = val;
	else if (!strcmp(opt, "--port-file"))
		o->port_file = val;
	else if (!strcmp(opt, "--rate"))
		return parse_num(val, 0, 1e8, &o->rate_kbit) ? bad_value(opt, val, "kbit/s in [0, 1e8]") : 0;
	else if (!strcmp(opt, "--rtt"))
		return parse_num(val, 0, 600000, &o->rtt_ms) ? bad_value(opt, val, "ms in [0, 600000]") : 0;
	else if (!strcmp(opt, "--drop-every"))
		return parse_num(val, 0.001, 1e6, &o->drop_every_s) ? bad_value(opt, val, "seconds in [0.001, 1e6]") : 0;
	else if (!strcmp(opt, "--drop-jitter"))
		return parse_num(val, 0, 1e6, &o->drop_jitter_s) ? bad_value(opt, val, "seconds >= 0") : 0;
	else if (!strcmp(opt, "--loss"))
		return parse_num(val, 0, 100, &o->loss_pct) ? bad_value(opt, val, "a percentage in [0, 100]") : 0;
	else if (!strcmp(opt, "--seed")) {
		if (parse_num(val, 0, 9007199254740992.0, &seed) || seed != floor(seed))
			return bad_value(opt, val, "an integer in [0, 2^53]");
		o->seed = (uint64_t)seed;
	} else {
		fprintf(stderr, "linkemu: unknown option '%s' (see --help)\n", opt);
		return -1;
	}
	return 0;
}

/* 0 to run, 1 after --help, -1 on a usage error (message printed). */
static int parse_args(int argc, char **argv, struct opts *o)
{
	*o = (struct opts){ .drop_jitter_s = -1, .seed = 1 };
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			return 1;
		char opt[32];
		const char *eq = strchr(argv[i], '='), *val;
		size_t n = eq ? (size_t)(eq - argv[i]) : strlen(argv[i]);
		snprintf(opt, sizeof opt, "%.*s", (int)(n < 31 ? n : 31), argv[i]);
		if (strncmp(opt, "--", 2) != 0) {
			fprintf(stderr, "linkemu: unexpected argument '%s' (see --help)\n", argv[i]);
			return -1;
		}
		if (eq)
			val = eq + 1;
		else if (i + 1 < argc)
			val = argv[++i];
		else
			return bad_value(opt, "", "a value after it");
		if (set_opt(o, opt, val) < 0)
			return -1;
	}
	if (!o->listen || !o->to) {
		fprintf(stderr, "linkemu: --listen and --to are required (see --help)\n");
		return -1;
	}
	if (o->drop_jitter_s >= 0 && (o->drop_every_s == 0 || o->drop_jitter_s >= o->drop_every_s)) {
		fprintf(stderr, "linkemu: --drop-jitter needs --drop-every larger than it (see --help)\n");
		return -1;
	}
	return 0;
}

/* ---- addresses ---------------------------------------------------------- */

/* Resolve "host:port" or "[v6]:port"; 0 or -1 (message printed). */
static int resolve(const char *opt, const char *s, int passive, struct sockaddr_storage *out, socklen_t *out_len)
{
	char host[256];
	const char *colon = strrchr(s, ':');
	size_t hl = colon ? (size_t)(colon - s) : 0;
	if (hl >= 2 && s[0] == '[' && s[hl - 1] == ']')
		snprintf(host, sizeof host, "%.*s", (int)(hl - 2), s + 1);
	else if (colon && hl > 0 && hl < sizeof host && !memchr(s, ':', hl))
		snprintf(host, sizeof host, "%.*s", (int)hl, s);
	else
		return bad_value(opt, s, "HOST:PORT or [IPV6]:PORT");
	double port;
	if (parse_num(colon + 1, passive ? 0 : 1, 65535, &port) || port != floor(port))
		return bad_value(opt, s, passive ? "a port in [0, 65535]" : "a port in [1, 65535]");
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV }, *ai;
	if (passive)
		hints.ai_flags |= AI_PASSIVE;
	int rc = getaddrinfo(host, colon + 1, &hints, &ai);
	if (rc) {
		fprintf(stderr, "linkemu: %s: cannot resolve '%s': %s\n", opt, host, gai_strerror(rc));
		return -1;
	}
	memcpy(out, ai->ai_addr, ai->ai_addrlen);
	*out_len = ai->ai_addrlen;
	freeaddrinfo(ai);
	return 0;
}

/* "1.2.3.4:5" or "[::1]:5" into buf. */
static void fmt_addr(const struct sockaddr *sa, socklen_t len, char *buf, size_t size)
{
	char host[NI_MAXHOST], serv[NI_MAXSERV];
	if (getnameinfo(sa, len, host, sizeof host, serv, sizeof serv, NI_NUMERICHOST | NI_NUMERICSERV)) {
		snprintf(buf, size, "?");
		return;
	}
	snprintf(buf, size, sa->sa_family == AF_INET6 ? "[%s]:%s" : "%s:%s", host, serv);
}

/* ---- sockets ------------------------------------------------------------ */

static int set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);
	return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

/* Prepare an accepted or new socket: non-blocking, no Nagle (the emulated
 * link decides when bytes move, not the proxy's own sockets). */
static int prep_socket(int fd)
{
	int one = 1;
	if (set_nonblock(fd) < 0 || fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
		return -1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	return 0;
}

/* Close with a TCP reset (SO_LINGER 0), as a link that died would look. */
static void rst_close(int fd)
{
	if (fd < 0)
		return;
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
	close(fd);
}

/* Write "PORT\n" to path through a temporary file, so a reader never sees half. */
static int write_port_file(const char *path, unsigned port)
{
	char tmp[4096];
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	FILE *f = fopen(tmp, "w");
	if (!f)
		return -1;
	int bad = fprintf(f, "%u\n", port) < 0;
	bad |= fclose(f) != 0;
	if (bad || rename(tmp, path) < 0) {
		unlink(tmp);
		return -1;
	}
	return 0;
}

/* Bind and listen on --listen, announce the address; 0 or -1 (message printed). */
static int open_listener(struct emu *e)
{
	struct sockaddr_storage sa = e->listen_sa;
	socklen_t len = e->listen_len;
	char addr[80];
	int one = 1;
	e->lfd = socket(sa.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (e->lfd < 0 || setsockopt(e->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
	    bind(e->lfd, (struct sockaddr *)&sa, len) < 0 || listen(e->lfd, 512) < 0 || set_nonblock(e->lfd) < 0) {
		fprintf(stderr, "linkemu: cannot listen on %s: %s\n", e->o.listen, strerror(errno));
		return -1;
	}
	len = sizeof sa;
	getsockname(e->lfd, (struct sockaddr *)&sa, &len);
	fmt_addr((struct sockaddr *)&sa, len, addr, sizeof addr);
	fprintf(stderr, "linkemu: listening on %s\n", addr);
	unsigned port = ntohs(sa.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&sa)->sin6_port
						       : ((struct sockaddr_in *)&sa)->sin_port);
	if (e->o.port_file && write_port_file(e->o.port_file, port) < 0) {
		fprintf(stderr, "linkemu: cannot write port file %s: %s\n", e->o.port_file, strerror(errno));
		return -1;
	}
	return 0;
}

/* ---- the emulated link: queues ------------------------------------------ */

/* Is segment `k` of direction `dir` of connection `id` lost?  (Design note 3.) */
static int seg_lost(const struct emu *e, unsigned id, int dir, uint64_t k)
{
	if (e->loss <= 0)
		return 0;
	uint64_t h = mix64(e->o.seed ^ mix64(((uint64_t)id << 1 | (uint64_t)dir) + UINT64_C(0x9e3779b97f4a7c15)));
	h = mix64(h ^ mix64(k + UINT64_C(0x632be59bd9b4e019)));
	return (double)(h >> 11) * 0x1.0p-53 < e->loss;
}

/* Release time of a segment of len bytes entering q at now (design notes 1-2). */
static int64_t seg_ready(struct emu *e, struct queue *q, size_t len, int64_t now, int lost)
{
	int64_t start = q->link_free > now ? q->link_free : now;
	q->link_free = start + (int64_t)llround((double)len * e->ns_per_byte);
	int64_t ready = q->link_free + e->one_way + (lost ? e->rto : 0);
	if (ready < q->last_ready)
		ready = q->last_ready;
	q->last_ready = ready;
	return ready;
}

/* Append len bytes read at now, cut at 1460-byte stream offsets.  0, or -1
 * when out of memory.  Allocates one block per piece; q owns them. */
static int queue_push(struct emu *e, struct conn *c, struct queue *q, const unsigned char *p, size_t len, int64_t now)
{
	int dir = q == &c->down;
	while (len > 0) {
		uint64_t k = q->in_len / SEG_MAX;
		size_t n = SEG_MAX - (size_t)(q->in_len % SEG_MAX);
		if (n > len)
			n = len;
		struct seg *s = malloc(sizeof *s + n);
		if (!s)
			return -1;
		int lost = seg_lost(e, c->id, dir, k);
		e->n_lost_segs += lost && q->in_len % SEG_MAX == 0;
		*s = (struct seg){ .ready = seg_ready(e, q, n, now, lost), .len = (uint32_t)n };
		memcpy(s->data, p, n);
		if (q->tail)
			q->tail->next = s;
		else
			q->head = s;
		q->tail = s;
		q->len += n, q->count++, q->in_len += n;
		p += n, len -= n;
	}
	return 0;
}

/* Bytes q may take now (0 when full: reading stops, the sender backs off). */
static size_t queue_room(const struct queue *q)
{
	if (q->eof_in || q->len >= QUEUE_CAP || q->count >= QUEUE_SEGS_MAX)
		return 0;
	return QUEUE_CAP - q->len < READ_CHUNK ? QUEUE_CAP - q->len : READ_CHUNK;
}

/* Free every queued segment; returns the bytes that were still queued. */
static uint64_t queue_clear(struct queue *q)
{
	uint64_t lost = q->len;
	while (q->head) {
		struct seg *s = q->head;
		q->head = s->next;
		free(s);
	}
	q->tail = NULL;
	q->len = q->count = 0;
	return lost;
}

static void queue_pop(struct queue *q)
{
	struct seg *s = q->head;
	q->head = s->next;
	if (!q->head)
		q->tail = NULL;
	q->count--;
	free(s);
}

/* Write to fd what the link has carried by now, then the FIN when due.
 * Returns 0, or -1 when fd failed (errno set). */
static int queue_deliver(struct queue *q, int fd, int64_t now)
{
	q->blocked = 0;
	while (q->head && q->head->ready <= now) {
		struct seg *s = q->head;
		ssize_t n = send(fd, s->data + s->off, s->len - s->off, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			q->blocked = 1;
			return 0;
		}
		if (n < 0)
			return -1;
		s->off += (uint32_t)n;
		q->len -= (size_t)n;
		q->out_len += (uint64_t)n;
		if (s->off == s->len)
			queue_pop(q);
	}
	if (!q->head && q->eof_in && !q->eof_out && q->eof_ready <= now) {
		if (shutdown(fd, SHUT_WR) < 0 && errno != ENOTCONN)
			return -1;
		q->eof_out = 1;
	}
	return 0;
}

/* The next time q has something to do on its own, or INT64_MAX. */
static int64_t queue_deadline(const struct queue *q)
{
	if (q->blocked)
		return INT64_MAX;       /* waits for POLLOUT instead */
	if (q->head)
		return q->head->ready;
	if (q->eof_in && !q->eof_out)
		return q->eof_ready;
	return INT64_MAX;
}

/* ---- connections -------------------------------------------------------- */

static void conn_log_end(struct emu *e, struct conn *c, const char *what)
{
	logmsg(e, "conn %u %s: up %" PRIu64 " B delivered, %zu B lost; down %" PRIu64 " B delivered, %zu B lost; %.3f s",
	       c->id, what, c->up.out_len, c->up.len, c->down.out_len, c->down.len,
	       (double)(now_ns() - c->opened) / NS);
}

/* Account for c, close its sockets (by reset unless graceful) and mark it dead. */
static void conn_end(struct emu *e, struct conn *c, const char *what, int graceful)
{
	if (c->dead)
		return;
	conn_log_end(e, c, what);
	e->up_bytes += c->up.out_len;
	e->down_bytes += c->down.out_len;
	e->discarded += queue_clear(&c->up) + queue_clear(&c->down);
	if (graceful) {
		close(c->cfd);
		close(c->ufd);
	} else {
		rst_close(c->cfd);
		rst_close(c->ufd);
	}
	c->cfd = c->ufd = -1;
	c->dead = 1;
}

static void conn_fail(struct emu *e, struct conn *c, const char *side, int err)
{
	char what[160];
	snprintf(what, sizeof what, "reset (%s: %s)", side, strerror(err));
	conn_end(e, c, what, 0);
}

/* Start the upstream connection for an accepted client socket; 0 or -1. */
static int conn_open(struct emu *e, int cfd, const struct sockaddr_storage *peer, socklen_t plen)
{
	struct conn *c = calloc(1, sizeof *c);
	int ufd = socket(e->to.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (!c || ufd < 0 || prep_socket(ufd) < 0 ||
	    (connect(ufd, (struct sockaddr *)&e->to, e->to_len) < 0 && errno != EINPROGRESS)) {
		logmsg(e, "refused a client: cannot start the upstream connection: %s", strerror(errno));
		free(c);
		if (ufd >= 0)
			close(ufd);
		return -1;
	}
	c->id = ++e->next_id;
	c->cfd = cfd;
	c->ufd = ufd;
	c->connecting = 1;
	c->opened = now_ns();
	fmt_addr((const struct sockaddr *)peer, plen, c->peer, sizeof c->peer);
	e->conns[e->nconns++] = c;
	e->n_conns++;
	logmsg(e, "conn %u open: client %s -> upstream %s", c->id, c->peer, e->o.to);
	return 0;
}

/* Accept every pending client. */
static void accept_all(struct emu *e, int64_t now)
{
	while (e->nconns < CONN_MAX) {
		struct sockaddr_storage peer;
		socklen_t plen = sizeof peer;
		int fd = accept(e->lfd, (struct sockaddr *)&peer, &plen);
		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
				logmsg(e, "accept paused: %s", strerror(errno));
				e->accept_pause = now + ACCEPT_PAUSE_NS;
			}
			return;
		}
		if (prep_socket(fd) < 0 || conn_open(e, fd, &peer, plen) < 0)
			rst_close(fd);
	}
}

/* The upstream connect finished (ufd writable or failed). */
static void conn_connected(struct emu *e, struct conn *c)
{
	int err = 0;
	socklen_t len = sizeof err;
	if (getsockopt(c->ufd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	if (err) {
		conn_fail(e, c, "upstream connect", err);
		return;
	}
	c->connecting = 0;
}

/* Read once from fd into q.  0, or -1 when the connection was ended. */
static int conn_read(struct emu *e, struct conn *c, struct queue *q, int fd, int64_t now)
{
	static unsigned char buf[READ_CHUNK];
	size_t room = queue_room(q);
	if (room == 0)
		return 0;
	ssize_t n = recv(fd, buf, room, 0);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return 0;
	if (n < 0) {
		conn_fail(e, c, fd == c->cfd ? "client" : "upstream", errno);
		return -1;
	}
	if (n == 0) {
		int64_t start = q->link_free > now ? q->link_free : now;
		q->eof_in = 1;
		q->eof_ready = start + e->one_way > q->last_ready ? start + e->one_way : q->last_ready;
		return 0;
	}
	if (queue_push(e, c, q, buf, (size_t)n, now) < 0) {
		conn_fail(e, c, "proxy", ENOMEM);
		return -1;
	}
	return 0;
}

/* Move what is due in both directions; end c when it is finished or failed. */
static void conn_flush(struct emu *e, struct conn *c, int64_t now)
{
	if (c->dead)
		return;
	if (!c->connecting && queue_deliver(&c->up, c->ufd, now) < 0) {
		conn_fail(e, c, "upstream", errno);
		return;
	}
	if (queue_deliver(&c->down, c->cfd, now) < 0) {
		conn_fail(e, c, "client", errno);
		return;
	}
	if (c->up.eof_out && c->down.eof_out)
		conn_end(e, c, "close", 1);
}

/* Free the dead connections, keeping the array dense. */
static void sweep(struct emu *e)
{
	for (size_t i = 0; i < e->nconns;) {
		if (e->conns[i]->dead) {
			free(e->conns[i]);
			e->conns[i] = e->conns[--e->nconns];
		} else {
			i++;
		}
	}
}

/* ---- drops -------------------------------------------------------------- */

/* Seconds until the next drop: uniform every +- jitter, else exponential. */
static double drop_interval(struct emu *e)
{
	double u = rng_unit(&e->rng_drop), s;
	if (e->o.drop_jitter_s >= 0)
		s = e->o.drop_every_s + (2 * u - 1) * e->o.drop_jitter_s;
	else
		s = -e->o.drop_every_s * log1p(-u);
	return s < 0.001 ? 0.001 : s;
}

/* The link goes down: reset every live connection (mid-transfer, whatever
 * byte it was at) and schedule the next drop. */
static void drop_all(struct emu *e, int64_t now)
{
	size_t cut = 0;
	for (size_t i = 0; i < e->nconns; i++) {
		if (!e->conns[i]->dead) {
			conn_end(e, e->conns[i], "dropped", 0);
			cut++;
		}
	}
	double next = drop_interval(e);
	e->next_drop = now + (int64_t)(next * NS);
	e->n_drops++;
	e->n_cut += cut;
	logmsg(e, "drop %" PRIu64 ": link down, %zu connection%s cut; next drop in %.3f s",
	       e->n_drops, cut, cut == 1 ? "" : "s", next);
}

/* ---- the loop ----------------------------------------------------------- */

static void on_signal(int sig)
{
	int saved = errno;
	unsigned char b = (unsigned char)sig;
	if (g_sigfd >= 0 && write(g_sigfd, &b, 1) < 0) {
		/* the pipe is full: a wake-up is already pending */
	}
	errno = saved;
}

/* Self-pipe for SIGINT/SIGTERM; SIGPIPE ignored.  0 or -1. */
static int setup_signals(struct emu *e)
{
	struct sigaction sa = { .sa_handler = on_signal };
	if (pipe(e->sig) < 0 || set_nonblock(e->sig[0]) < 0 || set_nonblock(e->sig[1]) < 0)
		return -1;
	g_sigfd = e->sig[1];
	sigemptyset(&sa.sa_mask);
	signal(SIGPIPE, SIG_IGN);
	return sigaction(SIGINT, &sa, NULL) | sigaction(SIGTERM, &sa, NULL);
}

static int64_t min64(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

/* Fill e->pfd: [0] signals, [1] listener, then client and upstream socket of
 * each connection (fd -1 when nothing is wanted).  Returns the poll timeout in ms. */
static int build_poll(struct emu *e, int64_t now)
{
	int64_t due = e->next_drop;
	e->pfd[0] = (struct pollfd){ .fd = e->sig[0], .events = POLLIN };
	int can_accept = e->nconns < CONN_MAX && now >= e->accept_pause;
	e->pfd[1] = (struct pollfd){ .fd = can_accept ? e->lfd : -1, .events = POLLIN };
	if (!can_accept && e->nconns < CONN_MAX)
		due = min64(due, e->accept_pause);
	for (size_t i = 0; i < e->nconns; i++) {
		struct conn *c = e->conns[i];
		short ce = (short)((queue_room(&c->up) ? POLLIN : 0) | (c->down.blocked ? POLLOUT : 0));
		short ue = (short)(c->connecting ? POLLOUT
				   : (queue_room(&c->down) ? POLLIN : 0) | (c->up.blocked ? POLLOUT : 0));
		e->pfd[2 + 2 * i] = (struct pollfd){ .fd = ce ? c->cfd : -1, .events = ce };
		e->pfd[3 + 2 * i] = (struct pollfd){ .fd = ue ? c->ufd : -1, .events = ue };
		if (!c->connecting)
			due = min64(due, queue_deadline(&c->up));
		due = min64(due, queue_deadline(&c->down));
	}
	if (due == INT64_MAX)
		return -1;
	if (due <= now)
		return 0;
	int64_t ms = (due - now + 999999) / 1000000;
	return ms > 60000 ? 60000 : (int)ms;
}

/* Act on what poll() reported for connection i. */
static void conn_events(struct emu *e, size_t i, int64_t now)
{
	struct conn *c = e->conns[i];
	short cr = e->pfd[2 + 2 * i].revents, ur = e->pfd[3 + 2 * i].revents;
	if (c->connecting && ur) {
		conn_connected(e, c);
		ur = 0;
	}
	if (c->dead)
		return;
	if ((cr & (POLLIN | POLLHUP | POLLERR)) && conn_read(e, c, &c->up, c->cfd, now) < 0)
		return;
	if (ur & (POLLIN | POLLHUP | POLLERR))
		conn_read(e, c, &c->down, c->ufd, now);
}

/* Run until SIGINT/SIGTERM; 0, or -1 on a fatal poll error. */
static int run(struct emu *e)
{
	for (;;) {
		int64_t now = now_ns();
		if (now >= e->next_drop)
			drop_all(e, now);
		for (size_t i = 0; i < e->nconns; i++)
			conn_flush(e, e->conns[i], now);
		sweep(e);
		int timeout = build_poll(e, now);
		if (poll(e->pfd, 2 + 2 * e->nconns, timeout) < 0 && errno != EINTR) {
			fprintf(stderr, "linkemu: poll failed: %s\n", strerror(errno));
			return -1;
		}
		if (e->pfd[0].revents)
			return 0;
		size_t old = e->nconns;
		now = now_ns();
		for (size_t i = 0; i < old; i++)
			conn_events(e, i, now);
		if (e->pfd[1].revents)
			accept_all(e, now);
	}
}

/* Raise the open-file limit to its hard maximum: each connection takes two. */
static void raise_fd_limit(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/* Turn options into link parameters and open everything; 0 or -1. */
static int emu_init(struct emu *e)
{
	e->t0 = now_ns();
	e->lfd = e->sig[0] = e->sig[1] = -1;
	e->ns_per_byte = e->o.rate_kbit > 0 ? 8e6 / e->o.rate_kbit : 0;
	e->one_way = (int64_t)llround(e->o.rtt_ms * 1e6 / 2);
	e->rto = (int64_t)llround(e->o.rtt_ms * 1e6) > RTO_MIN_NS ? (int64_t)llround(e->o.rtt_ms * 1e6) : RTO_MIN_NS;
	e->loss = e->o.loss_pct / 100;
	e->rng_drop = mix64(e->o.seed ^ UINT64_C(0x5eed0d0905));
	e->next_drop = e->o.drop_every_s > 0 ? e->t0 + (int64_t)(drop_interval(e) * NS) : INT64_MAX;
	e->accept_pause = 0;
	e->conns = calloc(CONN_MAX, sizeof *e->conns);
	e->pfd = calloc(2 + 2 * (size_t)CONN_MAX, sizeof *e->pfd);
	if (!e->conns || !e->pfd) {
		fprintf(stderr, "linkemu: out of memory\n");
		return -1;
	}
	if (setup_signals(e) < 0) {
		fprintf(stderr, "linkemu: cannot set up signal handling: %s\n", strerror(errno));
		return -1;
	}
	raise_fd_limit();
	return open_listener(e);
}

static void print_settings(const struct emu *e)
{
	char drops[128] = "never";
	double first = (double)(e->next_drop - e->t0) / NS;
	if (e->o.drop_every_s > 0 && e->o.drop_jitter_s >= 0)
		snprintf(drops, sizeof drops, "every %g +- %g s (uniform; first in %.3f s)", e->o.drop_every_s,
			 e->o.drop_jitter_s, first);
	else if (e->o.drop_every_s > 0)
		snprintf(drops, sizeof drops, "every %g s on average (exponential; first in %.3f s)",
			 e->o.drop_every_s, first);
	char rate[48] = "unlimited";
	if (e->o.rate_kbit > 0)
		snprintf(rate, sizeof rate, "%g kbit/s", e->o.rate_kbit);
	fprintf(stderr, "linkemu: to %s; rate %s, rtt %g ms, loss %g %%, drops %s, seed %" PRIu64 "\n",
		e->o.to, rate, e->o.rtt_ms, e->o.loss_pct, drops, e->o.seed);
}

static void emu_dispose(struct emu *e)
{
	for (size_t i = 0; i < e->nconns; i++)
		conn_end(e, e->conns[i], "closed at shutdown", 0);
	sweep(e);
	fprintf(stderr, "linkemu: totals: connections %" PRIu64 ", drops %" PRIu64 ", connections cut %" PRIu64
		", delivered up %" PRIu64 " B down %" PRIu64 " B, discarded %" PRIu64
		" B, segments delayed by loss %" PRIu64 "\n",
		e->n_conns, e->n_drops, e->n_cut, e->up_bytes, e->down_bytes, e->discarded, e->n_lost_segs);
	if (e->lfd >= 0)
		close(e->lfd);
	g_sigfd = -1;
	if (e->sig[0] >= 0) {
		close(e->sig[0]);
		close(e->sig[1]);
	}
	free(e->conns);
	free(e->pfd);
}

int main(int argc, char **argv)
{
	struct emu e = { 0 };
	int rc = parse_args(argc, argv, &e.o);
	if (rc > 0) {
		usage(stdout);
		return 0;
	}
	if (rc < 0 || resolve("--listen", e.o.listen, 1, &e.listen_sa, &e.listen_len) < 0 ||
	    resolve("--to", e.o.to, 0, &e.to, &e.to_len) < 0)
		return 2;           /* one line about the argument was printed */
	rc = emu_init(&e);
	if (rc == 0) {
		print_settings(&e);
		rc = run(&e);
	}
	emu_dispose(&e);
	return rc == 0 ? 0 : 1;
}

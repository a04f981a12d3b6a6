/*
 * echo_server.c — the upstream for tests/linkemu/test_linkemu.sh: a tiny
 * TCP server on 127.0.0.1 that serves one connection at a time.
 *
 *   linkemu_echo_server PORT_FILE
 *
 * Listens on a free port, writes it to PORT_FILE, then for each connection
 * reads one command line:
 *   ECHO\n     sends back every following byte until the client's EOF;
 *   SEND N\n   sends N bytes of the pattern `seq -f %015.0f 0 ...` (line i
 *              is i as 15 zero-padded digits and a newline), then closes.
 * A client that goes away mid-way (a link drop) is not an error: the server
 * goes back to accept().  It runs until killed.
 *
 * Test-only: it must never listen on anything but loopback, and never be
 * installed or used by the product.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define CMD_MAX 64

/* Write all of p; 0 or -1. */
static int write_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n, len -= (size_t)n;
	}
	return 0;
}

/* Send the first n bytes of the numbered-line pattern; 0 or -1. */
static int send_pattern(int fd, unsigned long long n)
{
	char buf[16 * 1024];
	unsigned long long line = 0;
	while (n > 0) {
		size_t len = 0;
		while (len + 17 <= sizeof buf && (unsigned long long)len < n)   /* 16 chars + NUL */
			len += (size_t)snprintf(buf + len, 17, "%015llu\n", line++);
		if ((unsigned long long)len > n)
			len = (size_t)n;
		if (write_all(fd, buf, len) < 0)
			return -1;
		n -= len;
	}
	return 0;
}

/* Echo everything until EOF; `pre` holds bytes already read after the command. */
static void echo(int fd, const char *pre, size_t pre_len)
{
	char buf[16 * 1024];
	if (write_all(fd, pre, pre_len) < 0)
		return;
	for (;;) {
		ssize_t n = recv(fd, buf, sizeof buf, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || write_all(fd, buf, (size_t)n) < 0)
			return;
	}
}

/* Read the command line of one connection and serve it. */
static void serve(int fd)
{
	char cmd[CMD_MAX + 1];
	size_t len = 0;
	char *nl = NULL;
	while (!nl && len < CMD_MAX) {
		ssize_t n = recv(fd, cmd + len, CMD_MAX - len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		len += (size_t)n;
		cmd[len] = 0;
		nl = memchr(cmd, '\n', len);
	}
	unsigned long long count;
	if (!nl)
		fprintf(stderr, "echo_server: command line too long\n");
	else if (strncmp(cmd, "ECHO\n", 5) == 0)
		echo(fd, nl + 1, len - (size_t)(nl + 1 - cmd));
	else if (sscanf(cmd, "SEND %llu", &count) == 1)
		send_pattern(fd, count);
	else
		fprintf(stderr, "echo_server: unknown command\n");
}

int main(int argc, char **argv)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof sa;
	int one = 1, lfd = socket(AF_INET, SOCK_STREAM, 0);
	if (argc != 2) {
		fprintf(stderr, "usage: linkemu_echo_server PORT_FILE\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(lfd, 512) < 0 ||
	    getsockname(lfd, (struct sockaddr *)&sa, &len) < 0) {
		fprintf(stderr, "echo_server: cannot listen on 127.0.0.1: %s\n", strerror(errno));
		return 1;
	}
	FILE *f = fopen(argv[1], "w");
	if (!f || fprintf(f, "%u\n", (unsigned)ntohs(sa.sin_port)) < 0 || fclose(f) != 0) {
		fprintf(stderr, "echo_server: cannot write %s\n", argv[1]);
		return 1;
	}
	for (;;) {
		int fd = accept(lfd, NULL, NULL);
		if (fd < 0)
			continue;
		serve(fd);
		close(fd);
	}
}

/* The socket-level load balancing bench's client and server (bench/socklb/socklb.sh).
 *
 *   connect_loop tcp ADDRS PORT N [WARMUP]  N sequential blocking TCP connect()s, each
 *                                           closed at once with a reset; prints the
 *                                           elapsed ns per connection
 *   connect_loop udp ADDRS PORT N [WARMUP]  one unconnected UDP socket: N times sendto of
 *                                           one byte and recvfrom of the answer; prints the
 *                                           elapsed ns per exchange
 *   connect_loop uconnect ADDRS PORT N [WARMUP]
 *                                           N times socket(), connect() and close() of a UDP
 *                                           socket: no packet is sent, so this is the
 *                                           syscalls and the hooks alone; prints ns per
 *                                           socket
 *   connect_loop serve PORT                 accepts and closes TCP connections on PORT and
 *                                           answers every UDP datagram on PORT with itself
 *
 * ADDRS is one IPv4 address or several, comma-separated, taken in turn (as a service's rr
 * spreads connections over its backends, so that a baseline can do the same). WARMUP (default 200) connections or exchanges come first, untimed, so that
 * neighbour entries, caches and the scheduler's maps are warm. The close is a reset
 * (SO_LINGER 0) so that no TIME_WAIT sockets pile up over rounds and exhaust the ephemeral
 * ports; every case pays the same for it. Any failure exits 1: a lost answer or a refused
 * connection must not pass for a fast one. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define MAX_ADDRS 16

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int parse(const char *host, const char *port, struct sockaddr_in *addr)
{
	memset(addr, 0, sizeof(*addr));
	addr->sin_family = AF_INET;
	addr->sin_port = htons(atoi(port));
	if (inet_pton(AF_INET, host, &addr->sin_addr) != 1) {
		fprintf(stderr, "connect_loop: %s is not an IPv4 address\n", host);
		return -1;
	}
	return 0;
}

static int tcp_once(const struct sockaddr_in *to)
{
	struct linger reset = { .l_onoff = 1, .l_linger = 0 };
	/* A lost SYN would be retransmitted after 1 s and pass for a slow connect: fail instead. */
	struct timeval timeout = { .tv_usec = 500000 };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout)) ||
	    connect(fd, (const struct sockaddr *)to, sizeof(*to))) {
		perror("connect_loop: connect (no answer within 0.5 s?)");
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &reset, sizeof(reset));
	close(fd);
	return 0;
}

static int uconnect_once(const struct sockaddr_in *to)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	if (fd < 0 || connect(fd, (const struct sockaddr *)to, sizeof(*to))) {
		perror("connect_loop: connect (udp)");
		return -1;
	}
	close(fd);
	return 0;
}

static int udp_once(int fd, const struct sockaddr_in *to)
{
	char byte = 'x', answer[64];

	if (sendto(fd, &byte, 1, 0, (const struct sockaddr *)to, sizeof(*to)) != 1) {
		perror("connect_loop: sendto");
		return -1;
	}
	if (recvfrom(fd, answer, sizeof(answer), 0, NULL, NULL) != 1) {
		perror("connect_loop: recvfrom (no answer within 1 s)");
		return -1;
	}
	return 0;
}

enum mode { TCP, UDP, UCONNECT };

static int client(enum mode mode, const struct sockaddr_in *addrs, int count, long n, long warmup)
{
	struct timeval timeout = { .tv_sec = 1 };
	long long start = 0;
	int fd = -1;

	if (mode == UDP) {
		fd = socket(AF_INET, SOCK_DGRAM, 0);
		if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout))) {
			perror("connect_loop: socket");
			return 1;
		}
	}
	for (long i = -warmup; i < n; i++) {
		if (i == 0)
			start = now_ns();
		const struct sockaddr_in *to = &addrs[(i + warmup) % count];

		if (mode == TCP ? tcp_once(to) : mode == UDP ? udp_once(fd, to) : uconnect_once(to))
			return 1;
	}
	printf("%.1f\n", (double)(now_ns() - start) / n);
	return 0;
}

static int serve(const char *port)
{
	struct sockaddr_in any;
	struct pollfd fds[2];
	int on = 1;

	parse("0.0.0.0", port, &any);
	fds[0].fd = socket(AF_INET, SOCK_STREAM, 0);
	fds[1].fd = socket(AF_INET, SOCK_DGRAM, 0);
	fds[0].events = fds[1].events = POLLIN;
	if (fds[0].fd < 0 || fds[1].fd < 0 || setsockopt(fds[0].fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) ||
	    bind(fds[0].fd, (struct sockaddr *)&any, sizeof(any)) || listen(fds[0].fd, 4096) ||
	    bind(fds[1].fd, (struct sockaddr *)&any, sizeof(any))) {
		perror("connect_loop serve");
		return 1;
	}
	for (;;) {
		if (poll(fds, 2, -1) < 0)
			continue;
		if (fds[0].revents & POLLIN) {
			int c = accept(fds[0].fd, NULL, NULL);

			if (c >= 0)
				close(c);
		}
		if (fds[1].revents & POLLIN) {
			struct sockaddr_in peer;
			socklen_t len = sizeof(peer);
			char buf[2048];
			ssize_t got = recvfrom(fds[1].fd, buf, sizeof(buf), 0, (struct sockaddr *)&peer, &len);

			if (got > 0)
				sendto(fds[1].fd, buf, got, 0, (struct sockaddr *)&peer, len);
		}
	}
}

int main(int argc, char **argv)
{
	struct sockaddr_in addrs[MAX_ADDRS];
	int count = 0;
	long n, warmup;

	if (argc == 3 && !strcmp(argv[1], "serve"))
		return serve(argv[2]);
	if ((argc == 5 || argc == 6) &&
	    (!strcmp(argv[1], "tcp") || !strcmp(argv[1], "udp") || !strcmp(argv[1], "uconnect"))) {
		enum mode mode = !strcmp(argv[1], "tcp") ? TCP : !strcmp(argv[1], "udp") ? UDP : UCONNECT;

		n = atol(argv[4]);
		warmup = argc == 6 ? atol(argv[5]) : 200;
		if (n <= 0 || warmup < 0)
			return 2;
		for (char *host = strtok(argv[2], ","); host; host = strtok(NULL, ","))
			if (count == MAX_ADDRS || parse(host, argv[3], &addrs[count++]))
				return 2;
		if (!count)
			return 2;
		return client(mode, addrs, count, n, warmup);
	}
	fprintf(stderr, "usage: connect_loop tcp|udp|uconnect ADDR[,ADDR...] PORT N [WARMUP] | connect_loop serve PORT\n");
	return 2;
}

/* A client that shows what an application sees of its peer, for the socket hooks' tests.
 *
 *   sock_probe tcp ADDR PORT        connects, prints "peer A:P" (getpeername), sends an
 *                                   HTTP/1.0 GET / and prints the answer's body
 *   sock_probe udp ADDR PORT COUNT [MS]
 *                                   one unconnected socket: COUNT times sendto(ADDR:PORT)
 *                                   and recvfrom, printing "from A:P ANSWER" for each, MS
 *                                   milliseconds apart (default 0)
 *
 * Both address families (an IPv6 ADDR may be ::ffff:a.b.c.d). Waits 3 s for an answer;
 * exit 1 on any failure, with the failing call named. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "socket_address.h"

static void print_address(const char *label, const struct sockaddr_storage *addr)
{
	char text[INET6_ADDRSTRLEN];

	if (addr->ss_family == AF_INET) {
		const struct sockaddr_in *a4 = (const struct sockaddr_in *)addr;

		inet_ntop(AF_INET, &a4->sin_addr, text, sizeof(text));
		printf("%s %s:%d", label, text, ntohs(a4->sin_port));
	} else {
		const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)addr;

		inet_ntop(AF_INET6, &a6->sin6_addr, text, sizeof(text));
		printf("%s [%s]:%d", label, text, ntohs(a6->sin6_port));
	}
}

static int open_socket(int family, int type)
{
	struct timeval timeout = { .tv_sec = 3 };
	int fd = socket(family, type, 0);

	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout))) {
		perror("sock_probe socket");
		return -1;
	}
	return fd;
}

static int tcp(const char *host, int port)
{
	static const char request[] = "GET / HTTP/1.0\r\n\r\n";
	struct sockaddr_storage addr, peer;
	socklen_t len, peer_len = sizeof(peer);
	char buf[4096];
	size_t used = 0;
	ssize_t n;
	char *body;
	int fd;

	if (parse_address("sock_probe", host, port, &addr, &len))
		return 2;
	fd = open_socket(addr.ss_family, SOCK_STREAM);
	if (fd < 0)
		return 1;
	if (connect(fd, (struct sockaddr *)&addr, len)) {
		perror("sock_probe connect");
		return 1;
	}
	if (getpeername(fd, (struct sockaddr *)&peer, &peer_len)) {
		perror("sock_probe getpeername");
		return 1;
	}
	print_address("peer", &peer);
	printf("\n");
	if (write(fd, request, sizeof(request) - 1) != sizeof(request) - 1) {
		perror("sock_probe write");
		return 1;
	}
	while (used < sizeof(buf) - 1 && (n = read(fd, buf + used, sizeof(buf) - 1 - used)) > 0)
		used += n;
	buf[used] = 0;
	body = strstr(buf, "\r\n\r\n");
	printf("%s", body ? body + 4 : buf);
	close(fd);
	return 0;
}

static int udp(const char *host, int port, int count, int interval_ms)
{
	struct sockaddr_storage addr, from;
	socklen_t len, from_len;
	char buf[256];
	ssize_t n;
	int fd;

	if (parse_address("sock_probe", host, port, &addr, &len))
		return 2;
	fd = open_socket(addr.ss_family, SOCK_DGRAM);
	if (fd < 0)
		return 1;
	for (int i = 0; i < count; i++) {
		if (sendto(fd, "probe", 5, 0, (struct sockaddr *)&addr, len) != 5) {
			perror("sock_probe sendto");
			return 1;
		}
		from_len = sizeof(from);
		n = recvfrom(fd, buf, sizeof(buf) - 1, 0, (struct sockaddr *)&from, &from_len);
		if (n < 0) {
			perror("sock_probe recvfrom");
			return 1;
		}
		buf[n] = 0;
		print_address("from", &from);
		printf(" %s", buf);
		if (interval_ms > 0 && i + 1 < count)
			usleep(interval_ms * 1000);
	}
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 4 && !strcmp(argv[1], "tcp"))
		return tcp(argv[2], atoi(argv[3]));
	if ((argc == 5 || argc == 6) && !strcmp(argv[1], "udp"))
		return udp(argv[2], atoi(argv[3]), atoi(argv[4]), argc == 6 ? atoi(argv[5]) : 0);
	fprintf(stderr, "usage: sock_probe tcp ADDR PORT | udp ADDR PORT COUNT [MS]\n");
	return 2;
}

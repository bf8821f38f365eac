/* A UDP server and client for the netns tests and the demo.
 *
 *   udp_echo serve PORT NAME         answers every datagram with "NAME LENGTH\n" from the
 *                                    address it was sent to; logs the sender's on stdout
 *   udp_echo send ADDR PORT LENGTH   sends one LENGTH-byte datagram, prints the answer
 *   udp_echo ping ADDR PORT COUNT MS one socket (one flow): COUNT datagrams MS apart, prints
 *                                    "answered N of COUNT" and the names that answered
 *
 * Both address families; the server listens on [::] (dual-stack). The client waits 3 s for
 * the answer and exits 1 without one. */
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

/* Answers from the address the datagram was sent to (as DNS servers do), so that a client
 * behind direct routing, which sent to the VIP the backend holds, gets its answer from the
 * VIP; and logs each client's address on stdout, one line a datagram. */
static int serve(int port, const char *name)
{
	static char buf[65536];
	struct sockaddr_in6 addr = { .sin6_family = AF_INET6, .sin6_port = htons(port), .sin6_addr = in6addr_any };
	int fd = socket(AF_INET6, SOCK_DGRAM, 0), off = 0, on = 1;

	if (fd < 0 || setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off)) ||
	    setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &on, sizeof(on)) ||
	    bind(fd, (struct sockaddr *)&addr, sizeof(addr))) {
		perror("udp_echo serve");
		return 1;
	}
	for (;;) {
		struct sockaddr_in6 peer;
		union {
			struct cmsghdr align;
			char bytes[CMSG_SPACE(sizeof(struct in6_pktinfo))];
		} control;
		struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
		struct msghdr msg = {
			.msg_name = &peer, .msg_namelen = sizeof(peer), .msg_iov = &iov, .msg_iovlen = 1,
			.msg_control = &control, .msg_controllen = sizeof(control),
		};
		struct cmsghdr *cmsg;
		struct in6_pktinfo *to = NULL;
		char answer[128], peer_text[INET6_ADDRSTRLEN];
		ssize_t n = recvmsg(fd, &msg, 0);

		if (n < 0)
			continue;
		for (cmsg = CMSG_FIRSTHDR(&msg); cmsg; cmsg = CMSG_NXTHDR(&msg, cmsg))
			if (cmsg->cmsg_level == IPPROTO_IPV6 && cmsg->cmsg_type == IPV6_PKTINFO)
				to = (struct in6_pktinfo *)CMSG_DATA(cmsg);
		inet_ntop(AF_INET6, &peer.sin6_addr, peer_text, sizeof(peer_text));
		printf("%s\n", strncmp(peer_text, "::ffff:", 7) ? peer_text : peer_text + 7);
		fflush(stdout);
		iov.iov_base = answer;
		iov.iov_len = snprintf(answer, sizeof(answer), "%s %zd\n", name, n);
		if (to) {
			to->ipi6_ifindex = 0; /* the route decides the interface */
			msg.msg_controllen = CMSG_SPACE(sizeof(struct in6_pktinfo));
		} else {
			msg.msg_control = NULL;
			msg.msg_controllen = 0;
		}
		sendmsg(fd, &msg, 0);
	}
}

static int ping(const char *host, int port, int count, int interval_ms)
{
	struct sockaddr_storage addr;
	struct timeval timeout = { .tv_sec = 1 };
	char buf[256], last[128] = "";
	socklen_t len;
	int fd, answered = 0;

	if (parse_address("udp_echo", host, port, &addr, &len))
		return 2;
	fd = socket(addr.ss_family, SOCK_DGRAM, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout)) ||
	    connect(fd, (struct sockaddr *)&addr, len)) {
		perror("udp_echo ping");
		return 1;
	}
	for (int i = 0; i < count; i++) {
		ssize_t n;

		if (send(fd, "ping", 4, 0) == 4 && (n = recv(fd, buf, sizeof(buf) - 1, 0)) > 0) {
			buf[n] = 0;
			answered++;
			if (strcmp(buf, last)) {
				printf("from %s", buf);
				snprintf(last, sizeof(last), "%s", buf);
			}
		}
		usleep(interval_ms * 1000);
	}
	printf("answered %d of %d\n", answered, count);
	return answered == count ? 0 : 1;
}

static int send_one(const char *host, int port, int length)
{
	static char buf[65536];
	struct sockaddr_storage addr;
	struct timeval timeout = { .tv_sec = 3 };
	socklen_t len;
	int fd;
	ssize_t n;

	if (parse_address("udp_echo", host, port, &addr, &len))
		return 2;
	if (length < 0 || length > (int)sizeof(buf)) {
		fprintf(stderr, "udp_echo send: length %d out of range\n", length);
		return 2;
	}
	fd = socket(addr.ss_family, SOCK_DGRAM, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout))) {
		perror("udp_echo send");
		return 1;
	}
	memset(buf, 'x', length);
	if (sendto(fd, buf, length, 0, (struct sockaddr *)&addr, len) != length) {
		perror("udp_echo sendto");
		return 1;
	}
	n = recv(fd, buf, sizeof(buf) - 1, 0);
	if (n < 0) {
		perror("udp_echo recv");
		return 1;
	}
	buf[n] = 0;
	fputs(buf, stdout);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "serve"))
		return serve(atoi(argv[2]), argv[3]);
	if (argc == 5 && !strcmp(argv[1], "send"))
		return send_one(argv[2], atoi(argv[3]), atoi(argv[4]));
	if (argc == 6 && !strcmp(argv[1], "ping"))
		return ping(argv[2], atoi(argv[3]), atoi(argv[4]), atoi(argv[5]));
	fprintf(stderr, "usage: udp_echo serve PORT NAME | send ADDR PORT LENGTH | ping ADDR PORT COUNT MS\n");
	return 2;
}

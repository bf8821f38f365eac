/* A flood from spoofed sources, for the connection table's flood tests and bench. It is run
 * inside the test's client network namespace: its packets go to the test's own VIP, and
 * their answers to addresses no namespace holds, so they die in the test's namespaces.
 *
 *   flood syn|udp DST_IPV4 DST_PORT COUNT PPS
 *
 * COUNT packets, PPS a second (0: as fast as it can), each from another source in
 * 198.18.0.0/15 (RFC 2544's benchmarking range) and another source port: every one is a new
 * connection that never answers. Prints "sent N in S s". Written here rather than taken from
 * a package: hping3 is not in Debian 12, and the tests need exact counts and a rate. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/tcp.h>
#include <netinet/udp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct pseudo_header {
	uint32_t saddr, daddr;
	uint8_t zero, proto;
	uint16_t length;
};

static uint32_t sum16(const void *data, size_t len, uint32_t sum)
{
	const uint8_t *p = data;

	for (; len > 1; p += 2, len -= 2)
		sum += (uint32_t)p[0] << 8 | p[1];
	if (len)
		sum += (uint32_t)p[0] << 8;
	return sum;
}

static uint16_t fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return htons((uint16_t)~sum);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	unsigned char packet[sizeof(struct iphdr) + sizeof(struct tcphdr) + 8];
	struct iphdr *ip = (struct iphdr *)packet;
	struct sockaddr_in to = { .sin_family = AF_INET };
	int syn, fd, one = 1;
	long count, pps;
	uint16_t port;
	uint32_t seed;
	double start;

	if (argc != 6 || (strcmp(argv[1], "syn") && strcmp(argv[1], "udp")) || inet_pton(AF_INET, argv[2], &to.sin_addr) != 1) {
		fprintf(stderr, "usage: flood syn|udp DST_IPV4 DST_PORT COUNT PPS\n");
		return 2;
	}
	syn = !strcmp(argv[1], "syn");
	port = (uint16_t)atoi(argv[3]);
	count = atol(argv[4]);
	pps = atol(argv[5]);
	fd = socket(AF_INET, SOCK_RAW, IPPROTO_RAW);
	if (fd < 0 || setsockopt(fd, IPPROTO_IP, IP_HDRINCL, &one, sizeof(one))) {
		perror("flood: raw socket");
		return 1;
	}
	if (getrandom(&seed, sizeof(seed), 0) != sizeof(seed))
		seed = (uint32_t)getpid();
	start = now();
	for (long i = 0; i < count; i++) {
		size_t l4len = syn ? sizeof(struct tcphdr) : sizeof(struct udphdr) + 8;
		uint32_t r = seed + (uint32_t)i * 2654435761u; /* distinct for 2^32 packets */
		struct pseudo_header ph;
		uint32_t sum;

		memset(packet, 0, sizeof(packet));
		ip->version = 4;
		ip->ihl = 5;
		ip->ttl = 64;
		ip->protocol = syn ? IPPROTO_TCP : IPPROTO_UDP;
		ip->tot_len = htons((uint16_t)(sizeof(struct iphdr) + l4len));
		ip->saddr = htonl(0xc6120000u | (r & 0x1ffff)); /* 198.18.0.0/15 */
		ip->daddr = to.sin_addr.s_addr;
		ph = (struct pseudo_header){ ip->saddr, ip->daddr, 0, ip->protocol, htons((uint16_t)l4len) };
		if (syn) {
			struct tcphdr *tcp = (struct tcphdr *)(ip + 1);

			tcp->source = htons((uint16_t)(1024 + (r >> 17) % 60000));
			tcp->dest = htons(port);
			tcp->seq = htonl(r);
			tcp->doff = 5;
			tcp->syn = 1;
			tcp->window = htons(64240);
			sum = sum16(&ph, sizeof(ph), 0);
			tcp->check = fold(sum16(tcp, l4len, sum));
		} else {
			struct udphdr *udp = (struct udphdr *)(ip + 1);

			udp->source = htons((uint16_t)(1024 + (r >> 17) % 60000));
			udp->dest = htons(port);
			udp->len = htons((uint16_t)l4len);
			memcpy(udp + 1, "scanning", 8);
			sum = sum16(&ph, sizeof(ph), 0);
			udp->check = fold(sum16(udp, l4len, sum));
		}
		if (sendto(fd, packet, sizeof(struct iphdr) + l4len, 0, (struct sockaddr *)&to, sizeof(to)) < 0) {
			perror("flood: sendto");
			return 1;
		}
		if (pps > 0) {
			/* Sleeps once ahead by a millisecond: bursts of about PPS/1000 packets. */
			double ahead = start + (double)(i + 1) / pps - now();

			if (ahead > 0.001)
				usleep((useconds_t)(ahead * 1e6));
		}
	}
	printf("sent %ld in %.2f s\n", count, now() - start);
	return 0;
}

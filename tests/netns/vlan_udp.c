/* An 802.1Q-tagged UDP exchange over a packet socket, for the netns tests: this kernel
 * has no VLAN devices, so the client writes the tagged frame itself.
 *
 *   vlan_udp IFACE VID DST_MAC SRC_IP DST_IP DST_PORT LENGTH
 *
 * sends one LENGTH-byte IPv4 UDP datagram tagged with VID to DST_MAC, waits up to 3 s for
 * the answer (from DST_IP:DST_PORT to SRC_IP at our port) and prints "vid=N PAYLOAD", N
 * being the VID the answer was tagged with (0: untagged). Exit 1 without an answer. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static unsigned short checksum(const void *data, size_t len, unsigned int sum)
{
	const unsigned char *p = data;

	for (; len > 1; p += 2, len -= 2)
		sum += (p[0] << 8) | p[1];
	if (len)
		sum += p[0] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return htons(~sum & 0xffff);
}

static int parse_mac(const char *text, unsigned char *mac)
{
	return sscanf(text, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &mac[0], &mac[1], &mac[2], &mac[3], &mac[4], &mac[5]) == 6 ? 0 : -1;
}

/* Ethernet + 802.1Q + IPv4 + UDP + payload; returns the frame's length. */
static size_t build(unsigned char *frame, const unsigned char *dst_mac, const unsigned char *src_mac, int vid,
		    struct in_addr src, struct in_addr dst, int sport, int dport, int length)
{
	struct iphdr *ip = (struct iphdr *)(frame + 18);
	struct udphdr *udp = (struct udphdr *)(ip + 1);
	unsigned char *payload = (unsigned char *)(udp + 1);
	unsigned int pseudo = 0;

	memcpy(frame, dst_mac, 6);
	memcpy(frame + 6, src_mac, 6);
	frame[12] = 0x81, frame[13] = 0x00;
	frame[14] = (vid >> 8) & 0x0f, frame[15] = vid & 0xff;
	frame[16] = 0x08, frame[17] = 0x00;
	memset(ip, 0, sizeof(*ip));
	ip->version = 4, ip->ihl = 5, ip->ttl = 64, ip->protocol = IPPROTO_UDP;
	ip->tot_len = htons(sizeof(*ip) + sizeof(*udp) + length);
	ip->id = htons(rand() & 0xffff);
	ip->saddr = src.s_addr, ip->daddr = dst.s_addr;
	ip->check = checksum(ip, sizeof(*ip), 0);
	udp->source = htons(sport), udp->dest = htons(dport);
	udp->len = htons(sizeof(*udp) + length);
	udp->check = 0;
	memset(payload, 'x', length);
	pseudo += ntohs(src.s_addr & 0xffff) + ntohs(src.s_addr >> 16);
	pseudo += ntohs(dst.s_addr & 0xffff) + ntohs(dst.s_addr >> 16);
	pseudo += IPPROTO_UDP + sizeof(*udp) + length;
	udp->check = checksum(udp, sizeof(*udp) + length, pseudo);
	if (!udp->check)
		udp->check = 0xffff;
	return 18 + sizeof(*ip) + sizeof(*udp) + length;
}

int main(int argc, char **argv)
{
	static unsigned char frame[2048], buf[2048];
	unsigned char dst_mac[6];
	struct in_addr src, dst;
	struct ifreq ifr = {};
	struct sockaddr_ll ll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL) };
	struct timeval timeout = { .tv_sec = 0, .tv_usec = 200000 };
	int fd, on = 1, vid, dport, length, sport;
	unsigned int seed;
	size_t len;
	time_t deadline;

	if (argc != 8 || parse_mac(argv[3], dst_mac) || !inet_aton(argv[4], &src) || !inet_aton(argv[5], &dst)) {
		fprintf(stderr, "usage: vlan_udp IFACE VID DST_MAC SRC_IP DST_IP DST_PORT LENGTH\n");
		return 2;
	}
	vid = atoi(argv[2]), dport = atoi(argv[6]), length = atoi(argv[7]);
	if (length < 0 || length > 1400) {
		fprintf(stderr, "vlan_udp: LENGTH must be 0..1400\n");
		return 2;
	}
	/* Each run a flow of its own: a seed of pid ^ time repeats across runs a second apart
	 * (pid + 1 ^ t + 1 can equal pid ^ t), and a repeated port is the earlier run's flow,
	 * answered by the same backend. */
	if (getrandom(&seed, sizeof(seed), 0) != sizeof(seed))
		seed = getpid() ^ time(NULL);
	srand(seed);
	sport = 20000 + rand() % 30000;

	fd = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
	strncpy(ifr.ifr_name, argv[1], IFNAMSIZ - 1);
	if (fd < 0 || ioctl(fd, SIOCGIFHWADDR, &ifr) || ioctl(fd, SIOCGIFINDEX, &ifr)) {
		perror("vlan_udp");
		return 2;
	}
	ll.sll_ifindex = ifr.ifr_ifindex;
	if (bind(fd, (struct sockaddr *)&ll, sizeof(ll)) ||
	    setsockopt(fd, SOL_PACKET, PACKET_AUXDATA, &on, sizeof(on)) ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout))) {
		perror("vlan_udp");
		return 2;
	}
	/* SIOCGIFINDEX overwrote the union that held the MAC: ask again. */
	if (ioctl(fd, SIOCGIFHWADDR, &ifr)) {
		perror("vlan_udp");
		return 2;
	}
	len = build(frame, dst_mac, (unsigned char *)ifr.ifr_hwaddr.sa_data, vid, src, dst, sport, dport, length);
	if (send(fd, frame, len, 0) != (ssize_t)len) {
		perror("vlan_udp send");
		return 2;
	}

	deadline = time(NULL) + 3;
	while (time(NULL) <= deadline) {
		union {
			struct cmsghdr align;
			char bytes[CMSG_SPACE(sizeof(struct tpacket_auxdata))];
		} control;
		struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
		struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = &control, .msg_controllen = sizeof(control) };
		struct cmsghdr *cmsg;
		ssize_t n = recvmsg(fd, &msg, 0);
		unsigned char *l3 = buf + 14;
		int got_vid = 0;
		struct iphdr *ip;
		struct udphdr *udp;

		if (n < 14)
			continue;
		/* The kernel takes the tag out of the frame and reports it beside; a tag still in
		 * the frame is read there. */
		for (cmsg = CMSG_FIRSTHDR(&msg); cmsg; cmsg = CMSG_NXTHDR(&msg, cmsg)) {
			struct tpacket_auxdata *aux = (struct tpacket_auxdata *)CMSG_DATA(cmsg);

			if (cmsg->cmsg_level == SOL_PACKET && cmsg->cmsg_type == PACKET_AUXDATA &&
			    (aux->tp_status & TP_STATUS_VLAN_VALID))
				got_vid = aux->tp_vlan_tci & 0x0fff;
		}
		if (buf[12] == 0x81 && buf[13] == 0x00 && n >= 18) {
			got_vid = ((buf[14] << 8) | buf[15]) & 0x0fff;
			l3 = buf + 18;
		} else if (!(buf[12] == 0x08 && buf[13] == 0x00)) {
			continue;
		}
		ip = (struct iphdr *)l3;
		udp = (struct udphdr *)(l3 + 20);
		if ((unsigned char *)(udp + 1) > buf + n || ip->protocol != IPPROTO_UDP || ip->ihl != 5 ||
		    ip->saddr != dst.s_addr || ip->daddr != src.s_addr || ntohs(udp->source) != dport || ntohs(udp->dest) != sport)
			continue;
		printf("vid=%d %.*s", got_vid, (int)(n - ((unsigned char *)(udp + 1) - buf)), (char *)(udp + 1));
		return 0;
	}
	fprintf(stderr, "vlan_udp: no answer from %s:%d within 3 s\n", argv[5], dport);
	return 1;
}

/* The throughput bench's UDP generator. It writes whole Ethernet frames on an AF_PACKET
 * socket, so that source addresses can be anything (the client netns need not own them),
 * in sendmmsg batches with PACKET_QDISC_BYPASS (straight to the veth's xmit, no qdisc).
 * Frames are 60 bytes (IPv4, UDP, 18 bytes of payload), checksums complete.
 *
 *   gen -i IF -s SRCMAC -d DSTMAC -m new|established -S SRC/COUNT -D DST/COUNT -p DPORT
 *       [-t SECONDS] [-w WARMUP] [-o OFFSET] [-c SINK_MAP_ID] [-C LB_CPU] [-b BACKOFF_US]
 *
 * Packet j (j = OFFSET, OFFSET+1, ...) in mode new: source address SRC + j % COUNT,
 * source port 1024 + (j / COUNT) % 64512, destination DST + j % COUNT (of -D): every
 * packet a 5-tuple not sent before, as long as the offsets of successive runs continue
 * (gen prints next=). Mode established: packet OFFSET over and over (one flow).
 *
 * It sends for WARMUP seconds (default 1), then measures for SECONDS (default 5): the
 * frames it sent in that window and, with -c, how many arrived at the backend in the
 * same window (the sink's per-CPU counters, read by map id, summed); with -C, how busy
 * that CPU was in the window (/proc/stat: busy = not idle; user = time in user space, which
 * the lb's work never is: another process on it). One line of output:
 *   sent_pps=... recv_pps=... other_pps=... refused_pps=... lb_busy=... lb_user=... sent=... recv=...
 *   seconds=... next=...
 * (refused: frames the veth would not take because the receiver's ring was full, i.e. the
 * lb is saturated; not in sent). */
#define _GNU_SOURCE /* sendmmsg */
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 64
#define PAYLOAD 18
#define FRAME (sizeof(struct ether_header) + sizeof(struct iphdr) + sizeof(struct udphdr) + PAYLOAD)

static uint8_t frames[BATCH][FRAME];

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint32_t sum16(const void *p, size_t n, uint32_t sum)
{
	const uint16_t *w = p;

	for (; n > 1; n -= 2)
		sum += *w++;
	if (n)
		sum += *(const uint8_t *)w;
	return sum;
}

static uint16_t fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ~sum;
}

static void parse_mac(const char *s, uint8_t *mac)
{
	if (sscanf(s, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &mac[0], &mac[1], &mac[2], &mac[3], &mac[4], &mac[5]) != 6) {
		fprintf(stderr, "gen: bad MAC %s\n", s);
		exit(2);
	}
}

/* "A.B.C.D/COUNT": a base address (host order) and how many consecutive addresses. */
static void parse_range(const char *s, uint32_t *base, uint32_t *count)
{
	char addr[32];
	struct in_addr a;

	if (sscanf(s, "%31[0-9.]/%u", addr, count) != 2 || !inet_aton(addr, &a) || *count == 0) {
		fprintf(stderr, "gen: bad range %s (A.B.C.D/COUNT)\n", s);
		exit(2);
	}
	*base = ntohl(a.s_addr);
}

struct spec {
	uint32_t src, src_count, dst, dst_count;
	uint16_t dport;
	int established;
};

/* Fills frame f for packet j: addresses, ports and both checksums. */
static void fill(uint8_t *f, const struct spec *sp, uint64_t j)
{
	struct iphdr *ip = (struct iphdr *)(f + sizeof(struct ether_header));
	struct udphdr *udp = (struct udphdr *)(ip + 1);
	uint32_t sum;

	ip->saddr = htonl(sp->src + j % sp->src_count);
	ip->daddr = htonl(sp->dst + j % sp->dst_count);
	udp->source = htons(1024 + (j / sp->src_count) % 64512);
	ip->check = 0;
	ip->check = fold(sum16(ip, sizeof(*ip), 0));
	udp->check = 0;
	sum = sum16(&ip->saddr, 8, htons(IPPROTO_UDP) + udp->len);
	udp->check = fold(sum16(udp, sizeof(*udp) + PAYLOAD, sum));
	if (!udp->check)
		udp->check = 0xffff;
}

/* The sink's counters summed over CPUs: [0] UDP to 8080, [1] other UDP. */
static void read_sink(int fd, int ncpus, uint64_t out[2])
{
	uint64_t values[ncpus];

	for (uint32_t key = 0; key < 2; key++) {
		out[key] = 0;
		if (fd < 0)
			continue;
		if (bpf_map_lookup_elem(fd, &key, values)) {
			perror("gen: sink map lookup");
			exit(1);
		}
		for (int c = 0; c < ncpus; c++)
			out[key] += values[c];
	}
}

/* CPU cpu's busy (not idle nor iowait) and user jiffies from /proc/stat. */
static void read_cpu(int cpu, unsigned long long *busy, unsigned long long *user)
{
	char line[256], name[16];
	FILE *f = fopen("/proc/stat", "r");

	*busy = *user = 0;
	snprintf(name, sizeof(name), "cpu%d ", cpu);
	while (f && cpu >= 0 && fgets(line, sizeof(line), f)) {
		unsigned long long v[8] = {0};

		if (strncmp(line, name, strlen(name)))
			continue;
		sscanf(line + strlen(name), "%llu %llu %llu %llu %llu %llu %llu %llu",
		       &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]);
		*user = v[0] + v[1];
		*busy = v[0] + v[1] + v[2] + v[5] + v[6] + v[7];
	}
	if (f)
		fclose(f);
}

int main(int argc, char **argv)
{
	const char *ifname = NULL, *mode = "new";
	uint8_t smac[6] = {0}, dmac[6] = {0};
	struct spec sp = {0};
	double seconds = 5, warmup = 1, backoff = 100e-6;
	uint64_t j = 0;
	int map_id = -1, map_fd = -1, lb_cpu = -1, ncpus = libbpf_num_possible_cpus(), opt, fd, one = 1, sndbuf = 64 << 20;
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	struct sockaddr_ll ll = { .sll_family = AF_PACKET, .sll_halen = 6 };

	while ((opt = getopt(argc, argv, "i:s:d:m:S:D:p:t:w:o:c:C:b:")) != -1) {
		switch (opt) {
		case 'i': ifname = optarg; break;
		case 's': parse_mac(optarg, smac); break;
		case 'd': parse_mac(optarg, dmac); break;
		case 'm': mode = optarg; break;
		case 'S': parse_range(optarg, &sp.src, &sp.src_count); break;
		case 'D': parse_range(optarg, &sp.dst, &sp.dst_count); break;
		case 'p': sp.dport = atoi(optarg); break;
		case 't': seconds = atof(optarg); break;
		case 'w': warmup = atof(optarg); break;
		case 'o': j = strtoull(optarg, NULL, 10); break;
		case 'c': map_id = atoi(optarg); break;
		case 'C': lb_cpu = atoi(optarg); break;
		case 'b': backoff = atof(optarg) / 1e6; break;
		default: goto usage;
		}
	}
	sp.established = !strcmp(mode, "established");
	if (!ifname || !sp.src_count || !sp.dst_count || !sp.dport || (!sp.established && strcmp(mode, "new")))
		goto usage;

	ll.sll_ifindex = if_nametoindex(ifname);
	memcpy(ll.sll_addr, dmac, 6);
	/* Protocol 0: a send-only socket, so that no received frame is ever copied to it. */
	fd = socket(AF_PACKET, SOCK_RAW, 0);
	/* A large send buffer: frames the stack has queued but not yet freed count against it,
	 * and with the default (about 270 frames) gen would wait on it, not on the lb. */
	if (fd < 0 || !ll.sll_ifindex || bind(fd, (struct sockaddr *)&ll, sizeof(ll)) ||
	    setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one)) ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf, sizeof(sndbuf))) {
		perror("gen: AF_PACKET socket");
		return 1;
	}
	if (map_id >= 0 && (map_fd = bpf_map_get_fd_by_id(map_id)) < 0) {
		perror("gen: sink map");
		return 1;
	}

	for (int k = 0; k < BATCH; k++) {
		struct ether_header *eth = (struct ether_header *)frames[k];
		struct iphdr *ip = (struct iphdr *)(eth + 1);
		struct udphdr *udp = (struct udphdr *)(ip + 1);

		memcpy(eth->ether_dhost, dmac, 6);
		memcpy(eth->ether_shost, smac, 6);
		eth->ether_type = htons(ETHERTYPE_IP);
		*ip = (struct iphdr){ .version = 4, .ihl = 5, .ttl = 64, .protocol = IPPROTO_UDP,
				      .tot_len = htons(FRAME - sizeof(*eth)) };
		udp->dest = htons(sp.dport);
		udp->len = htons(sizeof(*udp) + PAYLOAD);
		memset(udp + 1, 'x', PAYLOAD);
		fill(frames[k], &sp, j);
		iov[k] = (struct iovec){ frames[k], FRAME };
		msgs[k] = (struct mmsghdr){ .msg_hdr = { .msg_iov = &iov[k], .msg_iovlen = 1 } };
	}

	double start = now(), t0 = 0, t1 = 0;
	unsigned long long busy0 = 0, busy1 = 0, user0 = 0, user1 = 0;
	long hz = sysconf(_SC_CLK_TCK);
	uint64_t sent = 0, sent0 = 0, refused = 0, refused0 = 0, sink0[2] = {0}, sink1[2] = {0};
	int measuring = 0;
	for (;;) {
		if (!sp.established)
			for (int k = 0; k < BATCH; k++)
				fill(frames[k], &sp, j++);
		int n = sendmmsg(fd, msgs, BATCH, 0);
		/* ENOBUFS: the veth dropped a frame (its peer's ring is full, the receiver is
		 * saturated). sendmmsg stops at that frame; it is not counted as sent. */
		if (n < 0 && errno != ENOBUFS) {
			perror("gen: sendmmsg");
			return 1;
		}
		sent += n > 0 ? n : 0;
		refused += n < BATCH;
		double t = now();
		/* Refused: wait a little (BACKOFF_US, 100 by default) before trying again. Hammering
		 * a full ring makes its cache lines bounce between gen's CPU and the lb's, which
		 * slowed the minimal forwarder from 1.5 to 0.4 Mpps here; 256 frames of ring take
		 * longer than 100 us to drain at these rates, so the lb does not run dry. */
		if (n < BATCH)
			while (now() - t < backoff)
				;
		if (!measuring && t - start >= warmup) {
			read_sink(map_fd, ncpus, sink0);
			read_cpu(lb_cpu, &busy0, &user0);
			t0 = now();
			sent0 = sent;
			refused0 = refused;
			measuring = 1;
		} else if (measuring && t - t0 >= seconds) {
			read_sink(map_fd, ncpus, sink1);
			read_cpu(lb_cpu, &busy1, &user1);
			t1 = now();
			break;
		}
	}
	double dt = t1 - t0;
	printf("sent_pps=%.0f recv_pps=%.0f other_pps=%.0f refused_pps=%.0f lb_busy=%.2f lb_user=%.2f sent=%llu recv=%llu seconds=%.3f next=%llu\n",
	       (sent - sent0) / dt, (sink1[0] - sink0[0]) / dt, (sink1[1] - sink0[1]) / dt, (refused - refused0) / dt,
	       (double)(busy1 - busy0) / hz / dt, (double)(user1 - user0) / hz / dt,
	       (unsigned long long)(sent - sent0), (unsigned long long)(sink1[0] - sink0[0]), dt,
	       (unsigned long long)j);
	return 0;

usage:
	fprintf(stderr, "usage: gen -i IF -s SRCMAC -d DSTMAC -m new|established -S SRC/COUNT -D DST/COUNT -p DPORT\n"
			"           [-t SECONDS] [-w WARMUP] [-o OFFSET] [-c SINK_MAP_ID] [-C LB_CPU] [-b BACKOFF_US]\n");
	return 2;
}

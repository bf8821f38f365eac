/* Answers the data path sends on its own, as the node's stack would for a local VIP:
 * a TCP reset for a segment that belongs to no connection (the backend went away, so the
 * client learns at once instead of timing out) and ICMP/ICMPv6 port unreachable for a
 * service without a usable backend (IPVS's ip_vs_leave). Both are built in place from the
 * offending packet and sent back out of the interface it came in on. */
#pragma once

#include "common.h"
#include "parse.h"
#include "csum.h"

#define REPLY_TTL 64

/* The 8-byte header of ICMP and ICMPv6 destination unreachable messages (linux/icmp.h
 * pulls in libc headers that do not build for BPF). */
struct icmp_unreach {
	__u8 type;
	__u8 code;
	__u16 checksum;
	__u32 unused;
};

#define ICMP_DEST_UNREACH 3
#define ICMP_PORT_UNREACH 3
#define ICMPV6_DEST_UNREACH 1
#define ICMPV6_PORT_UNREACH 4

static __always_inline void swap_macs(struct ethhdr *eth)
{
	__u8 tmp[ETH_ALEN];

	__builtin_memcpy(tmp, eth->h_source, ETH_ALEN);
	__builtin_memcpy(eth->h_source, eth->h_dest, ETH_ALEN);
	__builtin_memcpy(eth->h_dest, tmp, ETH_ALEN);
}

/* One's complement sum of a fixed-size region, folded and inverted: a checksum field. */
static __always_inline __u16 csum_of(void *start, __u32 size, __u32 seed)
{
	return ~csum_fold64(bpf_csum_diff(0, 0, start, size, seed));
}

static __always_inline __u32 pseudo_header_sum(const struct lb_addr *src, const struct lb_addr *dst, int words,
					       __u8 proto, __u32 length)
{
	__u64 sum = 0;

	for (int i = 0; i < 4; i++) {
		if (i < words)
			sum += (__u64)src->words[i] + dst->words[i];
	}
	sum += bpf_htons(proto) + bpf_htonl(length);
	return csum_fold64(sum);
}

/* RFC 793 reset generation: to a segment with ACK, RST with seq = its ack; otherwise
 * RST|ACK acknowledging it. The reply keeps only the 20-byte TCP header. */
/* A subprogram of its own (not inlined): its stack frame is apart from the main program's,
 * which must leave room for the global functions it calls. */
static __noinline int reply_tcp_reset(struct xdp_md *ctx, struct packet *pkt)
{
	void *data, *data_end;
	struct ethhdr *eth;
	struct tcphdr *tcp;
	struct lb_addr client = pkt->flow.saddr, vip = pkt->flow.daddr;
	__u16 client_port = pkt->flow.sport, vip_port = pkt->flow.dport;
	__u32 seq = bpf_ntohl(pkt->tcp->seq), ack_seq = pkt->tcp->ack_seq;
	__u32 payload = pkt->ip_len - (pkt->ip4 ? pkt->ip4->ihl * 4 : sizeof(struct ipv6hdr)) - pkt->tcp->doff * 4;
	int had_ack = pkt->tcp->ack, had_syn = pkt->tcp->syn, had_fin = pkt->tcp->fin;
	int v4 = pkt->ip4 != 0;
	__u32 l3 = v4 ? sizeof(struct iphdr) : sizeof(struct ipv6hdr);
	__u32 keep = sizeof(struct ethhdr) + l3 + sizeof(struct tcphdr);
	long delta;

	if (v4 && pkt->ip4->ihl != 5)
		return -1; /* IPv4 options: left to the stack */
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	delta = (long)keep - (data_end - data);
	if (delta > 0 || bpf_xdp_adjust_tail(ctx, (int)delta))
		return -1;

	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	eth = data;
	if (data + keep > data_end)
		return -1;
	swap_macs(eth);
	if (v4) {
		struct iphdr *ip = data + sizeof(*eth);

		ip->tos = 0;
		ip->tot_len = bpf_htons(sizeof(struct iphdr) + sizeof(struct tcphdr));
		ip->id = 0;
		ip->frag_off = bpf_htons(0x4000); /* DF */
		ip->ttl = REPLY_TTL;
		ip->saddr = vip.words[0];
		ip->daddr = client.words[0];
		ip->check = 0;
		ip->check = csum_of(ip, sizeof(*ip), 0);
		tcp = (void *)(ip + 1);
	} else {
		struct ipv6hdr *ip6 = data + sizeof(*eth);

		ip6->payload_len = bpf_htons(sizeof(struct tcphdr));
		ip6->hop_limit = REPLY_TTL;
		__builtin_memcpy(&ip6->saddr, &vip, 16);
		__builtin_memcpy(&ip6->daddr, &client, 16);
		tcp = (void *)(ip6 + 1);
	}
	if ((void *)(tcp + 1) > data_end)
		return -1;
	__builtin_memset(tcp, 0, sizeof(*tcp));
	tcp->source = vip_port;
	tcp->dest = client_port;
	tcp->doff = 5;
	tcp->rst = 1;
	if (had_ack) {
		tcp->seq = ack_seq;
	} else {
		tcp->ack = 1;
		tcp->ack_seq = bpf_htonl(seq + payload + had_syn + had_fin);
	}
	tcp->check = csum_of(tcp, sizeof(*tcp), pseudo_header_sum(&vip, &client, v4 ? 1 : 4, IPPROTO_TCP, sizeof(*tcp)));
	return XDP_TX;
}

/* An ICMP / ICMPv6 error back to the client quoting the offending IP header and the first
 * 8 bytes after it, enough for the client's stack to find the socket; `rest` is the
 * header's last word (the next-hop MTU for fragmentation needed / packet too big). IPv4
 * packets with options are not answered. */
#define QUOTE_L4 8

#define ICMP_CODES(type4, code4, type6, code6) ((type4) | (code4) << 8 | (type6) << 16 | (__u32)(code6) << 24)

/* codes: ICMP_CODES(IPv4 type, code, IPv6 type, code) (five arguments is BPF's limit). */
static __noinline int reply_icmp_error(struct xdp_md *ctx, struct packet *pkt, __u32 codes, __u32 rest)
{
	__u8 type4 = codes, code4 = codes >> 8, type6 = codes >> 16, code6 = codes >> 24;
	int v4 = pkt->ip4 != 0;
	__u32 quote = (v4 ? sizeof(struct iphdr) : sizeof(struct ipv6hdr)) + QUOTE_L4;
	__u32 head = (v4 ? sizeof(struct iphdr) : sizeof(struct ipv6hdr)) + 8; /* new IP + ICMP headers */
	struct lb_addr client = pkt->flow.saddr, vip = pkt->flow.daddr;
	__u8 mac_client[ETH_ALEN], mac_node[ETH_ALEN];
	void *data, *data_end;
	struct ethhdr *eth;
	long delta;

	if (v4 && pkt->ip4->ihl != 5)
		return -1;
	__builtin_memcpy(mac_client, pkt->eth->h_source, ETH_ALEN);
	__builtin_memcpy(mac_node, pkt->eth->h_dest, ETH_ALEN);
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	delta = (long)(sizeof(struct ethhdr) + quote) - (data_end - data);
	if (delta > 0 || bpf_xdp_adjust_tail(ctx, (int)delta))
		return -1;
	/* Room for the new IP and ICMP headers in front; the old Ethernet header goes. */
	if (bpf_xdp_adjust_head(ctx, -(int)head))
		return -1;

	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	eth = data;
	if (data + sizeof(*eth) + head + quote > data_end)
		return -1;
	__builtin_memcpy(eth->h_dest, mac_client, ETH_ALEN);
	__builtin_memcpy(eth->h_source, mac_node, ETH_ALEN);
	if (v4) {
		struct iphdr *ip = data + sizeof(*eth);
		struct icmp_unreach *icmp = (void *)(ip + 1);
		/* The quoted header moved with the packet: it now follows the ICMP header. */
		void *quoted = icmp + 1;

		if (quoted + sizeof(struct iphdr) + QUOTE_L4 > data_end)
			return -1;
		eth->h_proto = bpf_htons(ETH_P_IP);
		__builtin_memset(ip, 0, sizeof(*ip));
		ip->version = 4;
		ip->ihl = 5;
		ip->tos = 0xc0;
		ip->tot_len = bpf_htons(sizeof(*ip) + sizeof(*icmp) + sizeof(struct iphdr) + QUOTE_L4);
		ip->ttl = REPLY_TTL;
		ip->protocol = IPPROTO_ICMP;
		ip->saddr = vip.words[0];
		ip->daddr = client.words[0];
		ip->check = csum_of(ip, sizeof(*ip), 0);
		__builtin_memset(icmp, 0, sizeof(*icmp));
		icmp->type = type4;
		icmp->code = code4;
		icmp->unused = bpf_htonl(rest);
		icmp->checksum = csum_of(icmp, sizeof(*icmp) + sizeof(struct iphdr) + QUOTE_L4, 0);
	} else {
		struct ipv6hdr *ip6 = data + sizeof(*eth);
		struct icmp_unreach *icmp6 = (void *)(ip6 + 1);
		void *quoted = icmp6 + 1;
		__u32 len = sizeof(*icmp6) + sizeof(struct ipv6hdr) + QUOTE_L4;

		if (quoted + sizeof(struct ipv6hdr) + QUOTE_L4 > data_end)
			return -1;
		eth->h_proto = bpf_htons(ETH_P_IPV6);
		__builtin_memset(ip6, 0, sizeof(*ip6));
		ip6->version = 6;
		ip6->payload_len = bpf_htons(len);
		ip6->nexthdr = IPPROTO_ICMPV6;
		ip6->hop_limit = REPLY_TTL;
		__builtin_memcpy(&ip6->saddr, &vip, 16);
		__builtin_memcpy(&ip6->daddr, &client, 16);
		__builtin_memset(icmp6, 0, sizeof(*icmp6));
		icmp6->type = type6;
		icmp6->code = code6;
		icmp6->unused = bpf_htonl(rest);
		icmp6->checksum = csum_of(icmp6, sizeof(*icmp6) + sizeof(struct ipv6hdr) + QUOTE_L4,
					     pseudo_header_sum(&vip, &client, 4, IPPROTO_ICMPV6, len));
	}
	return XDP_TX;
}

/* ICMP (type 3 code 3) / ICMPv6 (type 1 code 4) port unreachable: no usable backend. */
static __always_inline int reply_port_unreachable(struct xdp_md *ctx, struct packet *pkt)
{
	return reply_icmp_error(ctx, pkt, ICMP_CODES(ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, ICMPV6_DEST_UNREACH, ICMPV6_PORT_UNREACH), 0);
}

/* ICMP fragmentation needed (type 3 code 4) / ICMPv6 packet too big (type 2) with the MTU
 * the packet must fit. */
static __always_inline int reply_too_big(struct xdp_md *ctx, struct packet *pkt, __u32 mtu)
{
	return reply_icmp_error(ctx, pkt, ICMP_CODES(ICMP_DEST_UNREACH, 4, 2, 0), mtu);
}

/* Header parsing. Every access is bounds-checked against data_end before it is read;
 * nothing past a failed check is touched. */
#pragma once

#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include "common.h"
#include "flow.h"

#define IP_MF     0x2000
#define IP_OFFSET 0x1fff

enum parse_result {
	PARSE_OK = 0,
	PARSE_NOT_IP,
	PARSE_NOT_L4,
	PARSE_FRAGMENT,        /* a fragment after the first: no L4 header, follows the first */
	PARSE_MALFORMED,
};

enum fragment_kind {
	FRAG_NONE = 0,
	FRAG_FIRST,            /* offset 0, more to come: carries the ports, decides the flow */
	FRAG_LATER,
};

#define IPV6_EXT_MAX 6
#define NEXTHDR_HOP 0
#define NEXTHDR_ROUTING 43
#define NEXTHDR_FRAGMENT 44
#define NEXTHDR_AUTH 51
#define NEXTHDR_DEST 60

struct ipv6_frag_hdr {
	__u8 nexthdr;
	__u8 reserved;
	__be16 frag_off; /* offset in 8-byte units << 3 | M */
	__be32 identification;
};

struct packet {
	struct ethhdr *eth;
	struct iphdr *ip4;   /* exactly one of ip4/ip6 is set */
	struct ipv6hdr *ip6;
	struct tcphdr *tcp;  /* exactly one of tcp/udp is set */
	struct udphdr *udp;
	struct flow_key flow;
	__u32 ip_len; /* bytes at the IP layer, as IPVS counts them */
	__u8 fragment; /* enum fragment_kind */
	__u32 frag_id; /* IPv4 id or IPv6 identification, when fragment != FRAG_NONE */
	/* 802.1Q (vlan.h): VLAN_TAGGED | TCI, or 0. The tag the frame came with (taken off
	 * before parsing); the one it leaves with (put back on at the end); for replies, the
	 * one the connection's client sent with. */
	__u32 vlan_in;
	__u32 out_tag;
	__u32 client_tag;
	__u8 toward_client; /* a reply: client_tag applies */
};

static __always_inline int parse_l4(struct packet *pkt, void *l4, void *data_end)
{
	if (pkt->flow.proto == IPPROTO_TCP) {
		struct tcphdr *tcp = l4;

		if ((void *)(tcp + 1) > data_end)
			return PARSE_MALFORMED;
		if (tcp->doff < 5)
			return PARSE_MALFORMED;
		pkt->tcp = tcp;
		pkt->flow.sport = tcp->source;
		pkt->flow.dport = tcp->dest;
		return PARSE_OK;
	}
	if (pkt->flow.proto == IPPROTO_UDP) {
		struct udphdr *udp = l4;

		if ((void *)(udp + 1) > data_end)
			return PARSE_MALFORMED;
		pkt->udp = udp;
		pkt->flow.sport = udp->source;
		pkt->flow.dport = udp->dest;
		return PARSE_OK;
	}
	return PARSE_NOT_L4;
}

static __always_inline int parse_ipv4(struct packet *pkt, void *l3, void *data_end)
{
	struct iphdr *ip = l3;
	__u32 hdr_len;

	if ((void *)(ip + 1) > data_end)
		return PARSE_MALFORMED;
	if (ip->version != 4 || ip->ihl < 5)
		return PARSE_MALFORMED;
	hdr_len = ip->ihl * 4;
	if (l3 + hdr_len > data_end)
		return PARSE_MALFORMED;
	if (bpf_ntohs(ip->tot_len) < hdr_len)
		return PARSE_MALFORMED;
	pkt->ip4 = ip;
	pkt->ip_len = bpf_ntohs(ip->tot_len);
	pkt->flow.family = AF_INET;
	pkt->flow.proto = ip->protocol;
	pkt->flow.saddr.words[0] = ip->saddr;
	pkt->flow.daddr.words[0] = ip->daddr;
	if (ip->frag_off & bpf_htons(IP_MF | IP_OFFSET)) {
		pkt->frag_id = ip->id;
		pkt->fragment = ip->frag_off & bpf_htons(IP_OFFSET) ? FRAG_LATER : FRAG_FIRST;
		if (pkt->fragment == FRAG_LATER)
			return PARSE_FRAGMENT;
	}
	return parse_l4(pkt, l3 + hdr_len, data_end);
}

/* The offset of the next header from the IPv6 header is kept as a scalar and masked
 * before each use: every path through the extension headers then reaches the rest of the
 * program in the same verifier state, instead of one state per path. */
#define IPV6_HDRS_MAX 511

static __always_inline int parse_ipv6(struct packet *pkt, void *l3, void *data_end)
{
	struct ipv6hdr *ip6 = l3;
	__u32 off = sizeof(*ip6);
	__u8 nexthdr;

	if ((void *)(ip6 + 1) > data_end)
		return PARSE_MALFORMED;
	if (ip6->version != 6)
		return PARSE_MALFORMED;
	pkt->ip6 = ip6;
	pkt->ip_len = bpf_ntohs(ip6->payload_len) + sizeof(*ip6);
	pkt->flow.family = AF_INET6;
	__builtin_memcpy(&pkt->flow.saddr, &ip6->saddr, sizeof(pkt->flow.saddr));
	__builtin_memcpy(&pkt->flow.daddr, &ip6->daddr, sizeof(pkt->flow.daddr));

	/* Extension headers, a bounded number of them, up to the transport header. */
	nexthdr = ip6->nexthdr;
#pragma unroll
	for (int i = 0; i < IPV6_EXT_MAX; i++) {
		void *at = l3 + bounded(off, IPV6_HDRS_MAX);

		if (nexthdr == NEXTHDR_HOP || nexthdr == NEXTHDR_ROUTING || nexthdr == NEXTHDR_DEST ||
		    nexthdr == NEXTHDR_AUTH) {
			__u8 *ext = at;

			if ((void *)(ext + 2) > data_end)
				return PARSE_MALFORMED;
			off += nexthdr == NEXTHDR_AUTH ? (ext[1] + 2) * 4 : (ext[1] + 1) * 8;
			nexthdr = ext[0];
		} else if (nexthdr == NEXTHDR_FRAGMENT) {
			struct ipv6_frag_hdr *frag = at;

			if ((void *)(frag + 1) > data_end)
				return PARSE_MALFORMED;
			pkt->frag_id = frag->identification;
			if (frag->frag_off & bpf_htons(0xfff8)) {
				pkt->flow.proto = frag->nexthdr;
				pkt->fragment = FRAG_LATER;
				return PARSE_FRAGMENT;
			}
			if (frag->frag_off & bpf_htons(1))
				pkt->fragment = FRAG_FIRST;
			off += sizeof(*frag);
			nexthdr = frag->nexthdr;
		} else {
			break;
		}
	}
	if (off > IPV6_HDRS_MAX)
		return PARSE_MALFORMED;
	pkt->flow.proto = nexthdr;
	return parse_l4(pkt, l3 + bounded(off, IPV6_HDRS_MAX), data_end);
}

static __always_inline int parse_packet(struct xdp_md *ctx, struct packet *pkt)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;

	if ((void *)(eth + 1) > data_end)
		return PARSE_MALFORMED;
	pkt->eth = eth;
	if (eth->h_proto == bpf_htons(ETH_P_IP))
		return parse_ipv4(pkt, eth + 1, data_end);
	if (eth->h_proto == bpf_htons(ETH_P_IPV6))
		return parse_ipv6(pkt, eth + 1, data_end);
	return PARSE_NOT_IP;
}

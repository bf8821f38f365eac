/* Sending a rewritten packet on its way: a FIB lookup picks the egress interface and the
 * next hop's MAC; anything the FIB cannot settle (no neighbour entry yet, local delivery)
 * goes to the stack, which resolves it, rather than being dropped. */
#pragma once

#include <linux/if_ether.h>
#include "common.h"
#include "counters.h"
#include "parse.h"
#include "vlan.h"

#define IPV6_FLOWINFO_MASK bpf_htonl(0x0FFFFFFF)

static __always_inline int forward_to_stack(void)
{
	count(CNT_FWD_STACK);
	return XDP_PASS;
}

/* The node's address towards a destination: the route's preferred source, as netfilter's
 * MASQUERADE and IPVS's tunnel transmit take it. 0 on success; the FIB's refusal (> 0) when
 * there is no route; < 0 when the kernel cannot say (BPF_FIB_LOOKUP_SRC is 6.7's). */
static __always_inline int route_source_with(struct xdp_md *ctx, struct bpf_fib_lookup *fib,
					     const struct flow_key *flow, const struct lb_addr *dst, struct lb_addr *src)
{
	long rc;

	__builtin_memset(fib, 0, sizeof(*fib));
	fib->ifindex = ctx->ingress_ifindex;
	fib->l4_protocol = flow->proto;
	if (flow->family == AF_INET) {
		fib->family = AF_INET;
		fib->ipv4_dst = dst->words[0];
	} else {
		fib->family = AF_INET6;
		__builtin_memcpy(fib->ipv6_dst, dst, 16);
	}
	rc = bpf_fib_lookup(ctx, fib, sizeof(*fib), BPF_FIB_LOOKUP_SRC | BPF_FIB_LOOKUP_SKIP_NEIGH);

	if (rc != BPF_FIB_LKUP_RET_SUCCESS)
		return rc < 0 ? -1 : 1;
	__builtin_memset(src, 0, sizeof(*src));
	if (flow->family == AF_INET)
		src->words[0] = fib->ipv4_src;
	else
		__builtin_memcpy(src, fib->ipv6_src, 16);
	return 0;
}

static __always_inline int route_source(struct xdp_md *ctx, const struct flow_key *flow,
					const struct lb_addr *dst, struct lb_addr *src)
{
	struct bpf_fib_lookup fib;

	return route_source_with(ctx, &fib, flow, dst, src);
}

/* The egress's tag: a VLAN device's VID (out of its parent); towards a client, the tag
 * its frames came with; back out of the ingress interface, the tag the frame came with;
 * out of another interface, none. */
static __always_inline int forward_l2(struct xdp_md *ctx, struct packet *pkt, struct ethhdr *eth,
				      const struct bpf_fib_lookup *fib)
{
	__u32 out = fib->ifindex;
	const struct vlan_device *vlan = vlan_device_of(out);

	if (vlan) {
		out = vlan->parent_ifindex;
		pkt->out_tag = VLAN_TAGGED | (pkt->vlan_in & VLAN_PRIO_MASK) | (vlan->vid & VLAN_VID_MASK);
	} else if (pkt->toward_client) {
		pkt->out_tag = pkt->client_tag;
	} else if (out != ctx->ingress_ifindex) {
		pkt->out_tag = 0;
	}
	__builtin_memcpy(eth->h_dest, fib->dmac, ETH_ALEN);
	__builtin_memcpy(eth->h_source, fib->smac, ETH_ALEN);
	if (out == ctx->ingress_ifindex) {
		count(CNT_FWD_TX);
		return XDP_TX;
	}
	count(CNT_FWD_REDIRECT);
	return bpf_redirect(out, 0);
}

/* nexthop: the address the FIB routes to; 0 for the packet's own destination. Direct
 * routing passes the backend's, leaving the packet addressed to the VIP. */
static __always_inline int forward_ipv4_via(struct xdp_md *ctx, struct packet *pkt, struct ethhdr *eth, struct iphdr *ip,
					    __be32 nexthop)
{
	struct bpf_fib_lookup fib = {};
	__u32 check;

	/* Expiring TTLs are the stack's job: it sends the ICMP time exceeded. */
	if (ip->ttl <= 1)
		return forward_to_stack();
	fib.family = AF_INET;
	fib.ifindex = ctx->ingress_ifindex;
	fib.l4_protocol = ip->protocol;
	fib.tos = ip->tos;
	fib.tot_len = bpf_ntohs(ip->tot_len);
	fib.ipv4_src = ip->saddr;
	fib.ipv4_dst = nexthop ? nexthop : ip->daddr;
	if (bpf_fib_lookup(ctx, &fib, sizeof(fib), 0) != BPF_FIB_LKUP_RET_SUCCESS)
		return forward_to_stack();

	/* As ip_decrease_ttl(): the TTL is the high byte of its checksummed word. */
	check = ip->check;
	check += bpf_htons(0x0100);
	ip->check = (__u16)(check + (check >= 0xFFFF));
	ip->ttl--;
	return forward_l2(ctx, pkt, eth, &fib);
}

static __always_inline int forward_ipv4(struct xdp_md *ctx, struct packet *pkt, struct ethhdr *eth, struct iphdr *ip)
{
	return forward_ipv4_via(ctx, pkt, eth, ip, 0);
}

static __always_inline int forward_ipv6_via(struct xdp_md *ctx, struct packet *pkt, struct ethhdr *eth, struct ipv6hdr *ip6,
					    const struct lb_addr *nexthop)
{
	struct bpf_fib_lookup fib = {};

	if (ip6->hop_limit <= 1)
		return forward_to_stack();
	fib.family = AF_INET6;
	fib.ifindex = ctx->ingress_ifindex;
	fib.l4_protocol = ip6->nexthdr;
	fib.flowinfo = *(__be32 *)ip6 & IPV6_FLOWINFO_MASK;
	fib.tot_len = bpf_ntohs(ip6->payload_len) + sizeof(struct ipv6hdr);
	__builtin_memcpy(fib.ipv6_src, &ip6->saddr, 16);
	if (nexthop)
		__builtin_memcpy(fib.ipv6_dst, nexthop, 16);
	else
		__builtin_memcpy(fib.ipv6_dst, &ip6->daddr, 16);
	if (bpf_fib_lookup(ctx, &fib, sizeof(fib), 0) != BPF_FIB_LKUP_RET_SUCCESS)
		return forward_to_stack();

	ip6->hop_limit--;
	return forward_l2(ctx, pkt, eth, &fib);
}

static __always_inline int forward_ipv6(struct xdp_md *ctx, struct packet *pkt, struct ethhdr *eth, struct ipv6hdr *ip6)
{
	return forward_ipv6_via(ctx, pkt, eth, ip6, 0);
}

/* Direct routing: to the backend's MAC, the packet unchanged but for TTL and MACs. */
static __always_inline int forward_direct(struct xdp_md *ctx, struct packet *pkt, const struct lb_addr *backend)
{
	if (pkt->ip4)
		return forward_ipv4_via(ctx, pkt, pkt->eth, pkt->ip4, backend->words[0]);
	if (pkt->ip6)
		return forward_ipv6_via(ctx, pkt, pkt->eth, pkt->ip6, backend);
	return forward_to_stack();
}

static __always_inline int forward_packet(struct xdp_md *ctx, struct packet *pkt)
{
	if (pkt->ip4)
		return forward_ipv4(ctx, pkt, pkt->eth, pkt->ip4);
	if (pkt->ip6)
		return forward_ipv6(ctx, pkt, pkt->eth, pkt->ip6);
	return forward_to_stack();
}

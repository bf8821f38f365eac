/* forwarding: tun (IPVS's Tunnel): the packet is encapsulated, IPIP for IPv4 and
 * IPv6-in-IPv6 for IPv6, addressed to the backend, which decapsulates it and answers the
 * client itself. The outer source is the node's address the control plane writes here. */
#pragma once

#include "common.h"
#include "xdp_maps.h"
#include "parse.h"
#include "csum.h"
#include "forward.h"
#include "reply.h"

#define IPPROTO_IPIP 4
#define IPPROTO_IPV6_INNER 41

/* The MTU towards the backend when the encapsulated packet would not fit it, else 0. */
static __always_inline __u32 tunnel_mtu_exceeded(struct xdp_md *ctx, const struct packet *pkt, const struct lb_addr *backend,
						  __u32 overhead)
{
	struct bpf_fib_lookup fib = {};

	fib.ifindex = ctx->ingress_ifindex;
	fib.tot_len = pkt->ip_len + overhead;
	if (pkt->flow.family == AF_INET) {
		fib.family = AF_INET;
		fib.ipv4_src = pkt->flow.saddr.words[0];
		fib.ipv4_dst = backend->words[0];
	} else {
		fib.family = AF_INET6;
		__builtin_memcpy(fib.ipv6_src, &pkt->flow.saddr, 16);
		__builtin_memcpy(fib.ipv6_dst, backend, 16);
	}
	if (bpf_fib_lookup(ctx, &fib, sizeof(fib), BPF_FIB_LOOKUP_SKIP_NEIGH) != BPF_FIB_LKUP_RET_FRAG_NEEDED)
		return 0;
	return fib.mtu_result;
}

/* Makes room for an outer header of `size` bytes: a new Ethernet header (the packet's MACs,
 * the outer EtherType) goes in front of it, over the old Ethernet header's bytes. Returns
 * the outer header, or NULL when the packet could not grow (*grown tells whether it did). */
static __always_inline void *tunnel_push(struct xdp_md *ctx, const __u8 *macs, __u32 size, __u16 ether_type,
					 struct ethhdr **eth, int *grown)
{
	void *data, *data_end;

	*grown = 0;
	if (bpf_xdp_adjust_head(ctx, -(int)size))
		return 0;
	*grown = 1;
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	if (data + sizeof(struct ethhdr) + size > data_end)
		return 0;
	*eth = data;
	__builtin_memcpy(*eth, macs, 2 * ETH_ALEN);
	(*eth)->h_proto = bpf_htons(ether_type);
	__builtin_memset(data + sizeof(struct ethhdr), 0, size);
	return data + sizeof(struct ethhdr);
}

/* The configured node address of the packet's family: 0, or -1 when none was written. */
static __always_inline int tunnel_source_of(__u8 family, struct lb_addr *src)
{
	__u32 which = family == AF_INET ? 0 : 1;
	struct lb_addr *source = bpf_map_lookup_elem(&tunnel_source, &which);

	if (!source || (!source->words[0] && !source->words[3]))
		return -1;
	*src = *source;
	return 0;
}

static __always_inline int forward_tunnel(struct xdp_md *ctx, struct packet *pkt, const struct lb_addr *backend)
{
	struct lb_addr src, dst = *backend;
	__u8 macs[2 * ETH_ALEN];
	struct ethhdr *eth = 0;
	int grown;

	/* The source of the route to the backend, as IPVS's tunnel transmit takes it; the
	 * configured one where the FIB cannot say (no route, or a kernel without
	 * BPF_FIB_LOOKUP_SRC). */
	if (route_source(ctx, &pkt->flow, backend, &src) && tunnel_source_of(pkt->flow.family, &src))
		return forward_to_stack(); /* no source to send from */
	{
		/* As IPVS's tunnel xmit: a packet that cannot fit once encapsulated is refused
		 * with the MTU the client must use (IPv4 only when DF is set, else the stack
		 * may fragment the outer packet). */
		int v4 = pkt->flow.family == AF_INET;
		__u32 overhead = v4 ? sizeof(struct iphdr) : sizeof(struct ipv6hdr);
		__u32 mtu = tunnel_mtu_exceeded(ctx, pkt, backend, overhead);
		int refuse = mtu && !v4;

		if (mtu && v4) {
			struct iphdr *ip = pkt->ip4;

			refuse = ip && (ip->frag_off & bpf_htons(0x4000));
		}
		if (refuse) {
			/* The reply is built in place: once it began, the packet is not ours to send on. */
			if (reply_too_big(ctx, pkt, mtu - overhead) < 0)
				return XDP_DROP;
			count(CNT_TX_TOO_BIG);
			return XDP_TX;
		}
	}
	__builtin_memcpy(macs, pkt->eth, sizeof(macs));

	if (pkt->ip4) {
		struct iphdr *inner = pkt->ip4, *outer;
		__u16 inner_len = inner->tot_len;
		__u8 tos = inner->tos, ttl = inner->ttl;
		__u16 df = inner->frag_off & bpf_htons(0x4000);

		outer = tunnel_push(ctx, macs, sizeof(*outer), ETH_P_IP, &eth, &grown);
		if (!outer || !eth)
			return grown ? XDP_DROP : forward_to_stack();
		outer->version = 4;
		outer->ihl = 5;
		outer->tos = tos;
		outer->tot_len = bpf_htons(bpf_ntohs(inner_len) + sizeof(*outer));
		outer->frag_off = df;
		outer->ttl = ttl;
		outer->protocol = IPPROTO_IPIP;
		outer->saddr = src.words[0];
		outer->daddr = dst.words[0];
		outer->check = ~csum_fold64(bpf_csum_diff(0, 0, (__be32 *)outer, sizeof(*outer), 0));
		count(CNT_FWD_TUNNEL);
		return forward_ipv4(ctx, pkt, eth, outer);
	}
	if (pkt->ip6) {
		struct ipv6hdr *outer;
		__u16 inner_payload = pkt->ip6->payload_len;
		__u8 hop = pkt->ip6->hop_limit;

		outer = tunnel_push(ctx, macs, sizeof(*outer), ETH_P_IPV6, &eth, &grown);
		if (!outer || !eth)
			return grown ? XDP_DROP : forward_to_stack();
		outer->version = 6;
		outer->payload_len = bpf_htons(bpf_ntohs(inner_payload) + sizeof(*outer));
		outer->nexthdr = IPPROTO_IPV6_INNER;
		outer->hop_limit = hop;
		__builtin_memcpy(&outer->saddr, &src, 16);
		__builtin_memcpy(&outer->daddr, &dst, 16);
		count(CNT_FWD_TUNNEL);
		return forward_ipv6(ctx, pkt, eth, outer);
	}
	return forward_to_stack();
}

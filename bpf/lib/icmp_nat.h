/* ICMP and ICMPv6 errors about a NATed flow (destination unreachable, fragmentation
 * needed / packet too big, time exceeded), translated as IPVS's ip_vs_nat_icmp does so that
 * the receiving stack matches them to its socket:
 *  - from the backend side, about a request we forwarded (inner: client -> backend): the
 *    outer source and the inner destination become the VIP, the inner port the VIP's;
 *  - from the client side, about a reply we sent (inner: VIP -> client): the outer
 *    destination and the inner source become the backend, the inner port the backend's.
 * The inner transport checksum is left as it is, as IPVS leaves it. Errors about masq
 * flows (two endpoints rewritten) are left to the stack: translating them is not done yet. */
#pragma once

#include "common.h"
#include "parse.h"
#include "flow.h"
#include "csum.h"
#include "forward.h"
#include "counters.h"

#define ICMP_TIME_EXCEEDED 11
#define ICMPV6_PKT_TOOBIG 2
#define ICMPV6_TIME_EXCEED 3

struct icmp_error_hdr {
	__u8 type;
	__u8 code;
	__u16 checksum;
	__u32 rest; /* unused, or the next-hop MTU */
};

/* The quoted transport header: its ports are all that is read. */
struct quoted_ports {
	__u16 source;
	__u16 dest;
};

static __always_inline int icmp_is_error(__u8 family, __u8 type)
{
	if (family == AF_INET)
		return type == 3 /* dest unreachable, incl. fragmentation needed */ || type == ICMP_TIME_EXCEEDED;
	return type == 1 /* dest unreachable */ || type == ICMPV6_PKT_TOOBIG || type == ICMPV6_TIME_EXCEED;
}

/* Finds the flow the quoted packet belongs to: the quoted packet went the other way, so
 * its reversed tuple is the key of the entry for this direction. */
static __always_inline struct flow *icmp_quoted_flow(const struct lb_addr *qsrc, const struct lb_addr *qdst,
						     const struct quoted_ports *ports, __u8 proto, __u8 family)
{
	struct flow_key key = {
		.saddr = *qdst,
		.daddr = *qsrc,
		.sport = ports->dest,
		.dport = ports->source,
		.proto = proto,
		.family = family,
	};

	return bpf_map_lookup_elem(&conntrack, &key);
}

static __always_inline int icmp_error_nat(struct xdp_md *ctx, struct packet *pkt)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct icmp_error_hdr *icmp;
	struct quoted_ports *ports;
	struct lb_addr qsrc = {}, qdst = {}, outer_old, new_addr;
	struct flow *f;
	__u64 icmp_delta = 0;
	__u16 new_port;
	__u8 qproto;
	int reply;

	if ((void *)(eth + 1) > data_end)
		return -1;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = (void *)(eth + 1), *qip;

		if ((void *)(ip + 1) > data_end || ip->ihl != 5 || ip->protocol != IPPROTO_ICMP ||
		    (ip->frag_off & bpf_htons(IP_MF | IP_OFFSET)))
			return -1;
		icmp = (void *)(ip + 1);
		qip = (void *)(icmp + 1);
		if ((void *)(qip + 1) > data_end || !icmp_is_error(AF_INET, icmp->type) || qip->ihl != 5)
			return -1;
		ports = (void *)(qip + 1);
		if ((void *)(ports + 1) > data_end)
			return -1;
		qproto = qip->protocol;
		qsrc.words[0] = qip->saddr;
		qdst.words[0] = qip->daddr;
		f = icmp_quoted_flow(&qsrc, &qdst, ports, qproto, AF_INET);
		if (!f || (f->flags & FLOW_F_MASQ))
			return -1;
		reply = f->direction == FLOW_REPLY;
		new_addr = f->nat_addr;
		new_port = f->nat_port;
		/* The quoted header: destination (about a request) or source (about a reply). */
		{
			__u32 *qaddr = reply ? &qip->daddr : &qip->saddr;
			__u16 *qport = reply ? &ports->dest : &ports->source;
			__u16 old_check = qip->check;

			qip->check = csum_apply(qip->check, csum_delta32(0, *qaddr, new_addr.words[0]));
			icmp_delta = csum_delta32(icmp_delta, *qaddr, new_addr.words[0]);
			icmp_delta = csum_delta16(icmp_delta, *qport, new_port);
			icmp_delta = csum_delta16(icmp_delta, old_check, qip->check);
			*qaddr = new_addr.words[0];
			*qport = new_port;
		}
		icmp->checksum = csum_apply(icmp->checksum, icmp_delta);
		/* The outer header: source (towards the client) or destination (towards the backend). */
		outer_old.words[0] = reply ? ip->saddr : ip->daddr;
		ip->check = csum_apply(ip->check, csum_delta32(0, outer_old.words[0], new_addr.words[0]));
		if (reply)
			ip->saddr = new_addr.words[0];
		else
			ip->daddr = new_addr.words[0];
		count(CNT_NAT_ICMP_ERROR);
		return forward_ipv4(ctx, pkt, eth, ip);
	} else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1), *qip6;

		if ((void *)(ip6 + 1) > data_end || ip6->nexthdr != IPPROTO_ICMPV6)
			return -1;
		icmp = (void *)(ip6 + 1);
		qip6 = (void *)(icmp + 1);
		if ((void *)(qip6 + 1) > data_end || !icmp_is_error(AF_INET6, icmp->type))
			return -1;
		ports = (void *)(qip6 + 1);
		if ((void *)(ports + 1) > data_end)
			return -1;
		qproto = qip6->nexthdr;
		__builtin_memcpy(&qsrc, &qip6->saddr, 16);
		__builtin_memcpy(&qdst, &qip6->daddr, 16);
		f = icmp_quoted_flow(&qsrc, &qdst, ports, qproto, AF_INET6);
		if (!f || (f->flags & FLOW_F_MASQ))
			return -1;
		reply = f->direction == FLOW_REPLY;
		new_addr = f->nat_addr;
		new_port = f->nat_port;
		{
			struct lb_addr *qaddr = reply ? (struct lb_addr *)&qip6->daddr : (struct lb_addr *)&qip6->saddr;
			struct lb_addr *oaddr = reply ? (struct lb_addr *)&ip6->saddr : (struct lb_addr *)&ip6->daddr;
			__u16 *qport = reply ? &ports->dest : &ports->source;
			struct lb_addr old_q = *qaddr;

			outer_old = *oaddr;
			/* ICMPv6's checksum covers the outer addresses through its pseudo-header. */
			icmp_delta = csum_delta_addr(icmp_delta, &old_q, &new_addr, 4);
			icmp_delta = csum_delta_addr(icmp_delta, &outer_old, &new_addr, 4);
			icmp_delta = csum_delta16(icmp_delta, *qport, new_port);
			*qaddr = new_addr;
			*qport = new_port;
			*oaddr = new_addr;
		}
		icmp->checksum = csum_apply(icmp->checksum, icmp_delta);
		count(CNT_NAT_ICMP_ERROR);
		return forward_ipv6(ctx, pkt, eth, ip6);
	}
	return -1;
}

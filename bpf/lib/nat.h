/* Address and port rewriting with checksum updates for IPv4/IPv6 and TCP/UDP. */
#pragma once

#include "common.h"
#include "csum.h"
#include "parse.h"
#include "flow.h"

/* Rewrites one address of a fragment that carries no transport header (IP checksum only). */
static __always_inline void nat_rewrite_address(struct packet *pkt, int rewrite_dest, const struct lb_addr *addr)
{
	struct lb_addr old_addr = rewrite_dest ? pkt->flow.daddr : pkt->flow.saddr;

	if (pkt->ip4) {
		struct iphdr *ip = pkt->ip4;

		ip->check = csum_apply(ip->check, csum_delta_addr(0, &old_addr, addr, 1));
		if (rewrite_dest)
			ip->daddr = addr->words[0];
		else
			ip->saddr = addr->words[0];
	} else if (pkt->ip6) {
		if (rewrite_dest)
			__builtin_memcpy(&pkt->ip6->daddr, addr, sizeof(*addr));
		else
			__builtin_memcpy(&pkt->ip6->saddr, addr, sizeof(*addr));
	}
	if (rewrite_dest)
		pkt->flow.daddr = *addr;
	else
		pkt->flow.saddr = *addr;
}

/* Rewrites one endpoint of the packet (destination for requests, source for replies). */
static __always_inline void nat_rewrite(struct packet *pkt, int rewrite_dest,
					const struct lb_addr *addr, __u16 port)
{
	struct lb_addr old_addr = rewrite_dest ? pkt->flow.daddr : pkt->flow.saddr;
	__u16 old_port = rewrite_dest ? pkt->flow.dport : pkt->flow.sport;
	int words = pkt->ip4 ? 1 : 4;
	/* The pseudo-header carries the addresses, so the L4 checksum sees both changes. */
	__u64 l4_delta = csum_delta16(csum_delta_addr(0, &old_addr, addr, words), old_port, port);

	nat_rewrite_address(pkt, rewrite_dest, addr);

	if (pkt->tcp) {
		pkt->tcp->check = csum_apply(pkt->tcp->check, l4_delta);
		if (rewrite_dest)
			pkt->tcp->dest = port;
		else
			pkt->tcp->source = port;
	} else if (pkt->udp) {
		/* A zero UDP checksum over IPv4 means "none" and stays so; a computed zero is
		 * sent as all ones (RFC 768). */
		if (pkt->udp->check || pkt->ip6) {
			__u16 sum = csum_apply(pkt->udp->check, l4_delta);

			pkt->udp->check = sum ? sum : 0xffff;
		}
		if (rewrite_dest)
			pkt->udp->dest = port;
		else
			pkt->udp->source = port;
	}

	if (rewrite_dest)
		pkt->flow.dport = port;
	else
		pkt->flow.sport = port;
}

/* Rewrites the packet as its flow entry says: the endpoint of its direction (the backend
 * for a request, the VIP for a reply), and for masq the other endpoint too. */
static __always_inline void nat_apply(struct packet *pkt, const struct flow *f)
{
	struct lb_addr addr = f->nat_addr;
	int reply = f->direction == FLOW_REPLY;

	nat_rewrite(pkt, !reply, &addr, f->nat_port);
	if (f->flags & FLOW_F_MASQ) {
		addr = f->masq_addr;
		nat_rewrite(pkt, reply, &addr, f->masq_port);
	}
}

/* Address and port rewriting with checksum updates for IPv4/IPv6 and TCP/UDP. */
#pragma once

#include "common.h"
#include "csum.h"
#include "parse.h"
#include "flow.h"

/* Sets both addresses of a packet, updating the IPv4 header checksum; returns the change
 * to the pseudo-header's sum, which the transport checksum needs. */
static __always_inline __u64 nat_set_addresses(struct packet *pkt, const struct lb_addr *saddr, const struct lb_addr *daddr)
{
	int words = pkt->ip4 ? 1 : 4;
	__u64 delta = csum_delta_addr(0, &pkt->flow.saddr, saddr, words);

	delta = csum_delta_addr(delta, &pkt->flow.daddr, daddr, words);
	if (pkt->ip4) {
		struct iphdr *ip = pkt->ip4;

		ip->check = csum_apply(ip->check, delta);
		ip->saddr = saddr->words[0];
		ip->daddr = daddr->words[0];
	} else if (pkt->ip6) {
		__builtin_memcpy(&pkt->ip6->saddr, saddr, sizeof(*saddr));
		__builtin_memcpy(&pkt->ip6->daddr, daddr, sizeof(*daddr));
	}
	pkt->flow.saddr = *saddr;
	pkt->flow.daddr = *daddr;
	return delta;
}

/* Sets both endpoints in one pass: one straight path whether one endpoint changes (nat)
 * or both (masq), so the verifier walks it once. */
static __always_inline void nat_set_endpoints(struct packet *pkt, const struct lb_addr *saddr, __u16 sport,
					      const struct lb_addr *daddr, __u16 dport)
{
	/* The pseudo-header carries the addresses, so the L4 checksum sees their change too. */
	__u64 l4_delta = csum_delta16(csum_delta16(0, pkt->flow.sport, sport), pkt->flow.dport, dport);

	l4_delta += nat_set_addresses(pkt, saddr, daddr);
	if (pkt->tcp) {
		pkt->tcp->check = csum_apply(pkt->tcp->check, l4_delta);
		pkt->tcp->source = sport;
		pkt->tcp->dest = dport;
	} else if (pkt->udp) {
		/* A zero UDP checksum over IPv4 means "none" and stays so; a computed zero is
		 * sent as all ones (RFC 768). */
		if (pkt->udp->check || pkt->ip6) {
			__u16 sum = csum_apply(pkt->udp->check, l4_delta);

			pkt->udp->check = sum ? sum : 0xffff;
		}
		pkt->udp->source = sport;
		pkt->udp->dest = dport;
	}
	pkt->flow.sport = sport;
	pkt->flow.dport = dport;
}

/* The endpoints a flow entry gives its packets: the backend (request) or the VIP (reply)
 * on one side, and for masq the node's address and port or the client's on the other. */
static __always_inline void nat_targets(const struct packet *pkt, struct lb_addr *saddr, __u16 *sport,
					struct lb_addr *daddr, __u16 *dport, const struct lb_addr *nat, __u16 nat_port,
					const struct lb_addr *masq, __u16 masq_port, int reply, int masq_on)
{
	*saddr = pkt->flow.saddr;
	*daddr = pkt->flow.daddr;
	*sport = pkt->flow.sport;
	*dport = pkt->flow.dport;
	if (reply) {
		*saddr = *nat;
		*sport = nat_port;
		if (masq_on) {
			*daddr = *masq;
			*dport = masq_port;
		}
	} else {
		*daddr = *nat;
		*dport = nat_port;
		if (masq_on) {
			*saddr = *masq;
			*sport = masq_port;
		}
	}
}

/* Rewrites the packet as a flow entry says, or a later fragment as its first fragment's
 * record says: that one has no transport header, so the addresses only (the first
 * fragment's checksum update covers the datagram's). `ports` is a constant at each call. */
static __always_inline void nat_rewrite(struct packet *pkt, const struct lb_addr *nat, __u16 nat_port,
					const struct lb_addr *masq, __u16 masq_port, int reply, int masq_on, int ports)
{
	struct lb_addr saddr, daddr;
	__u16 sport, dport;

	nat_targets(pkt, &saddr, &sport, &daddr, &dport, nat, nat_port, masq, masq_port, reply, masq_on);
	if (ports)
		nat_set_endpoints(pkt, &saddr, sport, &daddr, dport);
	else
		nat_set_addresses(pkt, &saddr, &daddr);
}

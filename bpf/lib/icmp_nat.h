/* ICMP and ICMPv6 errors about a NATed flow (destination unreachable, fragmentation
 * needed / packet too big, time exceeded), translated as IPVS's ip_vs_nat_icmp does so that
 * the receiving stack matches them to its socket:
 *  - from the backend side, about a request we forwarded (inner: client -> backend): the
 *    outer source and the inner destination become the VIP, the inner port the VIP's;
 *  - from the client side, about a reply we sent (inner: VIP -> client): the outer
 *    destination and the inner source become the backend, the inner port the backend's.
 * For masq flows the other endpoint is translated too: the node's address and port back
 * to the client's (towards the client), the client's to the node's (towards the backend).
 * The inner transport checksum is left as it is, as IPVS leaves it. */
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

/* One endpoint of the translation. The quoted packet's source (quoted_src) or destination
 * gets addr:port, and the outer header's address on the other side gets addr: the quoted
 * packet went the opposite way to the error. */
static __always_inline void icmp4_rewrite(struct iphdr *ip, struct icmp_error_hdr *icmp, struct iphdr *qip,
					  struct quoted_ports *ports, int quoted_src, __be32 addr, __u16 port)
{
	__u32 *qaddr = quoted_src ? &qip->saddr : &qip->daddr;
	__u16 *qport = quoted_src ? &ports->source : &ports->dest;
	__u32 *oaddr = quoted_src ? &ip->daddr : &ip->saddr;
	__u16 old_check = qip->check;
	__u64 icmp_delta;

	qip->check = csum_apply(qip->check, csum_delta32(0, *qaddr, addr));
	icmp_delta = csum_delta32(0, *qaddr, addr);
	icmp_delta = csum_delta16(icmp_delta, *qport, port);
	icmp_delta = csum_delta16(icmp_delta, old_check, qip->check);
	icmp->checksum = csum_apply(icmp->checksum, icmp_delta);
	*qaddr = addr;
	*qport = port;
	ip->check = csum_apply(ip->check, csum_delta32(0, *oaddr, addr));
	*oaddr = addr;
}

static __always_inline void icmp6_rewrite(struct ipv6hdr *ip6, struct icmp_error_hdr *icmp, struct ipv6hdr *qip6,
					  struct quoted_ports *ports, int quoted_src, const struct lb_addr *addr, __u16 port)
{
	struct lb_addr *qaddr = quoted_src ? (struct lb_addr *)&qip6->saddr : (struct lb_addr *)&qip6->daddr;
	struct lb_addr *oaddr = quoted_src ? (struct lb_addr *)&ip6->daddr : (struct lb_addr *)&ip6->saddr;
	__u16 *qport = quoted_src ? &ports->source : &ports->dest;
	struct lb_addr old_q = *qaddr, old_o = *oaddr;
	__u64 icmp_delta;

	/* ICMPv6's checksum covers the outer addresses through its pseudo-header. */
	icmp_delta = csum_delta_addr(0, &old_q, addr, 4);
	icmp_delta = csum_delta_addr(icmp_delta, &old_o, addr, 4);
	icmp_delta = csum_delta16(icmp_delta, *qport, port);
	icmp->checksum = csum_apply(icmp->checksum, icmp_delta);
	*qaddr = *addr;
	*qport = port;
	*oaddr = *addr;
}

/* Which endpoint each rewrite takes, from the flow entry the quoted packet belongs to. */
static __always_inline void icmp_translation_of(struct packet *pkt, const struct flow *f, int *reply, int *masq,
						struct lb_addr *nat, __u16 *nat_port, struct lb_addr *other, __u16 *other_port)
{
	*reply = f->direction == FLOW_REPLY;
	*masq = (f->flags & FLOW_F_MASQ) != 0;
	*nat = f->nat_addr;
	*nat_port = f->nat_port;
	*other = f->masq_addr;
	*other_port = f->masq_port;
	/* Towards the client, the error goes on its VLAN. */
	pkt->toward_client = f->direction;
	pkt->client_tag = vlan_tag_of(f->vlan_tci);
}

/* Translates the error in place: AF_INET or AF_INET6 when it did (the caller forwards it),
 * -1 when it is not about one of our flows. A subprogram of its own, which leaves the
 * forwarding to its caller: its temporaries get a frame apart from the main program's, and
 * the two together stay within the 512 bytes of stack kernels before 6.13 allow. */
static __noinline int icmp_error_nat(struct xdp_md *ctx, struct packet *pkt)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct icmp_error_hdr *icmp;
	struct quoted_ports *ports;
	struct lb_addr qsrc = {}, qdst = {}, nat, other;
	struct flow *f;
	__u16 nat_port, other_port;
	int reply, masq;

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
		qsrc.words[0] = qip->saddr;
		qdst.words[0] = qip->daddr;
		f = icmp_quoted_flow(&qsrc, &qdst, ports, qip->protocol, AF_INET);
		if (!f)
			return -1;
		icmp_translation_of(pkt, f, &reply, &masq, &nat, &nat_port, &other, &other_port);
		/* About a request (from the backend's side): the backend becomes the VIP; about a
		 * reply (from the client's side): the VIP becomes the backend. With masq, the node's
		 * address and port and the client's trade places too. */
		icmp4_rewrite(ip, icmp, qip, ports, !reply, nat.words[0], nat_port);
		if (masq)
			icmp4_rewrite(ip, icmp, qip, ports, reply, other.words[0], other_port);
		count(CNT_NAT_ICMP_ERROR);
		return AF_INET;
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
		__builtin_memcpy(&qsrc, &qip6->saddr, 16);
		__builtin_memcpy(&qdst, &qip6->daddr, 16);
		f = icmp_quoted_flow(&qsrc, &qdst, ports, qip6->nexthdr, AF_INET6);
		if (!f)
			return -1;
		icmp_translation_of(pkt, f, &reply, &masq, &nat, &nat_port, &other, &other_port);
		icmp6_rewrite(ip6, icmp, qip6, ports, !reply, &nat, nat_port);
		if (masq)
			icmp6_rewrite(ip6, icmp, qip6, ports, reply, &other, other_port);
		count(CNT_NAT_ICMP_ERROR);
		return AF_INET6;
	}
	return -1;
}

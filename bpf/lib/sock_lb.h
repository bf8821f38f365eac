/* The socket hooks' lookups and helpers (the hooks themselves are xdplb_sock.bpf.c): a
 * service by destination, who the client is, the address a hook reads and writes back, and
 * the IPVS count a socket holds on its backend. */
#pragma once

#include <bpf/bpf_core_read.h>

#include "common.h"
#include "maps.h"
#include "flow.h"
#include "backend_stats.h"
#include "sock_maps.h"

#define ECONNREFUSED 111

static __always_inline struct service *sock_service_of(const struct flow_key *flow)
{
	struct service_key key = {
		.addr = flow->daddr,
		.port = flow->dport,
		.proto = flow->proto,
		.family = flow->family,
	};

	return bpf_map_lookup_elem(&services, &key);
}

/* Who the client is, for affinity and source hashing: the address the socket is bound to,
 * or, for the usual unbound socket (its source is chosen after this hook), its network
 * namespace, which stands for a pod or the node. The stand-in cannot be a real client:
 * IPv4's has bits set in words IPv4 leaves zero, IPv6's is in ff00::/8 (multicast, never a
 * source). */
static __always_inline void sock_client_of(struct flow_key *flow, const struct bpf_sock *sk, __u64 netns_cookie)
{
	if (sk && flow->family == AF_INET && sk->src_ip4) {
		flow->saddr.words[0] = sk->src_ip4;
		return;
	}
	if (sk && flow->family == AF_INET6 && (sk->src_ip6[0] | sk->src_ip6[1] | sk->src_ip6[2] | sk->src_ip6[3])) {
		flow->saddr.words[0] = sk->src_ip6[0];
		flow->saddr.words[1] = sk->src_ip6[1];
		flow->saddr.words[2] = sk->src_ip6[2];
		flow->saddr.words[3] = sk->src_ip6[3];
		return;
	}
	if (flow->family == AF_INET) {
		flow->saddr.words[0] = (__u32)netns_cookie ^ (__u32)(netns_cookie >> 32);
		flow->saddr.words[1] = 0xffffffff;
	} else {
		flow->saddr.words[0] = bpf_htonl(0xff000000);
		flow->saddr.words[2] = (__u32)netns_cookie;
		flow->saddr.words[3] = (__u32)(netns_cookie >> 32);
	}
}

/* Whether the socket path may take a service: direct routing and tunnels need the packet
 * to reach the backend addressed to the VIP, which only the network path does. */
static __always_inline int sock_serves(const struct service *svc)
{
	if (svc->flags & (SVC_F_DIRECT | SVC_F_TUNNEL)) {
		sock_count(SOCK_CNT_SKIPPED_MODE);
		return 0;
	}
	return 1;
}

/* The epoch of the backend an id names now (see struct backend_status). */
static __always_inline __u32 sock_epoch_of(__u32 backend_id)
{
	struct backend_status *st = bpf_map_lookup_elem(&backend_status, &backend_id);

	return st ? st->epoch : 0;
}

/* Whether the backend chosen under an id is still in the service it was chosen in (weight
 * 0 included: IPVS keeps the connections of a quiesced dest), and not a later backend that
 * was given the same id after it left. */
static __always_inline int sock_backend_current(__u32 backend_id, __u32 service_id, __u32 epoch)
{
	struct backend_status *st = bpf_map_lookup_elem(&backend_status, &backend_id);

	return st && st->service_id == service_id && st->weight_plus_one > 0 && st->epoch == epoch;
}

/* Gives back the IPVS count a socket holds, while its backend is still the one it counted
 * on: a removed backend's id may have been given to another with fresh counts. */
static __always_inline void sock_release_count(struct sock_translation *t)
{
	struct backend_conns *c;
	__u8 counted = t->counted;

	t->counted = SOCK_COUNTED_NONE;
	if (counted == SOCK_COUNTED_NONE || !sock_backend_current(t->backend_id, t->service_id, t->epoch))
		return;
	c = backend_conns_of(t->backend_id);
	if (!c)
		return;
	if (counted == SOCK_COUNTED_ACTIVE) {
		if (READ_ONCE(c->active))
			__sync_fetch_and_sub(&c->active, 1);
	} else if (READ_ONCE(c->inactive)) {
		__sync_fetch_and_sub(&c->inactive, 1);
	}
}

/* Moves a socket's count to `to` (active or inactive), as IPVS does on entering or
 * leaving ESTABLISHED. */
static __always_inline void sock_hold_count(struct sock_translation *t, __u8 to)
{
	struct backend_conns *c;

	if (t->counted == to)
		return;
	sock_release_count(t);
	/* A backend gone meanwhile is counted no more, as IPVS forgets a removed dest's connections. */
	if (!sock_backend_current(t->backend_id, t->service_id, t->epoch))
		return;
	c = backend_conns_of(t->backend_id);
	if (!c)
		return;
	if (to == SOCK_COUNTED_ACTIVE)
		__sync_fetch_and_add(&c->active, 1);
	else
		__sync_fetch_and_add(&c->inactive, 1);
	t->counted = to;
}

/* The address a hook writes back: the backend's, or for an IPv6 socket reaching an IPv4
 * service, the backend's as ::ffff:a.b.c.d. */
static __always_inline void sock_set_user_ip6(struct bpf_sock_addr *ctx, const struct lb_addr *addr, int mapped)
{
	if (mapped) {
		ctx->user_ip6[0] = 0;
		ctx->user_ip6[1] = 0;
		ctx->user_ip6[2] = bpf_htonl(0xffff);
		ctx->user_ip6[3] = addr->words[0];
		return;
	}
	ctx->user_ip6[0] = addr->words[0];
	ctx->user_ip6[1] = addr->words[1];
	ctx->user_ip6[2] = addr->words[2];
	ctx->user_ip6[3] = addr->words[3];
}

/* The destination a sock_addr hook was given, as a flow key (daddr, dport, proto,
 * family). An IPv6 socket's ::ffff:a.b.c.d is taken as IPv4; *mapped says so. */
static __always_inline void sock_destination(struct bpf_sock_addr *ctx, struct flow_key *flow, int ipv6, int *mapped)
{
	flow->proto = ctx->protocol;
	flow->dport = (__u16)ctx->user_port;
	*mapped = 0;
	if (!ipv6) {
		flow->family = AF_INET;
		flow->daddr.words[0] = ctx->user_ip4;
		return;
	}
	flow->family = AF_INET6;
	flow->daddr.words[0] = ctx->user_ip6[0];
	flow->daddr.words[1] = ctx->user_ip6[1];
	flow->daddr.words[2] = ctx->user_ip6[2];
	flow->daddr.words[3] = ctx->user_ip6[3];
	if (flow->daddr.words[0] == 0 && flow->daddr.words[1] == 0 && flow->daddr.words[2] == bpf_htonl(0xffff)) {
		flow->family = AF_INET;
		flow->daddr.words[0] = flow->daddr.words[3];
		flow->daddr.words[2] = 0;
		flow->daddr.words[3] = 0;
		*mapped = 1;
	}
}

static __always_inline void sock_set_destination(struct bpf_sock_addr *ctx, const struct backend *be, int ipv6, int mapped)
{
	if (ipv6)
		sock_set_user_ip6(ctx, &be->addr, mapped);
	else
		ctx->user_ip4 = be->addr.words[0];
	ctx->user_port = be->port;
}

/* A service without a usable backend refuses the connection, as a reset from IPVS would:
 * ECONNREFUSED where the kernel lets the hook say so (5.18), EPERM before. */
static __always_inline int sock_refuse(void)
{
	sock_count(SOCK_CNT_NO_BACKEND);
	if (bpf_core_enum_value_exists(enum bpf_func_id, BPF_FUNC_set_retval))
		bpf_set_retval(-ECONNREFUSED);
	return 0;
}

/* The entry of an unconnected socket's peers for a VIP, else a free or the least recently
 * used one (*found 0). Unrolled: SOCK_UDP_PEERS is small. */
static __always_inline struct sock_udp_peer *sock_udp_slot(struct sock_udp_peers *peers, const struct flow_key *flow, int *found)
{
	struct sock_udp_peer *slot = &peers->peers[0];

	*found = 0;
#pragma unroll
	for (int i = 0; i < SOCK_UDP_PEERS; i++) {
		struct sock_udp_peer *p = &peers->peers[i];

		if (p->family == flow->family && p->vport == flow->dport && lb_addr_equal(&p->vip, &flow->daddr)) {
			*found = 1;
			return p;
		}
		if (slot->family && (!p->family || p->last_used_ns < slot->last_used_ns))
			slot = p;
	}
	return slot;
}

/* The VIP an unconnected socket sent to, for a datagram from one of its backends. */
static __always_inline struct sock_udp_peer *sock_udp_peer_of(struct sock_udp_peers *peers, const struct flow_key *from)
{
#pragma unroll
	for (int i = 0; i < SOCK_UDP_PEERS; i++) {
		struct sock_udp_peer *p = &peers->peers[i];

		if (p->family == from->family && p->backend_port == from->dport && lb_addr_equal(&p->backend_addr, &from->daddr))
			return p;
	}
	return 0;
}

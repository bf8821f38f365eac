/* forwarding: masq. DNAT to the backend plus SNAT to the node's address towards it, on a
 * port of masq.portRange, so that the backend answers the node (hairpin, backends that do
 * not route back through it). A port is claimed by inserting the reply entry with
 * BPF_NOEXIST: the connection table itself is the allocator, so two connections can never
 * share (backend, node address, port), and a port is free again when its entry expires. */
#pragma once

#include "common.h"
#include "xdp_maps.h"
#include "flow.h"
#include "conntrack.h"
#include "parse.h"
#include "forward.h"
#include "tunnel.h"

/* Random ports tried before a new connection is refused: with the range 90% full, 32
 * tries still find a free one with probability 1 - 0.9^32 = 97%. */
#define MASQ_PORT_TRIES 32
#define MASQ_DEFAULT_MIN 32768
#define MASQ_DEFAULT_MAX 60999

/* Inserts the reply entry (its key's dport left to choose) on a free port of the range.
 * Returns the port in network byte order, 0 when none was free, -1 when the table is full. */
static __always_inline int masq_claim_port(struct flow_key *rev, struct flow *reply)
{
	__u32 zero = 0, min = MASQ_DEFAULT_MIN, span = MASQ_DEFAULT_MAX - MASQ_DEFAULT_MIN + 1;
	struct masq_port_range *range = bpf_map_lookup_elem(&masq_ports, &zero);
	long err;

	if (range && range->min && range->max >= range->min) {
		min = range->min;
		span = (__u32)range->max - range->min + 1;
	}
	for (int i = 0; i < MASQ_PORT_TRIES; i++) {
		__u16 port = bpf_htons((__u16)(min + bpf_get_prandom_u32() % span));

		rev->dport = port;
		err = bpf_map_update_elem(&conntrack, rev, reply, BPF_NOEXIST);
		/* A lock that gave up (conntrack.h, conn_insert): once more on the same port. */
		if (err && err != -17)
			err = bpf_map_update_elem(&conntrack, rev, reply, BPF_NOEXIST);
		if (!err)
			return port;
		if (err != -17 /* EEXIST: the port is taken, try another */)
			return -1;
	}
	return 0;
}

/* What masq_open did. */
enum masq_result {
	MASQ_OPENED = 1,
	MASQ_RACED = 0,       /* another CPU opened the same connection first: use its entry */
	MASQ_TABLE_FULL = -1,
	MASQ_NO_ROUTE = -2,
	MASQ_NO_PORT = -3,
};

/* Opens a masqueraded connection: the node's source towards the backend (the route's, or
 * the configured one where the kernel cannot say), a port (the reply entry first: it
 * claims the port), then the request entry that records it. tci_state: the client's
 * 802.1Q TCI << 16 | the first TCP state (five arguments is BPF's limit). Global: verified
 * once, apart from the packet paths that reach it. */
__noinline int masq_open(struct xdp_md *ctx, const struct flow_key *req, const struct backend *be,
			 const struct service *svc, __u32 tci_state)
{
	__u32 zero = 0;
	struct masq_scratch *s = bpf_map_lookup_elem(&masq_scratch, &zero);
	struct flow_key *key, *rev;
	struct flow *entry;
	int port;
	long err;
	int no_source;

	if (!s || !ctx || !req || !be || !svc)
		return MASQ_TABLE_FULL;
	/* Map keys from the scratch area: kernels before 6.3 take no argument memory as one. */
	key = &s->request;
	rev = &s->reply_key;
	entry = &s->entry;
	*key = *req;
	no_source = route_source_with(ctx, &s->fib, key, &be->addr, &s->node);
	if (no_source < 0 && tunnel_source_of(key->family, &s->node) == 0)
		no_source = 0; /* the kernel cannot name the route's source: the configured one */
	if (no_source)
		return MASQ_NO_ROUTE;

	__builtin_memset(entry, 0, sizeof(*entry));
	entry->nat_addr = key->daddr;
	entry->nat_port = key->dport;
	entry->direction = FLOW_REPLY;
	entry->flags = FLOW_F_MASQ;
	entry->backend_id = be->id;
	entry->service_id = svc->id;
	entry->last_seen_ns = bpf_ktime_get_ns();
	entry->masq_addr = key->saddr;
	entry->masq_port = key->sport;
	entry->vlan_tci = tci_state >> 16;
	__builtin_memset(rev, 0, sizeof(*rev));
	rev->saddr = be->addr;
	rev->sport = be->port;
	rev->daddr = s->node;
	rev->proto = key->proto;
	rev->family = key->family;
	port = masq_claim_port(rev, entry);
	if (port <= 0)
		return port ? MASQ_TABLE_FULL : MASQ_NO_PORT;

	entry->nat_addr = be->addr;
	entry->nat_port = be->port;
	entry->direction = FLOW_REQUEST;
	entry->state = tci_state & 0xffff;
	entry->masq_addr = s->node;
	entry->masq_port = (__u16)port;
	entry->tag = index_tag();
	err = bpf_map_update_elem(&conntrack, key, entry, BPF_NOEXIST);
	if (err && err != -17)
		err = bpf_map_update_elem(&conntrack, key, entry, BPF_NOEXIST);
	if (err) {
		bpf_map_delete_elem(&conntrack, rev);
		return err == -17 /* EEXIST */ ? MASQ_RACED : MASQ_TABLE_FULL;
	}
	return MASQ_OPENED;
}

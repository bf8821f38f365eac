/* Per-backend counters, indexed by the backend id the control plane assigns.
 * Connection counts are shared (the lc family reads them, and must see every CPU's
 * connections), traffic counters are per CPU. */
#pragma once

#include "common.h"
#include "maps.h"

static __always_inline struct backend_conns *backend_conns_of(__u32 backend_id)
{
	return bpf_map_lookup_elem(&backend_conns, &backend_id);
}

static __always_inline void backend_count_packet(__u32 backend_id, int reply, __u32 ip_bytes, int new_conn)
{
	struct backend_traffic *t = bpf_map_lookup_elem(&backend_traffic, &backend_id);

	if (!t)
		return;
	if (new_conn)
		t->conns++;
	if (reply) {
		t->packets_out++;
		t->bytes_out += ip_bytes;
	} else {
		t->packets_in++;
		t->bytes_in += ip_bytes;
	}
}

/* A connection that reached a backend without passing here packet by packet (the socket
 * hooks): IPVS's conns counter only. */
static __always_inline void backend_count_connection(__u32 backend_id)
{
	struct backend_traffic *t = bpf_map_lookup_elem(&backend_traffic, &backend_id);

	if (t)
		t->conns++;
}

/* Moves a connection between the active and inactive counts as IPVS does on entering or
 * leaving ESTABLISHED. */
static __always_inline void backend_conns_transition(__u32 backend_id, __u32 from, __u32 to)
{
	struct backend_conns *c;
	int was_active = from == 1 /* TCP_S_ESTABLISHED */;
	int is_active = to == 1;

	if (was_active == is_active)
		return;
	c = backend_conns_of(backend_id);
	if (!c)
		return;
	if (is_active) {
		__sync_fetch_and_add(&c->active, 1);
		__sync_fetch_and_sub(&c->inactive, 1);
	} else {
		__sync_fetch_and_sub(&c->active, 1);
		__sync_fetch_and_add(&c->inactive, 1);
	}
}

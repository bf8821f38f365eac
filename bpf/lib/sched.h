/* Backend selection. rr follows ip_vs_rr.c: the control plane writes a service's usable
 * backends (weight > 0) into slots in IPVS list order, newest first, and the cursor steps
 * through them; an atomic ticket keeps the order exact across CPUs. */
#pragma once

#include "common.h"
#include "maps.h"

static __always_inline struct backend *sched_pick(const struct service *svc)
{
	struct sched_state *st;
	struct slot_key key = {};
	__u32 n = svc->backend_count;
	__u32 id = svc->id;
	__u64 ticket;

	if (n == 0)
		return 0;
	st = bpf_map_lookup_elem(&sched_states, &id);
	if (!st)
		return 0;
	ticket = __sync_fetch_and_add(&st->rr_counter, 1);
	key.service_id = id;
	key.generation = svc->generation;
	key.index = ticket % n;
	return bpf_map_lookup_elem(&backend_slots, &key);
}

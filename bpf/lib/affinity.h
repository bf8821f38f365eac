/* ClientIP affinity, as IPVS persistence templates (docs/ipvs.md §5) with kube-proxy's
 * settings: the template is keyed by (protocol, client address, VIP, port) with client
 * port 0; a new connection follows a valid template, else the scheduler picks and the
 * template is (re)written. A template is valid while its backend is in the service with a
 * weight above 0 (expire_quiescent_template=1). The control plane expires templates that
 * are idle past the service's timeout and control no live connection. */
#pragma once

#include "common.h"
#include "maps.h"
#include "flow.h"
#include "sweep_index.h"

static __always_inline void affinity_key_of(struct affinity_key *k, const struct flow_key *flow)
{
	k->client = flow->saddr;
	k->vip = flow->daddr;
	k->vport = flow->dport;
	k->proto = flow->proto;
	k->family = flow->family;
}

/* The template's backend when it may take a new connection of this service. */
static __always_inline struct backend *affinity_lookup(const struct affinity_key *k, const struct service *svc, __u64 now)
{
	struct affinity *a = bpf_map_lookup_elem(&affinity, k);
	struct backend_status *st;
	__u32 *timeout;
	__u32 id;

	if (!a || a->service_id != svc->id)
		return 0;
	/* Expired, whether or not the sweeper has come by yet: idle past the service's
	 * timeout and controlling no connection. */
	id = svc->id;
	timeout = bpf_map_lookup_elem(&affinity_timeouts, &id);
	if (!READ_ONCE(a->controls) && now > a->last_used_ns &&
	    now - a->last_used_ns > (timeout ? (__u64)*timeout : 0) * 1000000000ULL)
		return 0;
	id = a->backend.id;
	st = bpf_map_lookup_elem(&backend_status, &id);
	if (!st || st->service_id != svc->id || st->weight_plus_one <= 1)
		return 0;
	a->last_used_ns = now;
	return &a->backend;
}

/* Global: verified once, and its frame stays off the data path's, which is near BPF's 512
 * bytes. */
__noinline int affinity_remember(const struct affinity_key *key, const struct backend *be,
				 const struct service *svc, __u64 now)
{
	union {
		struct affinity_key key;
		struct flow_key slot_key; /* the same bytes, as the sweep index keeps them */
	} k = {};
	struct affinity *old;
	struct affinity a = {};

	if (!key || !be || !svc)
		return 0;
	/* A copy: kernels before 6.3 take no function argument memory as a map key. */
	k.key = *key;
	old = bpf_map_lookup_elem(&affinity, &k.key);
	a.backend = *be;
	a.service_id = svc->id;
	a.last_used_ns = now;

	/* A template replaced (its backend left or was quiesced) still controls the connections
	 * of the old one: they end under the same key. Replaced whole, not field by field, since
	 * readers use its backend as they find it; a count added meanwhile may be lost, which
	 * only lets the template expire earlier. */
	if (old) {
		a.controls = READ_ONCE(old->controls);
		a.tag = old->tag;
		a.index_slot = old->index_slot;
	} else {
		__u32 id = svc->id;
		__u32 *timeout = bpf_map_lookup_elem(&affinity_timeouts, &id);

		a.tag = index_tag();
		a.index_slot = index_add(&k.slot_key, INDEX_TEMPLATE, a.tag, (__u32)(now / 1000000000ULL) + (timeout ? *timeout : 0));
		/* Without a slot nothing would ever expire it: no template, no affinity. */
		if (!a.index_slot)
			return 0;
	}
	/* A full template table costs affinity, not the connection. */
	if (bpf_map_update_elem(&affinity, &k.key, &a, BPF_ANY)) {
		if (!old)
			index_remove(a.index_slot, a.tag);
		return 0;
	}
	return 1;
}

/* A new connection that follows the template under this key: the template lives at least
 * as long as the connection. Returns 1 if it was counted (the connection must say so).
 * Global: its key stays off the data path's stack frame, which is near BPF's 512 bytes. */
__noinline int affinity_control(const struct flow_key *flow, __u32 backend_id)
{
	struct affinity_key k = {};
	struct affinity *a;

	if (!flow)
		return 0;
	affinity_key_of(&k, flow);
	a = bpf_map_lookup_elem(&affinity, &k);
	if (!a || a->backend.id != backend_id)
		return 0;
	__sync_fetch_and_add(&a->controls, 1);
	return 1;
}

/* The sweeper's judgement of one index slot: a connection idle past its state's timeout, or
 * whose backend is purged, ends (conn_remove counts it); an affinity template goes when its
 * backend is purged, or when it is idle past its service's timeout and controls no connection
 * (IPVS re-arms a template's timer while it has controlled connections); a slot whose entry is
 * gone is freed; any other slot learns when it can be due next. */
#pragma once

#include "common.h"
#include "flow.h"
#include "conntrack.h"
#include "affinity.h"
#include "sweep_index.h"

enum sweep_outcome {
	SWEEP_FREE = 0,
	SWEEP_LIVE = 1,
	SWEEP_ENDED = 2,
};

static __always_inline int purged(__u32 backend_id)
{
	__u32 *purge = bpf_map_lookup_elem(&conntrack_purge, &backend_id);

	return purge && *purge;
}

static __always_inline int sweep_connection(struct index_window *win, __u32 way, __u32 tag, __u64 now)
{
	struct flow_key key = win->key[way & (INDEX_WAYS - 1)];
	struct flow *f = bpf_map_lookup_elem(&conntrack, &key);
	__u64 timeout, seen;

	if (!f || f->direction != FLOW_REQUEST || f->tag != tag) {
		__sync_val_compare_and_swap(&win->tag[way & (INDEX_WAYS - 1)], tag, 0);
		return SWEEP_FREE;
	}
	if (purged(f->backend_id))
		return conn_remove(&key, f, CT_EXPIRED_BACKEND_REMOVED) ? SWEEP_ENDED : SWEEP_LIVE;
	timeout = conn_timeout_ns(conntrack_config_get(), key.proto, READ_ONCE(f->state));
	seen = READ_ONCE(f->last_seen_ns);
	if (timeout && now > seen && now - seen > timeout)
		return conn_remove(&key, f, CT_EXPIRED_IDLE) ? SWEEP_ENDED : SWEEP_LIVE;
	win->due_s[way & (INDEX_WAYS - 1)] = timeout ? (__u32)((seen + timeout) / NS_PER_S) : (__u32)(now / NS_PER_S) + 3600;
	return SWEEP_LIVE;
}

static __always_inline int sweep_template(struct index_window *win, __u32 way, __u32 tag, __u64 now)
{
	struct affinity_key key;
	struct affinity *a;
	__u32 service_id, *timeout;
	__u64 used, timeout_ns;

	__builtin_memcpy(&key, &win->key[way & (INDEX_WAYS - 1)], sizeof(key));
	a = bpf_map_lookup_elem(&affinity, &key);
	if (!a || a->tag != tag) {
		__sync_val_compare_and_swap(&win->tag[way & (INDEX_WAYS - 1)], tag, 0);
		return SWEEP_FREE;
	}
	service_id = a->service_id;
	timeout = bpf_map_lookup_elem(&affinity_timeouts, &service_id);
	timeout_ns = (timeout ? (__u64)*timeout : 0) * NS_PER_S;
	used = READ_ONCE(a->last_used_ns);
	if (purged(a->backend.id) || (!READ_ONCE(a->controls) && now > used && now - used > timeout_ns)) {
		if (bpf_map_delete_elem(&affinity, &key))
			return SWEEP_LIVE;
		__sync_val_compare_and_swap(&win->tag[way & (INDEX_WAYS - 1)], tag, 0);
		return SWEEP_ENDED;
	}
	/* While it controls connections it stays; look again a timeout later. */
	win->due_s[way & (INDEX_WAYS - 1)] = (__u32)((READ_ONCE(a->controls) ? now : used) / NS_PER_S + timeout_ns / NS_PER_S);
	return SWEEP_LIVE;
}

/* One slot; check_all: look at it even if it is not due (a purge, changed timeouts). Global:
 * verified once. Returns enum sweep_outcome. */
__noinline int sweep_slot(struct index_window *win, __u32 way, __u64 now, __u32 check_all)
{
	__u32 tag;

	if (!win)
		return SWEEP_FREE;
	way &= INDEX_WAYS - 1;
	tag = __sync_fetch_and_add(&win->tag[way], 0);
	if (!tag || tag == INDEX_CLAIMING)
		return SWEEP_FREE;
	if (!check_all && win->due_s[way] > now / NS_PER_S)
		return SWEEP_LIVE;
	if (win->kind[way] == INDEX_TEMPLATE)
		return sweep_template(win, way, tag, now);
	return sweep_connection(win, way, tag, now);
}

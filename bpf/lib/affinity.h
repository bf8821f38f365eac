/* ClientIP affinity, as IPVS persistence templates (ipvs.md §3) with kube-proxy's
 * settings: the template is keyed by (protocol, client address, VIP, port) with client
 * port 0; a new connection follows a valid template, else the scheduler picks and the
 * template is (re)written. A template is valid while its backend is in the service with a
 * weight above 0 (expire_quiescent_template=1). The control plane expires templates that
 * are idle past the service's timeout and control no live connection. */
#pragma once

#include "common.h"
#include "maps.h"
#include "flow.h"

#define SVC_F_PERSISTENT 0x01

struct affinity_key {
	struct lb_addr client;
	struct lb_addr vip;
	__u16 vport; /* network byte order */
	__u8 proto;
	__u8 family;
};

struct affinity {
	struct backend backend;
	__u32 service_id;
	__u32 reserved;
	__u64 last_used_ns; /* the last new connection that used it */
};

/* Whether a backend id belongs to a service now, and with which weight: the control plane
 * writes it on every change and clears it when the backend leaves its service. The epoch
 * goes up each time the id is given to a backend, so that what remembers an id (a socket's
 * translation) can tell the backend it chose from a later one under the same id. */
struct backend_status {
	__u32 service_id;
	__u32 weight_plus_one; /* 0: not a backend of any service */
	__u32 epoch;
	__u32 reserved;        /* an array's values are 8-byte aligned: say so */
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 65536);
	__type(key, struct affinity_key);
	__type(value, struct affinity);
} affinity SEC(".maps");

/* Mmapable: the control plane writes it as memory, not one syscall per backend. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct backend_status);
} backend_status SEC(".maps");

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
	__u32 id;

	if (!a || a->service_id != svc->id)
		return 0;
	id = a->backend.id;
	st = bpf_map_lookup_elem(&backend_status, &id);
	if (!st || st->service_id != svc->id || st->weight_plus_one <= 1)
		return 0;
	a->last_used_ns = now;
	return &a->backend;
}

static __always_inline void affinity_remember(const struct affinity_key *k, const struct backend *be,
					      const struct service *svc, __u64 now)
{
	struct affinity a = {
		.backend = *be,
		.service_id = svc->id,
		.last_used_ns = now,
	};

	/* A full template table costs affinity, not the connection. */
	bpf_map_update_elem(&affinity, k, &a, BPF_ANY);
}

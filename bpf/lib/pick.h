/* The backend of a new connection, for the XDP path and the socket hooks alike: both
 * take the same affinity templates and the same scheduler state. */
#pragma once

#include "common.h"
#include "maps.h"
#include "flow.h"
#include "affinity.h"
#include "sched.h"

/* The backend for a new connection: the client's affinity template's when the service is
 * persistent and the template still valid, otherwise the scheduler's choice. */
static __always_inline struct backend *pick_backend(const struct service *svc, const struct flow_key *flow)
{
	struct affinity_key key = {};
	struct backend *be;
	__u64 now;

	if (!(svc->flags & SVC_F_PERSISTENT))
		return sched_pick(svc, flow);
	now = bpf_ktime_get_ns();
	affinity_key_of(&key, flow);
	be = affinity_lookup(&key, svc, now);
	if (be)
		return be;
	be = sched_pick(svc, flow);
	if (be)
		affinity_remember(&key, be, svc, now);
	return be;
}

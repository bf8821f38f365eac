/* Global outcome counters, one per reason a packet took the path it took. Per-CPU so
 * the data path never contends on them; the control plane sums the CPUs. */
#pragma once

#include "common.h"
#include "xdp_maps.h"

static __always_inline void count(enum lb_counter c)
{
	__u32 key = c;
	__u64 *v = bpf_map_lookup_elem(&counters, &key);

	if (v)
		*v += 1;
}

static __always_inline void count_ct(enum ct_event e)
{
	__u32 key = e;
	__u64 *v = bpf_map_lookup_elem(&conntrack_events, &key);

	if (v)
		__sync_fetch_and_add(v, 1);
}

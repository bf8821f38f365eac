/* The connection table's companions, one line each; the table itself is `conntrack` (flow.h).
 * conntrack.h says how connections live and end, sweep_index.h how they are found again. */
#pragma once

#include "common.h"
#include "flow.h"

/* IPVS's timeouts per state in seconds (0: never), and the sizes the control plane chose.
 * Written before the program is attached. */
struct conntrack_config {
	__u32 tcp_timeout_s[16]; /* by enum tcp_state */
	__u32 udp_timeout_s;
	__u32 ring_mask;         /* conntrack_reclaim_ring has ring_mask + 1 slots (a power of two) */
	__u32 index_windows;     /* conntrack_index's max_entries */
	__u32 reserved;
};

/* Tags name connections and affinity templates in the index and the reclaim ring: `next`
 * counts those given out; `reclaimed` is the ring's tail, the oldest tag reclaim has not
 * looked at yet. */
struct conntrack_tags {
	__u64 next;
	__u64 reclaimed;
};

/* The sweep index: a slot per connection and per affinity template, in windows of 8 that
 * fit a claim's probe; two slots per connection of limits.connections. */
#define INDEX_WAYS 8
#define INDEX_CLAIMING 0xffffffff

enum index_kind {
	INDEX_CONNECTION = 1,
	INDEX_TEMPLATE = 2,
};

struct index_window {
	__u32 tag[INDEX_WAYS];   /* the entry's tag; 0: free; INDEX_CLAIMING: being written */
	__u32 due_s[INDEX_WAYS]; /* not due before this second (CLOCK_MONOTONIC): skipped till then */
	__u8 kind[INDEX_WAYS];   /* enum index_kind */
	struct flow_key key[INDEX_WAYS]; /* a request key, or an affinity_key's bytes */
};

/* The reclaim ring: every connection in the order it was opened, by tag and index slot. */
struct reclaim_slot {
	__u32 tag;
	__u32 index_slot;        /* its slot in conntrack_index + 1 */
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct conntrack_config);
} conntrack_config SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct conntrack_tags);
} conntrack_tags SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, struct index_window);
} conntrack_index SEC(".maps");

/* Each CPU's window for its next claim + 1 (0: none yet): claims fill a window before moving
 * on, so that a new connection finds its slot in a cache line the last one brought in. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} conntrack_index_cursor SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct reclaim_slot);
} conntrack_reclaim_ring SEC(".maps");

/* Backend ids (non-zero) whose connections and templates the sweeper ends on its next
 * pass over everything: they left their service (expire_nodest_conn). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, __u32);
} conntrack_purge SEC(".maps");

static __always_inline struct conntrack_config *conntrack_config_get(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&conntrack_config, &zero);
}

static __always_inline struct conntrack_tags *conntrack_tags_get(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&conntrack_tags, &zero);
}

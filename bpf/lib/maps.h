/* Every map the XDP object shares with the socket hooks' object (the agent matches them by
 * name and hands the hooks' object the XDP object's file descriptors), with the structs that
 * are their keys and values. The maps only the XDP path uses are in xdp_maps.h, the socket
 * hooks' own in sock_maps.h. The agent checks the key and value structs of every map it reads
 * or pins against their C# twins (src/XdpLb.Bpf/Maps) through BTF at load, and adopts the maps
 * an earlier agent pinned when their BTF agrees, so names, types and layouts here are an ABI.
 * The per-CPU working maps (conntrack_index_cursor here, masq_scratch in xdp_maps.h) are
 * neither read nor pinned: nothing in them needs to outlive the program. max_entries are
 * placeholders: the agent sets them from the config's `limits:` before the object is loaded. */
#pragma once

#include "common.h"
#include "flow.h"

struct service_key {
	struct lb_addr addr;
	__u16 port; /* network byte order */
	__u8 proto;
	__u8 family;
};

/* Readers see one generation of a service's backend slots at a time: the control plane
 * writes the other generation, then replaces this value (an atomic swap for hash maps). */
struct service {
	__u32 id;            /* index into per-service arrays (scheduler state) */
	__u32 backend_count; /* number of slots in the live generation */
	__u32 generation;    /* live slot generation: 0 or 1 */
	__u8 scheduler;      /* enum lb_scheduler */
	__u8 flags;          /* enum svc_flag */
	__u16 reserved;
};

/* Bucket tables of the hashing schedulers, per (service, generation): slot index or
 * TABLE_EMPTY. sh and dh use 256 buckets, mh 4093 (IPVS's defaults). */
#define TABLE_EMPTY 0xffff
#define SH_TABLE_SIZE 256
#define MH_TABLE_SIZE 4093

struct table_key {
	__u32 service_id;
	__u32 generation;
};

struct bucket_table {
	__u16 slots[SH_TABLE_SIZE];
};

struct maglev_table {
	__u16 slots[4096]; /* MH_TABLE_SIZE used */
};

/* wrr's view of a service generation: the weights in list order, the largest weight of
 * each block of 64 (to skip blocks in one step), and ip_vs_wrr's mw and di. */
#define WRR_MAX_DESTS 4096
#define WRR_BLOCK 64
#define WRR_BLOCKS (WRR_MAX_DESTS / WRR_BLOCK)

struct wrr_table {
	__u32 max_weight; /* mw: the largest weight - (di - 1) */
	__u32 step;       /* di: gcd of the positive weights */
	__u16 weights[WRR_MAX_DESTS];
	__u16 block_max[WRR_BLOCKS];
};

struct slot_key {
	__u32 service_id;
	__u32 generation;
	__u32 index;
};

/* One dest of a service. rr's slots hold only the dests it may pick; every other
 * scheduler's slots hold all dests in IPVS list order, index = list position. */
struct backend {
	struct lb_addr addr;
	__u16 port;   /* network byte order */
	__u16 weight; /* 0: quiesced, no new connections */
	__u32 id;     /* index of the backend's counters */
	__u8 family;
	__u8 reserved;
	__u16 reserved2;
};

/* Scheduler state lives apart from `struct service` so that replacing a service value
 * (a generation flip) never resets a cursor that the data path is advancing. */
struct sched_state {
	__u64 rr_counter;
	__u64 wrr_position; /* ip_vs_wrr's (cl, cw): cl + 1 (0: list head) low, cw high */
};

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
	__u32 controls;     /* live connections of the XDP path it chose (conntrack.h, conn_end) */
	__u64 last_used_ns; /* the last new connection that used it */
	__u32 tag;          /* names it in the sweep index (sweep_index.h) */
	__u32 index_slot;   /* its slot there + 1; 0: none */
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

/* IPVS's activeconns / inactconns of a dest (docs/ipvs.md §4.2). Mmapable so that the
 * control plane can decrement atomically when it expires a connection. */
struct backend_conns {
	__u32 active;
	__u32 inactive;
};

/* IPVS's per-dest stats: conns, inpkts, outpkts, inbytes, outbytes (bytes at the IP layer). */
struct backend_traffic {
	__u64 conns;
	__u64 packets_in;
	__u64 packets_out;
	__u64 bytes_in;
	__u64 bytes_out;
};

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

/* Services and their schedulers. */

/* (VIP, port, protocol, family) -> the service: its id, live generation, scheduler, flags. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 1024);
	__type(key, struct service_key);
	__type(value, struct service);
} services SEC(".maps");

/* (service id, generation, index) -> a dest of that generation (README: generations). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 8192);
	__type(key, struct slot_key);
	__type(value, struct backend);
} backend_slots SEC(".maps");

/* By service id: rr's ticket and wrr's position, apart from the service value. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct sched_state);
} sched_states SEC(".maps");

/* (service id, generation) -> sh's or dh's 256 buckets. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 2048);
	__type(key, struct table_key);
	__type(value, struct bucket_table);
} bucket_tables SEC(".maps");

/* (service id, generation) -> mh's 4,093-slot lookup table. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 2048);
	__type(key, struct table_key);
	__type(value, struct maglev_table);
} maglev_tables SEC(".maps");

/* (service id, generation) -> wrr's weights and block maxima. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 2048);
	__type(key, struct table_key);
	__type(value, struct wrr_table);
} wrr_tables SEC(".maps");

/* Backends, by the id the agent gives each (service, dest). */

/* Each backend id's service and weight (struct backend_status). Mmapable: the control
 * plane writes it as memory, not one syscall per backend. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct backend_status);
} backend_status SEC(".maps");

/* IPVS activeconns / inactconns per backend, shared by all CPUs. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct backend_conns);
} backend_conns SEC(".maps");

/* IPVS's conns and packet/byte counters per backend, per CPU. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct backend_traffic);
} backend_traffic SEC(".maps");

/* ClientIP affinity (affinity.h). */

/* Persistence templates: (protocol, client, VIP, port) -> the backend chosen. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 65536);
	__type(key, struct affinity_key);
	__type(value, struct affinity);
} affinity SEC(".maps");

/* Each service id's affinity timeout in seconds (0: not persistent), for the sweeper. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u32);
} affinity_timeouts SEC(".maps");

/* The connection table and its companions (conntrack.h, sweep_index.h). */

/* A preallocated hash, not an LRU: an assured connection is never evicted to make room.
 * Preallocated, an insert takes an element from a per-CPU free list instead of allocating
 * one (allocation was most of a new flow's cost). When it is full, a new connection
 * reclaims the oldest one that never saw an answer (conntrack.h, conn_reclaim), and is
 * refused only when there is none. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, struct flow_key);
	__type(value, struct flow);
} conntrack SEC(".maps");

/* [0]: timeouts per state, and the sizes of the index and the ring. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct conntrack_config);
} conntrack_config SEC(".maps");

/* [0]: tags given out, and the reclaim ring's tail. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct conntrack_tags);
} conntrack_tags SEC(".maps");

/* The sweep index: a slot per connection and affinity template, in windows of 8. */
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

/* Connections in the order they were opened, for reclaim when the table is full. */
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

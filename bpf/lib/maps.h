/* Map definitions. Sizes here are placeholders: the control plane sets max_entries from
 * the config's `limits:` before the object is loaded. */
#pragma once

#include "common.h"

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

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 1024);
	__type(key, struct service_key);
	__type(value, struct service);
} services SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 8192);
	__type(key, struct slot_key);
	__type(value, struct backend);
} backend_slots SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct sched_state);
} sched_states SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 2048);
	__type(key, struct table_key);
	__type(value, struct bucket_table);
} bucket_tables SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 2048);
	__type(key, struct table_key);
	__type(value, struct maglev_table);
} maglev_tables SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 2048);
	__type(key, struct table_key);
	__type(value, struct wrr_table);
} wrr_tables SEC(".maps");

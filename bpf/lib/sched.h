/* Backend selection, one function per IPVS scheduler, each giving the kernel's choice
 * for the same input (docs/ipvs.md §2). The control plane precomputes what the kernel
 * precomputes (sh/dh/mh tables, with the same code as the C# reference models) and keeps
 * slots in IPVS list order; per-packet work here is a bounded walk at most. */
#pragma once

#include "common.h"
#include "maps.h"
#include "flow.h"
#include "backend_stats.h"
#include "ipvs_hash.h"

static __always_inline struct backend *slot_of(const struct service *svc, __u32 index)
{
	struct slot_key key = {
		.service_id = svc->id,
		.generation = svc->generation,
		.index = index,
	};

	return bpf_map_lookup_elem(&backend_slots, &key);
}

/* rr (ip_vs_rr.c): slots hold the dests with weight > 0 in list order; an atomic ticket
 * walks them, which the control plane re-derives from ip_vs_rr's cursor on every change. */
static __always_inline int sched_rr(const struct service *svc)
{
	struct sched_state *st;
	__u32 id = svc->id;

	st = bpf_map_lookup_elem(&sched_states, &id);
	if (!st)
		return -1;
	return __sync_fetch_and_add(&st->rr_counter, 1) % svc->backend_count;
}

/* lc, wlc, sed, nq: one pass over the dests in list order with their live connection
 * counts, IPVS's overhead formulas and strict comparisons (earliest dest wins ties). */
struct least_conn_walk {
	const struct service *svc;
	__u8 scheduler;
	int least;          /* slot index, -1 for none yet */
	__s64 least_overhead;
	__s64 least_weight;
};

static long least_conn_step(__u32 index, struct least_conn_walk *w)
{
	struct backend *b = slot_of(w->svc, index);
	struct backend_conns *c;
	__u32 active, inactive;
	__s64 overhead, weight;

	if (!b || b->weight == 0)
		return 0;
	c = backend_conns_of(b->id);
	if (!c)
		return 0;
	active = READ_ONCE(c->active);
	inactive = READ_ONCE(c->inactive);
	weight = b->weight;

	if (w->scheduler == SCHED_LC) {
		/* ip_vs_lc: the overhead compared as unsigned. */
		__u32 doh = (active << 8) + inactive;

		if (w->least < 0 || doh < (__u32)w->least_overhead) {
			w->least = index;
			w->least_overhead = doh;
		}
		return 0;
	}
	if (w->scheduler == SCHED_WLC)
		overhead = (__s32)((active << 8) + inactive);
	else
		overhead = (__s32)(active + 1); /* sed, nq: inactive connections do not count */
	if (w->scheduler == SCHED_NQ && active == 0) {
		w->least = index; /* never queue: an idle dest wins at once */
		return 1;
	}
	if (w->least < 0 || w->least_overhead * weight > overhead * w->least_weight) {
		w->least = index;
		w->least_overhead = overhead;
		w->least_weight = weight;
	}
	return 0;
}

static __always_inline int sched_least_conn(const struct service *svc)
{
	struct least_conn_walk w = {
		.svc = svc,
		.scheduler = svc->scheduler,
		.least = -1,
	};

	bpf_loop(svc->backend_count, least_conn_step, &w, 0);
	return w.least;
}

/* A table bucket's slot when its dest is available (non-empty, weight > 0), else -1. */
static __always_inline int available(const struct service *svc, __u16 slot)
{
	struct backend *b;

	if (slot == TABLE_EMPTY)
		return -1;
	b = slot_of(svc, slot);
	return b && b->weight > 0 ? slot : -1;
}

/* sh-fallback (ip_vs_sh.c): buckets (i + 2*ihash) & 255 in turn; an empty bucket ends it. */
struct sh_fallback_walk {
	const struct service *svc;
	const struct bucket_table *table;
	__u32 ihash;
	int found;
};

static long sh_fallback_step(__u32 i, struct sh_fallback_walk *w)
{
	__u16 slot = w->table->slots[bounded(i + 2 * w->ihash, SH_TABLE_SIZE - 1)];

	if (slot == TABLE_EMPTY)
		return 1;
	w->found = available(w->svc, slot);
	return w->found >= 0 ? 1 : 0;
}

/* sh (source hashing) and dh (destination hashing): a 256-bucket table by hash_32. */
static __always_inline int sched_hash_table(const struct service *svc, const struct flow_key *flow)
{
	struct table_key key = { .service_id = svc->id, .generation = svc->generation };
	struct bucket_table *table = bpf_map_lookup_elem(&bucket_tables, &key);
	struct sh_fallback_walk w = { .found = -1 };
	int b;
	__u32 ihash;

	if (!table)
		return -1;
	if (svc->scheduler == SCHED_DH) {
		ihash = ipvs_hash_32(ipvs_addr_fold(&flow->daddr, flow->family), 8);
		return available(svc, table->slots[bounded(ihash, SH_TABLE_SIZE - 1)]);
	}
	ihash = ipvs_hash_32((svc->flags & SVC_F_SCHED_PORT ? bpf_ntohs(flow->sport) : 0) +
				     ipvs_addr_fold(&flow->saddr, flow->family), 8);
	b = available(svc, table->slots[bounded(ihash, SH_TABLE_SIZE - 1)]);
	if (b >= 0 || !(svc->flags & SVC_F_SCHED_FALLBACK) || table->slots[bounded(ihash, SH_TABLE_SIZE - 1)] == TABLE_EMPTY)
		return b;
	w.svc = svc;
	w.table = table;
	w.ihash = ihash;
	bpf_loop(SH_TABLE_SIZE, sh_fallback_step, &w, 0);
	return w.found;
}

/* mh (ip_vs_mh.c): Maglev lookup; mh-fallback re-hashes with offsets (i + ihash) % M
 * inside the hashed value, and an empty slot ends it. */
struct mh_fallback_walk {
	const struct service *svc;
	const struct maglev_table *table;
	__u32 key;   /* port + address fold */
	__u32 ihash;
	int found;
};

static __always_inline __u32 mh_slot(__u32 key, __u32 offset)
{
	return ipvs_hsiphash_u32(offset + key, MH_HASH1, MH_HASH1) % MH_TABLE_SIZE;
}

static long mh_fallback_step(__u32 i, struct mh_fallback_walk *w)
{
	__u16 slot = w->table->slots[bounded(mh_slot(w->key, (i + w->ihash) % MH_TABLE_SIZE), 4095)];

	if (slot == TABLE_EMPTY)
		return 1;
	w->found = available(w->svc, slot);
	return w->found >= 0 ? 1 : 0;
}

static __always_inline int sched_maglev(const struct service *svc, const struct flow_key *flow)
{
	struct table_key key = { .service_id = svc->id, .generation = svc->generation };
	struct maglev_table *table = bpf_map_lookup_elem(&maglev_tables, &key);
	struct mh_fallback_walk w = { .found = -1 };
	int b;
	__u32 hkey, ihash;
	__u16 first;

	if (!table)
		return -1;
	hkey = (svc->flags & SVC_F_SCHED_PORT ? bpf_ntohs(flow->sport) : 0) + ipvs_addr_fold(&flow->saddr, flow->family);
	ihash = mh_slot(hkey, 0);
	first = table->slots[bounded(ihash, 4095)];
	b = available(svc, first);
	if (b >= 0 || !(svc->flags & SVC_F_SCHED_FALLBACK) || first == TABLE_EMPTY)
		return b;
	w.svc = svc;
	w.table = table;
	w.key = hkey;
	w.ihash = ihash;
	bpf_loop(MH_TABLE_SIZE, mh_fallback_step, &w, 0);
	return w.found;
}

/* wrr (ip_vs_wrr.c). Without overloaded dests the kernel's walk reduces to: the first dest
 * after the cursor with weight >= cw; failing that, cw -= di (back to mw at 0) and the
 * first dest from the head with weight >= cw, which always exists (the heaviest has
 * weight >= mw). The (cursor, cw) pair moves by compare-and-swap, so CPUs picking at once
 * take consecutive steps of the same sequence. */
struct wrr_search {
	const struct wrr_table *table;
	__u32 count;
	__u32 cw;
	__u32 from;  /* first index to test */
	int found;
};

static long wrr_scan_step(__u32 i, struct wrr_search *s)
{
	__u32 j = s->from + i;

	if (j >= s->count)
		return 1;
	if (s->table->weights[bounded(j, WRR_MAX_DESTS - 1)] >= s->cw) {
		s->found = j;
		return 1;
	}
	return 0;
}

static long wrr_block_step(__u32 i, struct wrr_search *s)
{
	__u32 b = s->from / WRR_BLOCK + i;

	if (b * WRR_BLOCK >= s->count)
		return 1;
	if (s->table->block_max[bounded(b, WRR_BLOCKS - 1)] >= s->cw) {
		s->found = b;
		return 1;
	}
	return 0;
}

/* The first index >= from with weight >= cw, or -1: the rest of from's block, then the
 * first later block whose maximum qualifies, then inside that block. */
static __always_inline int wrr_find(const struct wrr_table *table, __u32 count, __u32 from, __u32 cw)
{
	struct wrr_search s = { .table = table, .count = count, .cw = cw, .from = from, .found = -1 };

	bpf_loop(WRR_BLOCK - from % WRR_BLOCK, wrr_scan_step, &s, 0);
	if (s.found >= 0)
		return s.found;
	s.from = (from / WRR_BLOCK + 1) * WRR_BLOCK;
	bpf_loop(WRR_BLOCKS, wrr_block_step, &s, 0);
	if (s.found < 0)
		return -1;
	s.from = s.found * WRR_BLOCK;
	s.found = -1;
	bpf_loop(WRR_BLOCK, wrr_scan_step, &s, 0);
	return s.found;
}

static __always_inline int sched_wrr(const struct service *svc)
{
	struct table_key key = { .service_id = svc->id, .generation = svc->generation };
	struct wrr_table *table = bpf_map_lookup_elem(&wrr_tables, &key);
	__u32 id = svc->id, count = svc->backend_count;
	struct sched_state *st;
	int pick = -1;

	st = bpf_map_lookup_elem(&sched_states, &id);
	if (!table || !st || table->max_weight == 0 || count > WRR_MAX_DESTS)
		return -1;
	/* Unrolled: kernels before 6.4 refuse the loop clang makes of it (its back-edge is a
	 * fall-through, which their CFG check does not accept). */
#pragma unroll
	for (int attempt = 0; attempt < 8; attempt++) {
		__u64 old = READ_ONCE(st->wrr_position);
		__u32 cursor = (__u32)old; /* cl + 1; 0 is the head */
		__u32 cw = old >> 32;

		if (cw == 0 || cw > table->max_weight)
			cw = table->max_weight;
		pick = wrr_find(table, count, cursor, cw);
		if (pick < 0) {
			cw = cw > table->step ? cw - table->step : table->max_weight;
			pick = wrr_find(table, count, 0, cw);
			if (pick < 0)
				return -1;
		}
		if (__sync_val_compare_and_swap(&st->wrr_position, old, ((__u64)cw << 32) | (pick + 1)) == old)
			break;
	}
	return pick;
}

/* The slot of the dest the service's scheduler picks, or -1. A global function: the
 * verifier checks it once, not once for every path of packet parsing that reaches it. */
__attribute__((noinline)) int sched_pick_slot(const struct service *svc, const struct flow_key *flow)
{
	if (!svc || !flow || svc->backend_count == 0)
		return -1;
	switch (svc->scheduler) {
	case SCHED_RR:
		return sched_rr(svc);
	case SCHED_WRR:
		return sched_wrr(svc);
	case SCHED_LC:
	case SCHED_WLC:
	case SCHED_SED:
	case SCHED_NQ:
		return sched_least_conn(svc);
	case SCHED_SH:
	case SCHED_DH:
		return sched_hash_table(svc, flow);
	case SCHED_MH:
		return sched_maglev(svc, flow);
	default:
		return -1;
	}
}

static __always_inline struct backend *sched_pick(const struct service *svc, const struct flow_key *flow)
{
	int slot = sched_pick_slot(svc, flow);

	return slot < 0 ? 0 : slot_of(svc, slot);
}

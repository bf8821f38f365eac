/* The sweep index: every connection and affinity template holds a slot in an array, so that
 * the sweeper (xdplb.bpf.c, `sweep`) visits them a window at a time from a resume point, at a
 * cost per run the agent sets, whatever the table's size. A hash map has no resumable walk
 * but the map iterator, a tracing program, which kernels under lockdown refuse; and
 * bpf_for_each_map_elem always walks the whole map. Each slot also holds when its entry can
 * be due at the earliest, so that a pass looks up only the entries that may have expired.
 *
 * A slot is only a pointer: the entry is looked up by the slot's key and must carry the
 * slot's tag, so a slot that is stale or torn is recognised and freed, never trusted. */
#pragma once

#include "common.h"
#include "flow.h"
#include "maps.h"

/* Windows probed for a free slot: four from the CPU's cursor on, then four at random. At most
 * half the slots are taken (two per connection), so four random windows are all full with
 * probability 2^-32. */
#define INDEX_TRIES 8

static __always_inline __u32 now_seconds(void)
{
	return (__u32)(bpf_ktime_get_ns() / 1000000000ULL);
}

/* A new tag, never 0 nor INDEX_CLAIMING. */
static __always_inline __u32 index_tag(void)
{
	struct conntrack_tags *tags = conntrack_tags_get();
	__u32 tag;

	if (!tags)
		return 0;
	tag = (__u32)__sync_fetch_and_add(&tags->next, 1) + 1;
	return tag == INDEX_CLAIMING || tag == 0 ? 1 : tag;
}

static __always_inline struct index_window *index_window_of(__u32 slot)
{
	__u32 window = (slot - 1) / INDEX_WAYS;

	if (!slot)
		return 0;
	return bpf_map_lookup_elem(&conntrack_index, &window);
}

/* Claims a slot for an entry and publishes it. Returns the slot + 1, or 0 when every window
 * probed was full. Inline in the (global) functions that call it: a call of its own would
 * be one frame too many for the data path's chain on kernels before 6.2, which round each
 * frame up to 32 bytes within BPF's 512. */
static __always_inline int index_add(const struct flow_key *key, __u32 kind, __u32 tag, __u32 due_s)
{
	struct conntrack_config *cfg = conntrack_config_get();
	__u32 zero = 0, *cursor = bpf_map_lookup_elem(&conntrack_index_cursor, &zero);
	struct index_window *win;
	__u32 window, windows;

	if (!key || !cfg || !cfg->index_windows || !tag || !cursor)
		return 0;
	windows = cfg->index_windows;
	/* A random start for each CPU, so that they do not fill the same windows. */
	window = *cursor ? *cursor - 1 : bpf_get_prandom_u32() % windows;
#pragma clang loop unroll(disable)
	for (int t = 0; t < INDEX_TRIES; t++) {
		if (t == INDEX_TRIES / 2)
			window = bpf_get_prandom_u32() % windows; /* a crowded stretch: elsewhere */
		win = bpf_map_lookup_elem(&conntrack_index, &window);
		if (!win)
			return 0;
		for (int way = 0; way < INDEX_WAYS; way++) {
			if (READ_ONCE(win->tag[way]) || __sync_val_compare_and_swap(&win->tag[way], 0, INDEX_CLAIMING))
				continue;
			win->key[way] = *key;
			win->kind[way] = kind;
			win->due_s[way] = due_s;
			/* An exchange, not a store: it orders the key before the tag on every CPU,
			 * so a sweeper that reads the tag reads this key. */
			__sync_lock_test_and_set(&win->tag[way], tag);
			*cursor = window + 1;
			return window * INDEX_WAYS + way + 1;
		}
		window = window + 1 < windows ? window + 1 : 0;
	}
	return 0;
}

/* Frees an entry's slot, if it is still the entry's. */
static __always_inline void index_remove(__u32 slot, __u32 tag)
{
	struct index_window *win = index_window_of(slot);

	if (win)
		__sync_val_compare_and_swap(&win->tag[bounded(slot - 1, INDEX_WAYS - 1)], tag, 0);
}

/* Moves an entry's earliest expiry (its state changed to one with another timeout). */
static __always_inline void index_due(__u32 slot, __u32 tag, __u32 due_s)
{
	struct index_window *win = index_window_of(slot);
	__u32 way = bounded(slot - 1, INDEX_WAYS - 1);

	if (win && READ_ONCE(win->tag[way]) == tag)
		win->due_s[way] = due_s;
}

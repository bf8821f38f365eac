/* Connection state on top of the flow table: IPVS's TCP states and the active/inactive
 * counts they drive, timeouts, promotion to assured, and every way a connection ends
 * (expiry, port reuse, removal of its backend, reclaim when the table is full). Every end
 * goes through conn_end, which moves the counts only if it removed the request entry, so
 * two CPUs (or the sweeper and a packet) ending the same connection count it once. */
#pragma once

#include "common.h"
#include "flow.h"
#include "parse.h"
#include "tcp_state.h"
#include "backend_stats.h"
#include "counters.h"
#include "affinity.h"
#include "maps.h"
#include "sweep_index.h"

/* Ring slots looked at before a new connection is refused: stale ones (connections that were
 * assured or ended since) are skipped, and the tail moves past them for good. */
#define RECLAIM_TRIES 64
#define NS_PER_S 1000000000ULL

/* The state's timeout in ns; 0: none. */
static __always_inline __u64 conn_timeout_ns(const struct conntrack_config *cfg, __u8 proto, __u32 state)
{
	if (!cfg)
		return 0;
	if (proto != IPPROTO_TCP)
		return (__u64)cfg->udp_timeout_s * NS_PER_S;
	return (__u64)cfg->tcp_timeout_s[state & 15] * NS_PER_S;
}

static __always_inline int conn_idle_expired(const struct conntrack_config *cfg, __u8 proto,
					     const struct flow *f, __u64 now)
{
	__u64 timeout = conn_timeout_ns(cfg, proto, READ_ONCE(f->state));
	__u64 seen = READ_ONCE(f->last_seen_ns);

	return timeout && now > seen && now - seen > timeout;
}

/* The entry that holds a connection's state: the request entry itself, or for a reply
 * the request entry found from it (NULL if it is already gone). */
static __always_inline struct flow *conn_owner(const struct packet *pkt, struct flow *f)
{
	struct flow_key req;

	if (f->direction == FLOW_REQUEST)
		return f;
	flow_request_key(&req, &pkt->flow, f);
	return bpf_map_lookup_elem(&conntrack, &req);
}

/* Never reclaimed from now on. Two CPUs may both set it (the same bit): the event may then
 * be counted twice, the connection's fate not. */
static __always_inline void conn_assure(struct flow *owner)
{
	if (READ_ONCE(owner->flags) & FLOW_F_ASSURED)
		return;
	owner->flags |= FLOW_F_ASSURED;
	count_ct(CT_ASSURED);
}

/* What a TCP state change moves: the counts, assurance, and when the sweeper looks again.
 * Global: verified once, apart from the data path's many paths. */
__noinline int conn_state_moved(struct flow *owner, __u32 old, __u32 next)
{
	if (!owner)
		return 0;
	backend_conns_transition(owner->backend_id, old, next);
	if (next == TCP_S_ESTABLISHED)
		conn_assure(owner);
	/* The sweeper must not wait for the old state's (maybe longer) timeout. A second early
	 * is only a lookup too many. */
	index_due(owner->index_slot, owner->tag,
		  now_seconds() + (__u32)(conn_timeout_ns(conntrack_config_get(), IPPROTO_TCP, next) / NS_PER_S) - 1);
	return 0;
}

/* Moves the TCP state for this packet; only the CPU whose cmpxchg wins moves the counts. */
static __always_inline void conn_track(const struct packet *pkt, struct flow *owner, int reply)
{
	__u32 old, next;

	if (!pkt->tcp || !owner)
		return;
	old = owner->state;
	next = tcp_next_state(old, reply ? TCP_TABLE_OUTPUT
			       : owner->flags & FLOW_F_DIRECT ? TCP_TABLE_INPUT_ONLY : TCP_TABLE_INPUT, pkt->tcp);
	if (next != old && __sync_val_compare_and_swap(&owner->state, old, next) == old)
		conn_state_moved(owner, old, next);
}

/* Counts a connection that was just created: every new connection starts inactive. */
static __always_inline void conn_opened(__u32 backend_id, __u32 state)
{
	struct backend_conns *c = backend_conns_of(backend_id);

	if (c)
		__sync_fetch_and_add(&c->inactive, 1);
	backend_conns_transition(backend_id, TCP_S_NONE, state);
	count_ct(CT_OPENED);
}

/* Removes a connection (both entries) for `why` (enum ct_event). Returns 1 if this call
 * removed it: only then do the counts move. `req` is the caller's own copy: the entry's
 * memory is reused as soon as it is deleted, and kernels before 6.3 take no function
 * argument memory as a map key. */
static __always_inline int conn_remove(const struct flow_key *req, struct flow *f, __u32 why)
{
	union {
		struct flow_key rev;
		struct affinity_key template;
	} other = {};
	struct backend_conns *c;
	__u32 state = f->state, backend_id = f->backend_id, tag = f->tag, slot = f->index_slot;
	__u8 flags = f->flags;

	flow_reply_key(&other.rev, req, f);
	if (bpf_map_delete_elem(&conntrack, req))
		return 0;
	index_remove(slot, tag);
	/* Once more if a lock gave up (see conn_insert): a reply entry left behind is in no
	 * index and would never go. */
	if (!(flags & FLOW_F_DIRECT) && bpf_map_delete_elem(&conntrack, &other.rev) && bpf_map_lookup_elem(&conntrack, &other.rev))
		bpf_map_delete_elem(&conntrack, &other.rev);
	count_ct(why);
	if (flags & FLOW_F_AFFINITY) {
		struct affinity *a;

		__builtin_memset(&other, 0, sizeof(other));
		affinity_key_of(&other.template, req);
		a = bpf_map_lookup_elem(&affinity, &other.template);
		if (a && READ_ONCE(a->controls))
			__sync_fetch_and_sub(&a->controls, 1);
	}
	c = backend_conns_of(backend_id);
	if (!c)
		return 1;
	if (state == TCP_S_ESTABLISHED && req->proto == IPPROTO_TCP)
		__sync_fetch_and_sub(&c->active, 1);
	else
		__sync_fetch_and_sub(&c->inactive, 1);
	return 1;
}

/* Ends a connection for `why`. Global: verified once, not at each path that ends one. */
__noinline int conn_end(const struct flow_key *request, struct flow *f, __u32 why)
{
	struct flow_key req;

	if (!request || !f)
		return 0;
	req = *request;
	return conn_remove(&req, f, why);
}

/* IPVS conn_reuse_mode 1: a SYN that reuses the ports of a connection in TIME_WAIT or
 * CLOSE opens a new connection (rescheduled) instead of reviving the old one. */
static __always_inline int conn_reusable(const struct packet *pkt, const struct flow *f)
{
	return pkt->tcp && f->direction == FLOW_REQUEST && pkt->tcp->syn && !pkt->tcp->ack &&
	       !pkt->tcp->rst && (f->state == TCP_S_TIME_WAIT || f->state == TCP_S_CLOSE);
}

/* Records a connection that was just opened, with its index slot, as the newest in the ring. */
static __always_inline void reclaim_record(__u32 tag, __u32 index_slot)
{
	struct conntrack_config *cfg = conntrack_config_get();
	struct reclaim_slot *slot;
	__u32 position;

	if (!tag || !cfg || !cfg->ring_mask)
		return;
	position = (tag - 1) & cfg->ring_mask;
	slot = bpf_map_lookup_elem(&conntrack_reclaim_ring, &position);
	if (!slot)
		return;
	slot->index_slot = index_slot;
	__sync_lock_test_and_set(&slot->tag, tag);
}

struct reclaim_walk {
	int freed;
};

/* One ring slot from the tail: reclaims the connection it names if it is still that
 * connection and still unassured (the index slot may be rewritten meanwhile: the key is
 * copied, and trusted only if the entry found by it carries the tag). Everything is inline
 * here: kernels before 6.2 round each frame of a call chain up to 32 bytes, and the data
 * path's chain must stay within BPF's 512. */
static long reclaim_step(__u32 i, struct reclaim_walk *w)
{
	struct conntrack_tags *tags = conntrack_tags_get();
	struct conntrack_config *cfg = conntrack_config_get();
	struct reclaim_slot *ring;
	struct index_window *win;
	struct flow_key key;
	struct flow *f;
	__u64 next, tail, size;
	__u32 position, tag, way;

	if (!tags || !cfg || !cfg->ring_mask)
		return 1;
	size = (__u64)cfg->ring_mask + 1;
	tail = READ_ONCE(tags->reclaimed);
	next = READ_ONCE(tags->next);
	if (tail >= next)
		return 1; /* every connection recorded has been considered */
	if (next - tail > size) {
		/* Lapped: those slots hold newer connections now; start at the oldest kept. */
		__sync_val_compare_and_swap(&tags->reclaimed, tail, next - size);
		return 0;
	}
	if (__sync_val_compare_and_swap(&tags->reclaimed, tail, tail + 1) != tail)
		return 0; /* another CPU took this one */
	position = (__u32)tail & cfg->ring_mask;
	tag = (__u32)tail + 1;
	ring = bpf_map_lookup_elem(&conntrack_reclaim_ring, &position);
	if (!ring || READ_ONCE(ring->tag) != tag)
		return 0;
	win = index_window_of(ring->index_slot);
	way = bounded(ring->index_slot - 1, INDEX_WAYS - 1);
	if (!win || __sync_fetch_and_add(&win->tag[way], 0) != tag || win->kind[way] != INDEX_CONNECTION)
		return 0;
	key = win->key[way];
	f = bpf_map_lookup_elem(&conntrack, &key);
	if (!f || f->direction != FLOW_REQUEST || f->tag != tag || (READ_ONCE(f->flags) & FLOW_F_ASSURED))
		return 0;
	if (conn_remove(&key, f, key.proto == IPPROTO_TCP ? CT_RECLAIMED_TCP_HALF_OPEN : CT_RECLAIMED_UDP_UNANSWERED)) {
		w->freed = 1;
		return 1;
	}
	return 0;
}

/* Frees the oldest unassured connection (two entries). Returns 1 if one went. Global:
 * verified once. */
__noinline int conn_reclaim(void)
{
	struct reclaim_walk w = {};

	bpf_loop(RECLAIM_TRIES, reclaim_step, &w, 0);
	return w.freed;
}

/* Inserts an entry; a full table first reclaims a connection. From 6.15 on, the hash's bucket
 * and free-list locks may give up under contention (resilient spinlocks): the insert then
 * fails, E2BIG among others, with room to spare, so a failure is tried once more as it is
 * before it counts as a full table. */
static __always_inline long conn_insert(const struct flow_key *key, const struct flow *value, __u64 flags)
{
	long err = bpf_map_update_elem(&conntrack, key, value, flags);

	if (err && err != -17 /* EEXIST */)
		err = bpf_map_update_elem(&conntrack, key, value, flags);
	if (err == -7 /* E2BIG: full */ && conn_reclaim())
		err = bpf_map_update_elem(&conntrack, key, value, flags);
	return err;
}

/* Inserts both directions with the connection's first state. Returns the request entry
 * to use: ours (*created = 1), or the one another CPU inserted first for the same flow (a
 * retransmitted SYN racing its original). NULL when the table is full and nothing in it
 * could be reclaimed. */
static __always_inline struct flow *flow_create(const struct flow_key *req, const struct backend *be,
						__u32 service_id, __u32 state, __u8 flags, __u16 client_tci,
						int *created)
{
	struct flow_key rev = {};
	struct flow entry = {};
	long err;

	*created = 0;
	entry.nat_addr = be->addr;
	entry.nat_port = be->port;
	entry.direction = FLOW_REQUEST;
	entry.flags = flags;
	entry.state = state;
	entry.backend_id = be->id;
	entry.service_id = service_id;
	entry.last_seen_ns = bpf_ktime_get_ns();
	entry.vlan_tci = client_tci;
	entry.tag = index_tag();
	err = conn_insert(req, &entry, BPF_NOEXIST);
	if (err == -17 /* EEXIST */)
		return bpf_map_lookup_elem(&conntrack, req);
	if (err)
		return 0;
	if (flags & FLOW_F_DIRECT) {
		*created = 1;
		return bpf_map_lookup_elem(&conntrack, req);
	}

	flow_reply_key(&rev, req, &entry);
	entry.nat_addr = req->daddr;
	entry.nat_port = req->dport;
	entry.direction = FLOW_REPLY;
	entry.state = 0;
	entry.tag = 0;
	if (conn_insert(&rev, &entry, BPF_ANY)) {
		bpf_map_delete_elem(&conntrack, req);
		return 0;
	}
	*created = 1;
	return bpf_map_lookup_elem(&conntrack, req);
}

/* Makes a connection just created findable: an index slot (without one nothing would ever
 * expire it, so it is ended instead: 0) and its place in the reclaim ring. Global: verified
 * once, apart from the data path's many paths. */
__noinline int conn_publish(const struct flow_key *req, struct flow *f, __u64 now)
{
	struct conntrack_config *cfg = conntrack_config_get();
	__u64 timeout;
	__u32 slot;

	if (!req || !f)
		return 0;
	timeout = conn_timeout_ns(cfg, req->proto, f->state);
	slot = index_add(req, INDEX_CONNECTION, f->tag, (__u32)((now + timeout) / NS_PER_S));

	if (!slot)
		return 0;
	f->index_slot = slot;
	reclaim_record(f->tag, slot);
	return 1;
}

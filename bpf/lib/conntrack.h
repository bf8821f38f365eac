/* Connection state on top of the flow table: IPVS's TCP states, the active/inactive
 * counts they drive, and expiry of a connection the data path decides to end. */
#pragma once

#include "common.h"
#include "flow.h"
#include "parse.h"
#include "tcp_state.h"
#include "backend_stats.h"

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
		backend_conns_transition(owner->backend_id, old, next);
}

/* Counts a connection that was just created: every new connection starts inactive. */
static __always_inline void conn_opened(__u32 backend_id, __u32 state)
{
	struct backend_conns *c = backend_conns_of(backend_id);

	if (c)
		__sync_fetch_and_add(&c->inactive, 1);
	backend_conns_transition(backend_id, TCP_S_NONE, state);
}

/* Ends a connection (both entries). The counts move only if this call removed the
 * request entry, so a racing expiry by the control plane cannot count it twice. */
static __always_inline void conn_expire(const struct flow_key *req, struct flow *f)
{
	struct flow_key rev = {};
	struct backend_conns *c;
	__u32 state = f->state;
	__u32 backend_id = f->backend_id;

	flow_reply_key(&rev, req, f);
	if (bpf_map_delete_elem(&conntrack, req))
		return;
	bpf_map_delete_elem(&conntrack, &rev);
	c = backend_conns_of(backend_id);
	if (!c)
		return;
	if (state == TCP_S_ESTABLISHED)
		__sync_fetch_and_sub(&c->active, 1);
	else
		__sync_fetch_and_sub(&c->inactive, 1);
}

/* IPVS conn_reuse_mode 1: a SYN that reuses the ports of a connection in TIME_WAIT or
 * CLOSE opens a new connection (rescheduled) instead of reviving the old one. */
static __always_inline int conn_reusable(const struct packet *pkt, const struct flow *f)
{
	return pkt->tcp && f->direction == FLOW_REQUEST && pkt->tcp->syn && !pkt->tcp->ack &&
	       !pkt->tcp->rst && (f->state == TCP_S_TIME_WAIT || f->state == TCP_S_CLOSE);
}

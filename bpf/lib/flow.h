/* The connection table: one entry per direction of a flow, so that requests and replies
 * are each found with a single lookup on the packet's own 5-tuple. */
#pragma once

#include "common.h"

struct flow_key {
	struct lb_addr saddr;
	struct lb_addr daddr;
	__u16 sport; /* network byte order */
	__u16 dport; /* network byte order */
	__u8 proto;
	__u8 family;
	__u16 reserved;
};

enum flow_direction {
	FLOW_REQUEST = 0, /* client -> VIP: rewrite destination to the backend */
	FLOW_REPLY = 1,   /* backend -> client: rewrite source to the VIP */
};

struct flow {
	struct lb_addr nat_addr; /* REQUEST: backend address; REPLY: VIP */
	__u16 nat_port;          /* network byte order */
	__u8 direction;          /* enum flow_direction */
	__u8 flags;              /* enum flow_flag */
	__u32 state;             /* enum tcp_state, request entry only (32 bits for cmpxchg); UDP: 0 */
	__u32 backend_id;
	__u32 service_id;
	__u64 last_seen_ns;      /* CLOCK_MONOTONIC, refreshed at most once a second */
	/* FLOW_F_MASQ only. REQUEST: the node's address and port the client's source becomes;
	 * REPLY: the client's address and port the destination becomes. */
	struct lb_addr masq_addr;
	__u16 masq_port;         /* network byte order */
	__u16 vlan_tci;          /* the 802.1Q TCI of the client's frames; 0: untagged */
	__u32 tag;               /* request entry: names the connection in the sweep index and reclaim ring */
	__u32 index_slot;        /* request entry: its slot in the sweep index + 1; 0: none */
};

/* The reply-direction key of a connection, from its request entry: the backend answers
 * the client, or for masq the node's address and port the client was given. */
static __always_inline void flow_reply_key(struct flow_key *rev, const struct flow_key *req,
					   const struct flow *f)
{
	rev->saddr = f->nat_addr;
	rev->sport = f->nat_port;
	if (f->flags & FLOW_F_MASQ) {
		rev->daddr = f->masq_addr;
		rev->dport = f->masq_port;
	} else {
		rev->daddr = req->saddr;
		rev->dport = req->sport;
	}
	rev->proto = req->proto;
	rev->family = req->family;
	rev->reserved = 0;
}

/* The request-direction key of the connection a reply entry belongs to. */
static __always_inline void flow_request_key(struct flow_key *req, const struct flow_key *reply,
					     const struct flow *f)
{
	if (f->flags & FLOW_F_MASQ) {
		req->saddr = f->masq_addr;
		req->sport = f->masq_port;
	} else {
		req->saddr = reply->daddr;
		req->sport = reply->dport;
	}
	req->daddr = f->nat_addr;
	req->dport = f->nat_port;
	req->proto = reply->proto;
	req->family = reply->family;
	req->reserved = 0;
}

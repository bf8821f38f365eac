/* The connection table: one entry per direction of a flow, so that requests and replies
 * are each found with a single lookup on the packet's own 5-tuple. */
#pragma once

#include "common.h"
#include "maps.h"

struct flow_key {
	struct lb_addr saddr;
	struct lb_addr daddr;
	__u16 sport; /* network byte order */
	__u16 dport; /* network byte order */
	__u8 proto;
	__u8 family;
	__u16 reserved;
};

/* Direct routing: the packet keeps its addresses and goes to the backend's MAC; replies
 * bypass the balancer, so there is no reply entry and IPVS's INPUT_ONLY state table applies. */
#define FLOW_F_DIRECT 0x01
/* Tunnelled (also FLOW_F_DIRECT: no reply entry, INPUT_ONLY): encapsulated to the backend. */
#define FLOW_F_TUNNEL 0x02
/* Masqueraded: the other endpoint is rewritten too (masq_addr/masq_port), so that the
 * backend answers the node rather than the client. */
#define FLOW_F_MASQ 0x04

enum flow_direction {
	FLOW_REQUEST = 0, /* client -> VIP: rewrite destination to the backend */
	FLOW_REPLY = 1,   /* backend -> client: rewrite source to the VIP */
};

struct flow {
	struct lb_addr nat_addr; /* REQUEST: backend address; REPLY: VIP */
	__u16 nat_port;          /* network byte order */
	__u8 direction;          /* enum flow_direction */
	__u8 flags;              /* FLOW_F_* */
	__u32 state;             /* enum tcp_state, request entry only (32 bits for cmpxchg); UDP: 0 */
	__u32 backend_id;
	__u32 service_id;
	__u64 last_seen_ns;      /* CLOCK_MONOTONIC, refreshed at most once a second */
	/* FLOW_F_MASQ only. REQUEST: the node's address and port the client's source becomes;
	 * REPLY: the client's address and port the destination becomes. */
	struct lb_addr masq_addr;
	__u16 masq_port;         /* network byte order */
	__u16 vlan_tci;          /* the 802.1Q TCI of the client's frames; 0: untagged */
};

/* A plain hash, not an LRU: an established flow is never evicted to make room. When the
 * table is full, new flows are refused and counted. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 65536);
	__type(key, struct flow_key);
	__type(value, struct flow);
} conntrack SEC(".maps");

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

/* Inserts both directions with the connection's first state. Returns the request entry
 * to use: ours (*created = 1), or the one another CPU inserted first for the same flow (a
 * retransmitted SYN racing its original). NULL when the table is full. */
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
	err = bpf_map_update_elem(&conntrack, req, &entry, BPF_NOEXIST);
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
	if (bpf_map_update_elem(&conntrack, &rev, &entry, BPF_ANY)) {
		bpf_map_delete_elem(&conntrack, req);
		return 0;
	}
	*created = 1;
	return bpf_map_lookup_elem(&conntrack, req);
}

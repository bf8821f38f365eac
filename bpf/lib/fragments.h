/* IP fragments of NATed flows. Only the first fragment carries the ports that find the
 * flow; it records how it was rewritten, keyed by (source, destination, protocol, IP id),
 * and the later fragments of the datagram get the same address rewrite. Later fragments
 * that arrive before their first are left to the stack and counted. */
#pragma once

#include "common.h"
#include "parse.h"
#include "flow.h"

struct fragment_key {
	struct lb_addr saddr; /* as the fragments arrive, before the rewrite */
	struct lb_addr daddr;
	__u32 id;
	__u8 proto;
	__u8 family;
	__u16 reserved;
};

struct fragment_nat {
	struct lb_addr nat_addr; /* the address the first fragment was rewritten to */
	__u32 backend_id;
	__u8 direction;          /* enum flow_direction */
	__u8 flags;              /* the flow's FLOW_F_*: how to send them on */
	__u16 vlan_tci;          /* the flow's: the client's 802.1Q TCI, 0 untagged */
	struct lb_addr masq_addr;
};

/* An LRU: a fragment entry only matters for the moments a datagram is in flight, so
 * evicting old ones to make room is harmless (unlike connections). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct fragment_key);
	__type(value, struct fragment_nat);
} fragments SEC(".maps");

static __always_inline void fragment_key_of(struct fragment_key *k, const struct packet *pkt)
{
	k->saddr = pkt->flow.saddr;
	k->daddr = pkt->flow.daddr;
	k->id = pkt->frag_id;
	k->proto = pkt->flow.proto;
	k->family = pkt->flow.family;
}

/* Called for a first fragment before its rewrite. */
static __always_inline void fragment_remember(const struct packet *pkt, const struct flow *f)
{
	struct fragment_key key = {};
	struct fragment_nat nat = {
		.nat_addr = f->nat_addr,
		.backend_id = f->backend_id,
		.direction = f->direction,
		.flags = f->flags,
		.masq_addr = f->masq_addr,
		.vlan_tci = f->vlan_tci,
	};

	fragment_key_of(&key, pkt);
	bpf_map_update_elem(&fragments, &key, &nat, BPF_ANY);
}

static __always_inline struct fragment_nat *fragment_lookup(const struct packet *pkt)
{
	struct fragment_key key = {};

	fragment_key_of(&key, pkt);
	return bpf_map_lookup_elem(&fragments, &key);
}

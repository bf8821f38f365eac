/* IP fragments of NATed flows. Only the first fragment carries the ports that find the
 * flow; it records how it was rewritten, keyed by (source, destination, protocol, IP id),
 * and the later fragments of the datagram get the same address rewrite. Later fragments
 * that arrive before their first are left to the stack and counted. */
#pragma once

#include "common.h"
#include "xdp_maps.h"
#include "parse.h"
#include "flow.h"

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

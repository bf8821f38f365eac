/* forwarding: masq. DNAT to the backend plus SNAT to the node's address towards it, on a
 * port of masq.portRange, so that the backend answers the node (hairpin, backends that do
 * not route back through it). A port is claimed by inserting the reply entry with
 * BPF_NOEXIST: the connection table itself is the allocator, so two connections can never
 * share (backend, node address, port), and a port is free again when its entry expires. */
#pragma once

#include "common.h"
#include "flow.h"
#include "parse.h"
#include "forward.h"

/* IPVS's flags keep 0x02 (IP_VS_SVC_F_HASHED) for the kernel's own use: it never comes
 * from a config, so xdplb takes it for "masquerade this service's connections". */
#define SVC_F_MASQ 0x02

/* Random ports tried before a new connection is refused: with the range 90% full, 32
 * tries still find a free one with probability 1 - 0.9^32 = 97%. */
#define MASQ_PORT_TRIES 32
#define MASQ_DEFAULT_MIN 32768
#define MASQ_DEFAULT_MAX 60999

/* masq.portRange, host byte order; all zero until the control plane writes it. */
struct masq_port_range {
	__u16 min;
	__u16 max;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct masq_port_range);
} masq_ports SEC(".maps");

/* Inserts the reply entry `rev` (its dport left to choose) on a free port of the range.
 * Returns the port in network byte order, 0 when none was free or the table is full. */
static __always_inline __u16 masq_claim_port(struct flow_key *rev, const struct flow *reply)
{
	__u32 zero = 0, min = MASQ_DEFAULT_MIN, span = MASQ_DEFAULT_MAX - MASQ_DEFAULT_MIN + 1;
	struct masq_port_range *range = bpf_map_lookup_elem(&masq_ports, &zero);
	long err;

	if (range && range->min && range->max >= range->min) {
		min = range->min;
		span = (__u32)range->max - range->min + 1;
	}
	for (int i = 0; i < MASQ_PORT_TRIES; i++) {
		__u16 port = bpf_htons((__u16)(min + bpf_get_prandom_u32() % span));

		rev->dport = port;
		err = bpf_map_update_elem(&conntrack, rev, reply, BPF_NOEXIST);
		if (!err)
			return port;
		if (err != -17 /* EEXIST: the port is taken, try another */)
			return 0;
	}
	return 0;
}

/* flow_create for a masqueraded connection: the reply entry first (it claims the port),
 * then the request entry that records it. Same contract as flow_create; *created is -1
 * when no port was free. */
static __always_inline struct flow *masq_flow_create(const struct flow_key *req, const struct backend *be,
						     const struct lb_addr *node, __u32 service_id, __u32 state,
						     __u8 flags, __u16 client_tci, int *created)
{
	struct flow_key rev = {};
	struct flow entry = {};
	__u16 port;
	long err;

	*created = 0;
	entry.nat_addr = req->daddr;
	entry.nat_port = req->dport;
	entry.direction = FLOW_REPLY;
	entry.flags = flags;
	entry.backend_id = be->id;
	entry.service_id = service_id;
	entry.last_seen_ns = bpf_ktime_get_ns();
	entry.masq_addr = req->saddr;
	entry.masq_port = req->sport;
	entry.vlan_tci = client_tci;
	rev.saddr = be->addr;
	rev.sport = be->port;
	rev.daddr = *node;
	rev.proto = req->proto;
	rev.family = req->family;
	port = masq_claim_port(&rev, &entry);
	if (!port) {
		*created = -1;
		return 0;
	}

	entry.nat_addr = be->addr;
	entry.nat_port = be->port;
	entry.direction = FLOW_REQUEST;
	entry.state = state;
	entry.masq_addr = *node;
	entry.masq_port = port;
	err = bpf_map_update_elem(&conntrack, req, &entry, BPF_NOEXIST);
	if (err) {
		bpf_map_delete_elem(&conntrack, &rev);
		return err == -17 /* EEXIST */ ? bpf_map_lookup_elem(&conntrack, req) : 0;
	}
	*created = 1;
	return bpf_map_lookup_elem(&conntrack, req);
}

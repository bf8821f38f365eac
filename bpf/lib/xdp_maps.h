/* The maps only the XDP object uses (the socket hooks' object never includes this header),
 * with their keys, values and index enums; the shared ones are in maps.h, whose rules
 * (checked through BTF, adopted when pinned, sized by the agent) apply here too. */
#pragma once

#include "common.h"
#include "flow.h"

/* The C# enum XdpLb.Bpf.Maps.Counter must list the same names in the same order; the
 * agent compares them through BTF at load. */
enum lb_counter {
	CNT_PASS_NOT_IP = 0,      /* not IPv4/IPv6: ARP, LLDP, ... */
	CNT_PASS_NOT_L4,          /* IP but neither TCP, UDP nor a translated ICMP error */
	CNT_PASS_FRAGMENT,        /* a later fragment whose first was not seen: left to the stack */
	CNT_PASS_NOT_SERVICE,     /* no flow and no service for the destination */
	CNT_PASS_NO_FLOW_NON_SYN, /* TCP to a service without SYN or flow that gets no reset (RST, IP options) */
	CNT_MALFORMED,            /* truncated or inconsistent headers */
	CNT_DROP_NO_BACKEND,      /* service with no usable backend (answered or not) */
	CNT_DROP_CONNTRACK_FULL,  /* the flow table is full of assured connections: new flows are refused */
	CNT_NEW_FLOW,             /* flows scheduled to a backend */
	CNT_NAT_REQUEST,          /* client->backend packets rewritten */
	CNT_NAT_REPLY,            /* backend->client packets rewritten */
	CNT_FWD_REDIRECT,         /* sent out another interface */
	CNT_FWD_TX,               /* sent back out of the ingress interface */
	CNT_FWD_STACK,            /* rewritten, then left to the stack (neighbour unknown, local) */
	CNT_TX_TCP_RESET,         /* TCP reset sent for a segment of no connection */
	CNT_TX_PORT_UNREACH,      /* ICMP/ICMPv6 port unreachable sent: no usable backend */
	CNT_NAT_FRAGMENT,         /* later fragments rewritten as their first */
	CNT_NAT_ICMP_ERROR,       /* ICMP/ICMPv6 errors about a NATed flow, translated */
	CNT_PASS_SCTP,            /* SCTP: the XDP data path does not balance it; left to the stack */
	CNT_DROP_SOURCE_RANGE,    /* a new connection from outside the service's sourceRanges */
	CNT_FWD_DIRECT,           /* direct routing: sent to the backend's MAC, addresses kept */
	CNT_FWD_TUNNEL,           /* encapsulated to the backend (IPIP, IPv6-in-IPv6) */
	CNT_TX_TOO_BIG,           /* ICMP frag needed / packet too big: would not fit once encapsulated */
	CNT_DROP_MASQ_NO_ROUTE,   /* masq: no route from the node to the backend to take a source from */
	CNT_DROP_MASQ_NO_PORT,    /* masq: no free port in masq.portRange towards that backend */
	CNT_MAX,
};

/* Keeps enum lb_counter in the object's BTF, where the agent reads the counter names. */
const volatile enum lb_counter lb_counter_max = CNT_MAX;

/* What happened to connections, apart from packets: how they were opened, promoted and
 * ended. Per-CPU like the packet counters; the iterator adds to them too, atomically, as
 * it can be interrupted by the data path on its CPU. The C# enum ConntrackEvent mirrors it. */
enum ct_event {
	CT_OPENED = 0,                 /* connections created */
	CT_ASSURED,                    /* promoted: TCP reached ESTABLISHED, or a reply was seen */
	CT_EXPIRED_IDLE,               /* idle past their state's timeout (sweep or packet) */
	CT_EXPIRED_REUSED,             /* TIME_WAIT/CLOSE ports reused by a new SYN (conn_reuse_mode) */
	CT_EXPIRED_BACKEND_REMOVED,    /* their backend left its service (expire_nodest_conn) */
	CT_RECLAIMED_TCP_HALF_OPEN,    /* the table was full: a TCP connection that never reached ESTABLISHED */
	CT_RECLAIMED_UDP_UNANSWERED,   /* the table was full: a flow that never saw a reply */
	CT_REFUSED_FULL,               /* the table was full and nothing was reclaimable */
	CT_REFUSED_INDEX_FULL,         /* opened, but no sweep index slot was free: ended at once */
	CT_EVENT_MAX,
};

/* Keeps enum ct_event in the object's BTF, where the agent reads the event names. */
const volatile enum ct_event ct_event_max = CT_EVENT_MAX;

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

/* masq.portRange, host byte order; all zero until the control plane writes it. */
struct masq_port_range {
	__u16 min;
	__u16 max;
};

/* masq_open's working memory: per CPU, so that its frame on the BPF stack stays small
 * (kernels before 6.13 give a program and the functions it calls 512 bytes in all). */
struct masq_scratch {
	struct bpf_fib_lookup fib;
	struct flow_key request;
	struct flow_key reply_key;
	struct flow entry;
	struct lb_addr node;
};

struct source_range_key {
	__u32 prefixlen; /* 32 (the service id) + the range's prefix length */
	__u32 service_id;
	struct lb_addr addr;
};

/* The node's VLAN devices (eth0.100 ...), written by the agent from /proc/net/vlan/config:
 * when the FIB routes to one, the frame goes out of its parent with its VID. */
struct vlan_device {
	__u32 parent_ifindex;
	__u16 vid;
	__u16 reserved;
};

/* What happened: per packet and per connection. */

/* Per-CPU packet outcome counters, by enum lb_counter. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, CNT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

/* Per-CPU connection events, by enum ct_event. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, CT_EVENT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} conntrack_events SEC(".maps");

/* Forwarding. */

/* An LRU: a fragment entry only matters for the moments a datagram is in flight, so
 * evicting old ones to make room is harmless (unlike connections). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct fragment_key);
	__type(value, struct fragment_nat);
} fragments SEC(".maps");

/* [0]: masq.portRange, written by the agent. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct masq_port_range);
} masq_ports SEC(".maps");

/* masq_open's working memory, per CPU. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct masq_scratch);
} masq_scratch SEC(".maps");

/* [0]: the IPv4 source of outer headers, [1]: the IPv6 one, where the route to the backend
 * gives none. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, struct lb_addr);
} tunnel_source SEC(".maps");

/* sourceRanges and the cluster CIDRs: (service id, client prefix) -> 1. */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 65536);
	__type(key, struct source_range_key);
	__type(value, __u8);
} source_ranges SEC(".maps");

/* ifindex of each of the node VLAN devices -> its parent and VID. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32); /* ifindex of the VLAN device */
	__type(value, struct vlan_device);
} vlan_devices SEC(".maps");

/* [0]: how many entries vlan_devices holds, so that nodes without VLAN devices skip the
 * hash lookup (an array lookup is inlined into a load). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} vlan_device_count SEC(".maps");

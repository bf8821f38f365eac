/* Global outcome counters, one per reason a packet took the path it took. Per-CPU so
 * the data path never contends on them; the control plane sums the CPUs. */
#pragma once

#include "common.h"

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

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, CNT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

/* Keeps enum lb_counter in the object's BTF, where the agent reads the counter names. */
const volatile enum lb_counter lb_counter_max = CNT_MAX;

static __always_inline void count(enum lb_counter c)
{
	__u32 key = c;
	__u64 *v = bpf_map_lookup_elem(&counters, &key);

	if (v)
		*v += 1;
}

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

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, CT_EVENT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} conntrack_events SEC(".maps");

/* Keeps enum ct_event in the object's BTF, where the agent reads the event names. */
const volatile enum ct_event ct_event_max = CT_EVENT_MAX;

static __always_inline void count_ct(enum ct_event e)
{
	__u32 key = e;
	__u64 *v = bpf_map_lookup_elem(&conntrack_events, &key);

	if (v)
		__sync_fetch_and_add(v, 1);
}

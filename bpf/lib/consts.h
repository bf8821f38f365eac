/* Every flag bit and id the control plane and the data path agree on, grouped by the struct
 * field that holds them. They are enums rather than #defines so that the object's BTF names
 * them: the agent compares its C# twins (name -> value) with the object at load and refuses
 * to start on any difference, as it does for the map structs. */
#pragma once

/* struct service.scheduler. The order of XdpLb.Core.Model.Scheduler. */
enum lb_scheduler {
	SCHED_RR = 0,
	SCHED_WRR,
	SCHED_LC,
	SCHED_WLC,
	SCHED_SH,
	SCHED_DH,
	SCHED_SED,
	SCHED_NQ,
	SCHED_MH,
};

/* struct service.flags; C#: XdpLb.Bpf.Maps.ServiceFlags. IPVS's own bits (uapi ip_vs.h)
 * keep their values; the bits IPVS never takes from userspace carry xdplb's forwarding. */
enum svc_flag {
	/* IP_VS_SVC_F_PERSISTENT: ClientIP affinity (affinity.h). */
	SVC_F_PERSISTENT = 0x01,
	/* IPVS's 0x02 (IP_VS_SVC_F_HASHED) is the kernel's own and never comes from a config:
	 * forwarding "masq", DNAT plus SNAT to the node (masq.h). */
	SVC_F_MASQ = 0x02,
	/* IPVS's 0x04 (ONEPACKET) is not offered: a nat service that masquerades clients from
	 * outside the cluster's pod ranges (source_ranges.h, from_cluster). */
	SVC_F_MASQ_OUTSIDE = 0x04,
	/* IP_VS_SVC_F_SCHED1: sh-fallback / mh-fallback. */
	SVC_F_SCHED_FALLBACK = 0x08,
	/* IP_VS_SVC_F_SCHED2: sh-port / mh-port. */
	SVC_F_SCHED_PORT = 0x10,
	/* Forwarding "tun" (IPVS's Tunnel): encapsulated to the backend (tunnel.h). */
	SVC_F_TUNNEL = 0x20,
	/* Forwarding "dr" (IPVS's Route): MAC rewrite only. */
	SVC_F_DIRECT = 0x40,
	/* The service has sourceRanges; the others skip the trie lookup (source_ranges.h). */
	SVC_F_SOURCE_RANGES = 0x80,
};

/* struct flow.flags and struct fragment_nat.flags; C#: XdpLb.Bpf.Maps.FlowFlags. */
enum flow_flag {
	/* Direct routing: the packet keeps its addresses and goes to the backend's MAC; replies
	 * bypass the balancer, so there is no reply entry and IPVS's INPUT_ONLY state table applies. */
	FLOW_F_DIRECT = 0x01,
	/* Tunnelled (also FLOW_F_DIRECT: no reply entry, INPUT_ONLY): encapsulated to the backend. */
	FLOW_F_TUNNEL = 0x02,
	/* Masqueraded: the other endpoint is rewritten too (masq_addr/masq_port), so that the
	 * backend answers the node rather than the client. */
	FLOW_F_MASQ = 0x04,
	/* Request entry only. Assured: a TCP connection that reached ESTABLISHED, or a flow that saw
	 * a reply (a direct UDP flow, whose replies never pass here: a second packet). Set once, never
	 * cleared; an assured connection is never reclaimed, only expired by its timeout. */
	FLOW_F_ASSURED = 0x08,
	/* Request entry only: the connection counts in its affinity template's `controls`. */
	FLOW_F_AFFINITY = 0x10,
};

/* The fields are __u8, not these enums (an enum is 4 bytes): these variables are what keeps
 * the enums in the object's BTF. Nothing reads them. */
const volatile enum lb_scheduler lb_scheduler_btf = SCHED_MH;
const volatile enum svc_flag svc_flag_btf = SVC_F_SOURCE_RANGES;
const volatile enum flow_flag flow_flag_btf = FLOW_F_AFFINITY;

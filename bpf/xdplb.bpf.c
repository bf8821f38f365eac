/* xdplb: the XDP entry point. parse -> flow lookup -> (service lookup -> schedule) ->
 * rewrite -> forward. Traffic that is not for a service leaves untouched (XDP_PASS). */
#include "lib/common.h"
#include "lib/counters.h"
#include "lib/vlan.h"
#include "lib/parse.h"
#include "lib/maps.h"
#include "lib/flow.h"
#include "lib/conntrack.h"
#include "lib/affinity.h"
#include "lib/fragments.h"
#include "lib/icmp_nat.h"
#include "lib/source_ranges.h"
#include "lib/tunnel.h"
#include "lib/sched.h"
#include "lib/pick.h"
#include "lib/masq.h"
#include "lib/nat.h"
#include "lib/forward.h"
#include "lib/reply.h"
#include "lib/sweep.h"

/* A translated ICMP error, to where its new destination routes. */
static __always_inline int forward_translated(struct xdp_md *ctx, struct packet *pkt, int family)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;

	if (family == AF_INET) {
		struct iphdr *ip = (void *)(eth + 1);

		if ((void *)(ip + 1) > data_end)
			return XDP_DROP;
		return forward_ipv4(ctx, pkt, eth, ip);
	}
	{
		struct ipv6hdr *ip6 = (void *)(eth + 1);

		if ((void *)(ip6 + 1) > data_end)
			return XDP_DROP;
		return forward_ipv6(ctx, pkt, eth, ip6);
	}
}

/* An ICMP/ICMPv6 error about one of our flows (icmp_nat.h): translated as the flow's packets
 * are, and forwarded. -1: it is none, and goes to the stack. */
static __always_inline int translate_icmp_error(struct xdp_md *ctx, struct packet *pkt)
{
	int family;

	if (pkt->flow.proto != IPPROTO_ICMP && pkt->flow.proto != IPPROTO_ICMPV6)
		return -1;
	family = icmp_error_nat(ctx, pkt);
	if (family < 0)
		return -1;
	return forward_translated(ctx, pkt, family);
}

/* What the data path does not balance goes to the stack untouched, counted by why. */
static __always_inline int pass_unparsed(const struct packet *pkt, int parse_result)
{
	switch (parse_result) {
	case PARSE_NOT_IP:
		count(CNT_PASS_NOT_IP);
		break;
	case PARSE_NOT_L4:
		count(pkt->flow.proto == IPPROTO_SCTP ? CNT_PASS_SCTP : CNT_PASS_NOT_L4);
		break;
	default:
		/* The stack validates and drops it; we cannot tell whether it was ours. */
		count(CNT_MALFORMED);
		break;
	}
	return XDP_PASS;
}

/* A packet of a connection that exists: it keeps the connection alive, moves its TCP state,
 * may assure it, and is counted. */
static __always_inline void flow_account(struct packet *pkt, struct flow *f, __u64 now)
{
	int reply = f->direction == FLOW_REPLY;
	struct flow *owner = conn_owner(pkt, f);

	/* Write the timestamp only when it moved noticeably: a store per packet would
	 * bounce the entry's cache line between CPUs. The request entry's is the
	 * connection's (the sweeper reads it), so a reply refreshes it too. */
	if (now - f->last_seen_ns > 1000000000ULL)
		f->last_seen_ns = now;
	if (owner && reply && now - owner->last_seen_ns > 1000000000ULL)
		owner->last_seen_ns = now;
	conn_track(pkt, owner, reply);
	/* TCP is assured at ESTABLISHED (conn_track): a SYN-ACK is no proof, the backend
	 * answers a spoofed SYN too. Another flow at its first reply, or, when its replies
	 * bypass the node (dr, tun), at its second packet. */
	if (owner && !pkt->tcp && (reply || (owner->flags & FLOW_F_DIRECT)))
		conn_assure(owner);
	backend_count_packet(f->backend_id, reply, pkt->ip_len, 0);
}

/* The forwarding dispatch of a packet whose connection is known, for a flow entry's packets
 * (flow_send) and a later fragment's (what its first fragment recorded): encapsulated to the
 * backend (tun), sent to its MAC (dr), or rewritten (nat, masq) and routed. `ports` (0: a
 * later fragment, which has none) is a constant at each call. */
static __always_inline int forward_flow(struct xdp_md *ctx, struct packet *pkt, const struct lb_addr *nat_addr,
					__u16 nat_port, const struct lb_addr *masq_addr, __u16 masq_port, __u8 direction,
					__u8 flags, __u16 vlan_tci, int ports)
{
	struct lb_addr addr = *nat_addr;
	int reply = direction == FLOW_REPLY;

	/* Branch-free: a branch here would have the verifier walk every forwarding path twice. */
	pkt->toward_client = direction;
	pkt->client_tag = vlan_tag_of(vlan_tci);
	if (flags & FLOW_F_TUNNEL)
		return forward_tunnel(ctx, pkt, &addr);
	if (flags & FLOW_F_DIRECT) {
		count(CNT_FWD_DIRECT);
		return forward_direct(ctx, pkt, &addr);
	}
	{
		struct lb_addr masq = *masq_addr;

		nat_rewrite(pkt, &addr, nat_port, &masq, masq_port, reply, flags & FLOW_F_MASQ, ports);
	}
	count(!ports ? CNT_NAT_FRAGMENT : reply ? CNT_NAT_REPLY : CNT_NAT_REQUEST);
	return forward_packet(ctx, pkt);
}

/* Sends a packet as its connection's entry says. There is one call of this, for new and
 * established connections alike: the verifier walks the forwarding paths once. */
static __always_inline int flow_send(struct xdp_md *ctx, struct packet *pkt, struct flow *f)
{
	if (pkt->fragment == FRAG_FIRST)
		fragment_remember(pkt, f);
	return forward_flow(ctx, pkt, &f->nat_addr, f->nat_port, &f->masq_addr, f->masq_port, f->direction, f->flags,
			    f->vlan_tci, 1);
}

/* Opens a connection for a packet to a service: the entry to send it by, or NULL with the
 * packet's verdict in *verdict (dropped, answered, or left to the stack). */
static __always_inline struct flow *open_flow(struct xdp_md *ctx, struct packet *pkt,
					      const struct service *svc, int *verdict)
{
	struct backend *be;
	struct flow *f;
	__u32 state = 0;
	__u8 flags = svc->flags & SVC_F_TUNNEL ? FLOW_F_DIRECT | FLOW_F_TUNNEL
		     : svc->flags & SVC_F_DIRECT ? FLOW_F_DIRECT : 0;
	int created;

	if (!source_allowed(svc, &pkt->flow.saddr)) {
		count(CNT_DROP_SOURCE_RANGE);
		*verdict = XDP_DROP;
		return 0;
	}
	/* As IPVS without sloppy_tcp: only a SYN (without RST) may open a TCP connection. */
	if (pkt->tcp) {
		if (!(pkt->tcp->syn && !pkt->tcp->rst)) {
			/* No connection (its backend was removed, or it expired): reset it, as the
			 * node's stack would for a local VIP, rather than leave the client hanging. */
			if (!pkt->tcp->rst) {
				int rc = reply_tcp_reset(ctx, pkt);

				if (rc >= 0) {
					count(CNT_TX_TCP_RESET);
					*verdict = rc;
					return 0;
				}
			}
			count(CNT_PASS_NO_FLOW_NON_SYN);
			*verdict = XDP_PASS;
			return 0;
		}
		state = tcp_next_state(TCP_S_NONE, flags ? TCP_TABLE_INPUT_ONLY : TCP_TABLE_INPUT, pkt->tcp);
	}
	be = pick_backend(svc, &pkt->flow);
	if (!be) {
		int rc;

		count(CNT_DROP_NO_BACKEND);
		rc = reply_port_unreachable(ctx, pkt);
		if (rc >= 0)
			count(CNT_TX_PORT_UNREACH);
		*verdict = rc < 0 ? XDP_DROP : rc;
		return 0;
	}
	/* A backend reaching its own service is masqueraded whatever the service's mode, as
	 * kube-proxy does: unSNATed, its answer to itself would never come back through here.
	 * So is a client from outside the pod ranges on a ClusterIP: its answer would go to it
	 * straight from the pod's node. */
	if (!flags && ((svc->flags & SVC_F_MASQ) || lb_addr_equal(&pkt->flow.saddr, &be->addr) ||
		       ((svc->flags & SVC_F_MASQ_OUTSIDE) && !from_cluster(&pkt->flow.saddr, pkt->flow.family)))) {
		__u32 tci_state = ((pkt->vlan_in & 0xffff) << 16) | state;
		int opened = masq_open(ctx, &pkt->flow, be, svc, tci_state);

		/* Reclaimed here, not inside masq_open: the call chain's stack would pass 512 bytes. */
		if (opened == MASQ_TABLE_FULL && conn_reclaim())
			opened = masq_open(ctx, &pkt->flow, be, svc, tci_state);

		if (opened == MASQ_NO_ROUTE || opened == MASQ_NO_PORT) {
			count(opened == MASQ_NO_ROUTE ? CNT_DROP_MASQ_NO_ROUTE : CNT_DROP_MASQ_NO_PORT);
			*verdict = XDP_DROP;
			return 0;
		}
		created = opened == MASQ_OPENED;
		f = bpf_map_lookup_elem(&conntrack, &pkt->flow);
	} else {
		f = flow_create(&pkt->flow, be, svc->id, state, flags, (__u16)pkt->vlan_in, &created);
	}
	if (!f) {
		count(CNT_DROP_CONNTRACK_FULL);
		count_ct(CT_REFUSED_FULL);
		*verdict = XDP_DROP;
		return 0;
	}
	if (created) {
		if ((svc->flags & SVC_F_PERSISTENT) && affinity_control(&pkt->flow, f->backend_id))
			f->flags |= FLOW_F_AFFINITY;
		conn_opened(f->backend_id, state);
		if (!conn_publish(&pkt->flow, f, bpf_ktime_get_ns())) {
			conn_end(&pkt->flow, f, CT_REFUSED_INDEX_FULL);
			count(CNT_DROP_CONNTRACK_FULL);
			*verdict = XDP_DROP;
			return 0;
		}
		count(CNT_NEW_FLOW);
		/* The packet that opened the connection is counted with it. */
		backend_count_packet(f->backend_id, 0, pkt->ip_len, 1);
	} else {
		/* another CPU opened it first (a retransmitted SYN) */
		flow_account(pkt, f, bpf_ktime_get_ns());
	}
	return f;
}

/* A fragment after the first: what its first fragment got (rewrite, direct routing or
 * tunnel), or the stack. */
static __always_inline int handle_later_fragment(struct xdp_md *ctx, struct packet *pkt)
{
	struct fragment_nat *nat = fragment_lookup(pkt);

	if (!nat) {
		count(CNT_PASS_FRAGMENT);
		return XDP_PASS;
	}
	backend_count_packet(nat->backend_id, nat->direction == FLOW_REPLY, pkt->ip_len, 0);
	return forward_flow(ctx, pkt, &nat->nat_addr, 0, &nat->masq_addr, 0, nat->direction, nat->flags, nat->vlan_tci, 0);
}

static __always_inline int handle_packet(struct xdp_md *ctx, struct packet *pkt)
{
	struct service_key skey = {};
	struct service *svc;
	struct flow *f;
	__u64 now;
	int rc;

	rc = parse_packet(ctx, pkt);
	if (rc == PARSE_FRAGMENT)
		return handle_later_fragment(ctx, pkt);
	if (rc != PARSE_OK) {
		int verdict = rc == PARSE_NOT_L4 ? translate_icmp_error(ctx, pkt) : -1;

		return verdict >= 0 ? verdict : pass_unparsed(pkt, rc);
	}

	now = bpf_ktime_get_ns();
	f = bpf_map_lookup_elem(&conntrack, &pkt->flow);
	/* A connection idle past its timeout is gone, as in IPVS, whether or not the sweeper
	 * has come by yet: the packet opens a new one. */
	if (f && f->direction == FLOW_REQUEST) {
		__u32 why = conn_reusable(pkt, f) ? CT_EXPIRED_REUSED
			    : conn_idle_expired(conntrack_config_get(), pkt->flow.proto, f, now) ? CT_EXPIRED_IDLE : 0;

		if (why) {
			conn_end(&pkt->flow, f, why);
			f = 0;
		}
	}
	if (f) {
		flow_account(pkt, f, now);
	} else {
		int verdict = XDP_PASS;

		skey.addr = pkt->flow.daddr;
		skey.port = pkt->flow.dport;
		skey.proto = pkt->flow.proto;
		skey.family = pkt->flow.family;
		svc = bpf_map_lookup_elem(&services, &skey);
		if (!svc) {
			count(CNT_PASS_NOT_SERVICE);
			return XDP_PASS;
		}
		f = open_flow(ctx, pkt, svc, &verdict);
		if (!f)
			return verdict;
	}
	return flow_send(ctx, pkt, f);
}

SEC("xdp")
int xdplb_ingress(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct packet pkt = {};
	int rc;

	/* A tag comes off first, so that every header after it is where it is untagged. */
	if ((void *)(eth + 1) <= data_end && eth->h_proto == bpf_htons(ETH_P_8021Q)) {
		rc = vlan_pop(ctx);
		if (rc < 0) {
			count(CNT_MALFORMED);
			return XDP_DROP;
		}
		pkt.vlan_in = rc;
		pkt.out_tag = rc;
	}
	rc = handle_packet(ctx, &pkt);
	if (pkt.out_tag && (rc == XDP_PASS || rc == XDP_TX || rc == XDP_REDIRECT) && vlan_push(ctx, pkt.out_tag)) {
		count(CNT_MALFORMED);
		return XDP_DROP;
	}
	return rc;
}

/* The sweeper, run by the agent (BPF_PROG_RUN) a slice of the sweep index at a time from a
 * resume point: expiry in the kernel, at a cost per run the agent sets, whatever the size
 * of the table. */
struct sweep_args {
	__u32 window;    /* in: the first window; out: where the next run resumes (0 after the last) */
	__u32 windows;   /* in: how many to visit */
	__u32 check_all; /* in: look at every entry, due or not */
	__u32 wrapped;   /* out: 1 when this run visited the last window */
	__u64 skew_ns;   /* in: judge idleness as if this much more time had passed (tests) */
	__u32 live;      /* out: entries seen that stay */
	__u32 ended;     /* out: connections and templates ended */
};

struct sweep_walk {
	__u64 now;
	__u32 first;
	__u32 check_all;
	__u32 live;
	__u32 ended;
};

static long sweep_window(__u32 i, struct sweep_walk *w)
{
	__u32 window = w->first + i;
	struct index_window *win = bpf_map_lookup_elem(&conntrack_index, &window);

	if (!win)
		return 1;
	for (int way = 0; way < INDEX_WAYS; way++) {
		int outcome = sweep_slot(win, way, w->now, w->check_all);

		w->live += outcome == SWEEP_LIVE;
		w->ended += outcome == SWEEP_ENDED;
	}
	return 0;
}

SEC("syscall")
int sweep(struct sweep_args *args)
{
	struct conntrack_config *cfg = conntrack_config_get();
	struct sweep_walk w = {};
	__u32 total, count;

	if (!cfg || !cfg->index_windows)
		return 0;
	total = cfg->index_windows;
	w.now = bpf_ktime_get_ns() + args->skew_ns;
	w.first = args->window < total ? args->window : 0;
	w.check_all = args->check_all;
	count = args->windows < total - w.first ? args->windows : total - w.first;
	bpf_loop(count, sweep_window, &w, 0);
	args->live = w.live;
	args->ended = w.ended;
	args->wrapped = w.first + count >= total;
	args->window = args->wrapped ? 0 : w.first + count;
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";

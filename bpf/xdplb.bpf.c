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
#include "lib/masq.h"
#include "lib/nat.h"
#include "lib/forward.h"
#include "lib/reply.h"

static __always_inline int pass_unparsed(struct xdp_md *ctx, struct packet *pkt, int parse_result)
{
	int rc;

	switch (parse_result) {
	case PARSE_NOT_IP:
		count(CNT_PASS_NOT_IP);
		break;
	case PARSE_NOT_L4:
		if (pkt->flow.proto == IPPROTO_ICMP || pkt->flow.proto == IPPROTO_ICMPV6) {
			rc = icmp_error_nat(ctx, pkt);
			if (rc >= 0)
				return rc;
		}
		count(pkt->flow.proto == IPPROTO_SCTP ? CNT_PASS_SCTP : CNT_PASS_NOT_L4);
		break;
	default:
		/* The stack validates and drops it; we cannot tell whether it was ours. */
		count(CNT_MALFORMED);
		break;
	}
	return XDP_PASS;
}

static __always_inline int handle_flow(struct xdp_md *ctx, struct packet *pkt, struct flow *f)
{
	struct lb_addr addr = f->nat_addr;
	int reply = f->direction == FLOW_REPLY;
	__u64 now = bpf_ktime_get_ns();

	/* Write the timestamp only when it moved noticeably: a store per packet would
	 * bounce the entry's cache line between CPUs. */
	if (now - f->last_seen_ns > 1000000000ULL)
		f->last_seen_ns = now;
	conn_track(pkt, conn_owner(pkt, f), reply);
	backend_count_packet(f->backend_id, reply, pkt->ip_len, 0);
	if (reply) {
		pkt->toward_client = 1;
		pkt->client_tag = f->vlan_tci ? VLAN_TAGGED | f->vlan_tci : 0;
	}
	if (pkt->fragment == FRAG_FIRST)
		fragment_remember(pkt, f);
	if (f->flags & FLOW_F_TUNNEL)
		return forward_tunnel(ctx, pkt, &addr);
	if (f->flags & FLOW_F_DIRECT) {
		count(CNT_FWD_DIRECT);
		return forward_direct(ctx, pkt, &addr);
	}
	nat_apply(pkt, f);
	count(reply ? CNT_NAT_REPLY : CNT_NAT_REQUEST);
	return forward_packet(ctx, pkt);
}

/* The backend for a new connection: the client's affinity template's when the service is
 * persistent and the template still valid, otherwise the scheduler's choice. */
static __always_inline struct backend *pick_backend(const struct service *svc, const struct flow_key *flow)
{
	struct affinity_key key = {};
	struct backend *be;
	__u64 now;

	if (!(svc->flags & SVC_F_PERSISTENT))
		return sched_pick(svc, flow);
	now = bpf_ktime_get_ns();
	affinity_key_of(&key, flow);
	be = affinity_lookup(&key, svc, now);
	if (be)
		return be;
	be = sched_pick(svc, flow);
	if (be)
		affinity_remember(&key, be, svc, now);
	return be;
}

static __always_inline int handle_new_flow(struct xdp_md *ctx, struct packet *pkt,
					   const struct service *svc)
{
	struct backend *be;
	struct flow *f;
	__u32 state = 0;
	__u8 flags = svc->flags & SVC_F_TUNNEL ? FLOW_F_DIRECT | FLOW_F_TUNNEL
		     : svc->flags & SVC_F_DIRECT ? FLOW_F_DIRECT : 0;
	int created;

	if (!source_allowed(svc, &pkt->flow.saddr)) {
		count(CNT_DROP_SOURCE_RANGE);
		return XDP_DROP;
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
					return rc;
				}
			}
			count(CNT_PASS_NO_FLOW_NON_SYN);
			return XDP_PASS;
		}
		state = tcp_next_state(TCP_S_NONE, flags ? TCP_TABLE_INPUT_ONLY : TCP_TABLE_INPUT, pkt->tcp);
	}
	be = pick_backend(svc, &pkt->flow);
	if (!be) {
		int rc;

		count(CNT_DROP_NO_BACKEND);
		rc = reply_port_unreachable(ctx, pkt);
		if (rc < 0)
			return XDP_DROP;
		count(CNT_TX_PORT_UNREACH);
		return rc;
	}
	/* A backend reaching its own service is masqueraded whatever the service's mode, as
	 * kube-proxy does: unSNATed, its answer to itself would never come back through here. */
	if (!flags && ((svc->flags & SVC_F_MASQ) || lb_addr_equal(&pkt->flow.saddr, &be->addr))) {
		struct lb_addr node;

		if (route_source(ctx, pkt, &be->addr, &node)) {
			count(CNT_DROP_MASQ_NO_ROUTE);
			return XDP_DROP;
		}
		f = masq_flow_create(&pkt->flow, be, &node, svc->id, state, FLOW_F_MASQ, (__u16)pkt->vlan_in, &created);
		if (created < 0) {
			count(CNT_DROP_MASQ_NO_PORT);
			return XDP_DROP;
		}
	} else {
		f = flow_create(&pkt->flow, be, svc->id, state, flags, (__u16)pkt->vlan_in, &created);
	}
	if (!f) {
		count(CNT_DROP_CONNTRACK_FULL);
		return XDP_DROP;
	}
	if (created) {
		count(CNT_NEW_FLOW);
		conn_opened(f->backend_id, state);
		backend_count_packet(f->backend_id, 0, pkt->ip_len, 1);
		if (pkt->fragment == FRAG_FIRST)
			fragment_remember(pkt, f);
		if (f->flags & FLOW_F_TUNNEL)
			return forward_tunnel(ctx, pkt, &f->nat_addr);
		if (f->flags & FLOW_F_DIRECT) {
			count(CNT_FWD_DIRECT);
			return forward_direct(ctx, pkt, &f->nat_addr);
		}
		/* The packet that opened the connection is counted above; forward it as is. */
		nat_apply(pkt, f);
		count(CNT_NAT_REQUEST);
		return forward_packet(ctx, pkt);
	}
	return handle_flow(ctx, pkt, f);
}

/* A fragment after the first: what its first fragment got (rewrite, direct routing or
 * tunnel), or the stack. */
static __always_inline int handle_later_fragment(struct xdp_md *ctx, struct packet *pkt)
{
	struct fragment_nat *nat = fragment_lookup(pkt);
	struct lb_addr addr;
	int reply;

	if (!nat) {
		count(CNT_PASS_FRAGMENT);
		return XDP_PASS;
	}
	addr = nat->nat_addr;
	reply = nat->direction == FLOW_REPLY;
	backend_count_packet(nat->backend_id, reply, pkt->ip_len, 0);
	if (reply) {
		pkt->toward_client = 1;
		pkt->client_tag = nat->vlan_tci ? VLAN_TAGGED | nat->vlan_tci : 0;
	}
	if (nat->flags & FLOW_F_TUNNEL)
		return forward_tunnel(ctx, pkt, &addr);
	if (nat->flags & FLOW_F_DIRECT) {
		count(CNT_FWD_DIRECT);
		return forward_direct(ctx, pkt, &addr);
	}
	nat_rewrite_address(pkt, !reply, &addr);
	if (nat->flags & FLOW_F_MASQ) {
		addr = nat->masq_addr;
		nat_rewrite_address(pkt, reply, &addr);
	}
	count(CNT_NAT_FRAGMENT);
	return forward_packet(ctx, pkt);
}

static __always_inline int handle_packet(struct xdp_md *ctx, struct packet *pkt)
{
	struct service_key skey = {};
	struct service *svc;
	struct flow *f;
	int rc;

	rc = parse_packet(ctx, pkt);
	if (rc == PARSE_FRAGMENT)
		return handle_later_fragment(ctx, pkt);
	if (rc != PARSE_OK)
		return pass_unparsed(ctx, pkt, rc);

	f = bpf_map_lookup_elem(&conntrack, &pkt->flow);
	if (f) {
		if (!conn_reusable(pkt, f))
			return handle_flow(ctx, pkt, f);
		conn_expire(&pkt->flow, f);
	}

	skey.addr = pkt->flow.daddr;
	skey.port = pkt->flow.dport;
	skey.proto = pkt->flow.proto;
	skey.family = pkt->flow.family;
	svc = bpf_map_lookup_elem(&services, &skey);
	if (!svc) {
		count(CNT_PASS_NOT_SERVICE);
		return XDP_PASS;
	}
	return handle_new_flow(ctx, pkt, svc);
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

char LICENSE[] SEC("license") = "Dual BSD/GPL";

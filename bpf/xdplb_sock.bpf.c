/* xdplb's socket hooks, attached to a cgroup v2 root (README: "Traffic that starts on the
 * node"): connections and datagrams of the processes under it that go to a service are
 * given a backend at connect/sendmsg time, chosen by the same scheduler state and affinity
 * templates as the XDP path. Nothing is rewritten per packet afterwards; reads of the peer
 * address are turned back to the VIP. The agent loads this object with the XDP object's
 * maps, so both paths schedule from one state. The hooks are here, their lookups and
 * helpers in lib/sock_lb.h (as the XDP program's are in lib/). */
#include "lib/common.h"
#include "lib/maps.h"
#include "lib/backend_stats.h"
#include "lib/pick.h"
#include "lib/sock_maps.h"
#include "lib/sock_lb.h"

#define BPF_TCP_ESTABLISHED 1
#define BPF_TCP_CLOSE 7

/* connect(): TCP, and UDP sockets that connect. The choice is remembered on the socket
 * for getpeername/recvmsg and for its IPVS count (TCP's is taken when the SYN goes out,
 * by the sockops program; a connected UDP socket is one inactive connection until closed). */
static __always_inline int sock_connect(struct bpf_sock_addr *ctx, int ipv6)
{
	struct flow_key flow = {};
	struct sock_translation *t;
	struct service *svc;
	struct backend *be;
	struct bpf_sock *sk = ctx->sk;
	int mapped;

	if (ctx->protocol != IPPROTO_TCP && ctx->protocol != IPPROTO_UDP)
		return 1;
	sock_destination(ctx, &flow, ipv6, &mapped);
	svc = sock_service_of(&flow);
	if (!sk)
		return 1;
	t = bpf_sk_storage_get(&sock_translations, sk, 0, svc ? BPF_SK_STORAGE_GET_F_CREATE : 0);
	if (t) {
		/* A socket connecting again leaves its earlier backend. */
		sock_release_count(t);
		t->family = 0;
	}
	if (!svc || !sock_serves(svc))
		return 1;
	sock_client_of(&flow, sk, bpf_get_netns_cookie(ctx));
	be = pick_backend(svc, &flow);
	if (!be || be->family != flow.family)
		return sock_refuse();
	if (t) {
		t->vip = flow.daddr;
		t->vport = flow.dport;
		t->backend_addr = be->addr;
		t->backend_port = be->port;
		t->backend_id = be->id;
		t->service_id = svc->id;
		t->epoch = sock_epoch_of(be->id);
		t->proto = flow.proto;
		t->mapped = mapped;
		t->family = flow.family;
		if (flow.proto == IPPROTO_UDP)
			sock_hold_count(t, SOCK_COUNTED_INACTIVE);
	}
	backend_count_connection(be->id);
	sock_count_backend(be->id, 0);
	sock_count(SOCK_CNT_CONNECT);
	sock_set_destination(ctx, be, ipv6, mapped);
	return 1;
}

/* sendmsg() with a destination (unconnected UDP): the socket's earlier choice for this
 * VIP while its backend is still in the service, else a new one, remembered on the socket
 * for this and for recvmsg. */
static __always_inline int sock_sendmsg(struct bpf_sock_addr *ctx, int ipv6)
{
	struct flow_key flow = {};
	struct sock_udp_peers *peers;
	struct sock_udp_peer *p = 0;
	struct service *svc;
	struct backend *be, chosen = {};
	__u64 now;
	int mapped, found = 0;

	if (ctx->protocol != IPPROTO_UDP)
		return 1;
	sock_destination(ctx, &flow, ipv6, &mapped);
	svc = sock_service_of(&flow);
	if (!svc || !sock_serves(svc))
		return 1;
	now = bpf_ktime_get_ns();
	peers = ctx->sk ? bpf_sk_storage_get(&sock_udp_peers, ctx->sk, 0, BPF_SK_STORAGE_GET_F_CREATE) : 0;
	if (peers)
		p = sock_udp_slot(peers, &flow, &found);
	if (p && found && p->service_id == svc->id && sock_backend_current(p->backend_id, svc->id, p->epoch)) {
		chosen.addr = p->backend_addr;
		chosen.port = p->backend_port;
		chosen.id = p->backend_id;
	} else {
		sock_client_of(&flow, ctx->sk, bpf_get_netns_cookie(ctx));
		be = pick_backend(svc, &flow);
		if (!be || be->family != flow.family)
			return sock_refuse();
		chosen = *be;
		backend_count_connection(chosen.id);
		if (p) {
			p->vip = flow.daddr;
			p->vport = flow.dport;
			p->backend_addr = chosen.addr;
			p->backend_port = chosen.port;
			p->backend_id = chosen.id;
			p->service_id = svc->id;
			p->epoch = sock_epoch_of(chosen.id);
			p->family = flow.family;
		}
	}
	if (p)
		p->last_used_ns = now;
	sock_count_backend(chosen.id, 1);
	sock_count(SOCK_CNT_SENDMSG);
	sock_set_destination(ctx, &chosen, ipv6, mapped);
	return 1;
}

/* recvmsg() and getpeername(): a backend's address, where the socket addressed a VIP,
 * is shown as the VIP. Datagrams of unconnected sockets are looked up by where they came
 * from (recvmsg only). */
static __always_inline int sock_reverse(struct bpf_sock_addr *ctx, int ipv6, int datagrams)
{
	struct flow_key from = {};
	struct sock_translation *t = 0;
	struct sock_udp_peers *peers;
	struct sock_udp_peer *p;
	struct backend vip = {};
	int mapped;

	if (!ctx->sk)
		return 1;
	sock_destination(ctx, &from, ipv6, &mapped);
	t = bpf_sk_storage_get(&sock_translations, ctx->sk, 0, 0);
	if (t && t->family == from.family && t->backend_port == from.dport && lb_addr_equal(&t->backend_addr, &from.daddr)) {
		vip.addr = t->vip;
		vip.port = t->vport;
	} else {
		if (!datagrams)
			return 1;
		peers = bpf_sk_storage_get(&sock_udp_peers, ctx->sk, 0, 0);
		p = peers ? sock_udp_peer_of(peers, &from) : 0;
		if (!p)
			return 1;
		vip.addr = p->vip;
		vip.port = p->vport;
	}
	sock_count(SOCK_CNT_REVERSE);
	sock_set_destination(ctx, &vip, ipv6, mapped);
	return 1;
}

SEC("cgroup/connect4")
int xdplb_connect4(struct bpf_sock_addr *ctx)
{
	return sock_connect(ctx, 0);
}

SEC("cgroup/connect6")
int xdplb_connect6(struct bpf_sock_addr *ctx)
{
	return sock_connect(ctx, 1);
}

SEC("cgroup/sendmsg4")
int xdplb_sendmsg4(struct bpf_sock_addr *ctx)
{
	return sock_sendmsg(ctx, 0);
}

SEC("cgroup/sendmsg6")
int xdplb_sendmsg6(struct bpf_sock_addr *ctx)
{
	return sock_sendmsg(ctx, 1);
}

SEC("cgroup/recvmsg4")
int xdplb_recvmsg4(struct bpf_sock_addr *ctx)
{
	return sock_reverse(ctx, 0, 1);
}

SEC("cgroup/recvmsg6")
int xdplb_recvmsg6(struct bpf_sock_addr *ctx)
{
	return sock_reverse(ctx, 1, 1);
}

SEC("cgroup/getpeername4")
int xdplb_getpeername4(struct bpf_sock_addr *ctx)
{
	return sock_reverse(ctx, 0, 0);
}

SEC("cgroup/getpeername6")
int xdplb_getpeername6(struct bpf_sock_addr *ctx)
{
	return sock_reverse(ctx, 1, 0);
}

/* A translated TCP socket's IPVS count follows its state: inactive from the SYN, active
 * while ESTABLISHED, inactive after, given back at CLOSE (TIME_WAIT is the kernel's
 * timewait socket, counted no more). */
SEC("sockops")
int xdplb_sockops(struct bpf_sock_ops *skops)
{
	struct sock_translation *t;
	struct bpf_sock *sk = skops->sk;

	if (!sk)
		return 1;
	switch (skops->op) {
	case BPF_SOCK_OPS_TCP_CONNECT_CB:
		t = bpf_sk_storage_get(&sock_translations, sk, 0, 0);
		if (!t || !t->family || t->proto != IPPROTO_TCP)
			return 1;
		sock_hold_count(t, SOCK_COUNTED_INACTIVE);
		bpf_sock_ops_cb_flags_set(skops, skops->bpf_sock_ops_cb_flags | BPF_SOCK_OPS_STATE_CB_FLAG);
		return 1;
	case BPF_SOCK_OPS_STATE_CB:
		t = bpf_sk_storage_get(&sock_translations, sk, 0, 0);
		if (!t || t->counted == SOCK_COUNTED_NONE)
			return 1;
		if (skops->args[1] == BPF_TCP_CLOSE)
			sock_release_count(t);
		else
			sock_hold_count(t, skops->args[1] == BPF_TCP_ESTABLISHED ? SOCK_COUNTED_ACTIVE : SOCK_COUNTED_INACTIVE);
		return 1;
	default:
		return 1;
	}
}

/* A connected UDP socket's count goes with the socket. (A TCP socket outlives close()
 * until its state reaches CLOSE, where the sockops program gives its count back.) */
SEC("cgroup/sock_release")
int xdplb_sock_release(struct bpf_sock *ctx)
{
	struct sock_translation *t;

	if (ctx->protocol != IPPROTO_UDP)
		return 1;
	t = bpf_sk_storage_get(&sock_translations, ctx, 0, 0);
	if (t)
		sock_release_count(t);
	return 1;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";

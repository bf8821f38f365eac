/* xdplb's socket hooks, attached to a cgroup v2 root (README: "Traffic that starts on the
 * node"): connections and datagrams of the processes under it that go to a service are
 * given a backend at connect/sendmsg time. The agent loads this object with the XDP
 * object's maps, so both paths schedule from one state. */
#include "lib/common.h"
#include "lib/sock_lb.h"

#define BPF_TCP_ESTABLISHED 1
#define BPF_TCP_CLOSE 7

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

/* The socket hooks' own maps: what they remember per connected socket, per unconnected UDP
 * socket and VIP, and their counters.
 * The maps the XDP path has too (services, slots, scheduler state, affinity, connection
 * counts) are in maps.h: the agent matches them by name and gives this object the XDP
 * object's file descriptors. Per-socket state is socket storage: it goes with the socket,
 * and nothing has to expire it. */
#pragma once

#include "common.h"
#include "maps.h"

/* A connected socket's translation. `counted` says which IPVS count the socket holds on
 * its backend (backend_conns), so that it is given back exactly once. */
enum sock_counted {
	SOCK_COUNTED_NONE = 0,
	SOCK_COUNTED_INACTIVE,
	SOCK_COUNTED_ACTIVE,
};

struct sock_translation {
	struct lb_addr vip;
	struct lb_addr backend_addr;
	__u16 vport;        /* network byte order */
	__u16 backend_port; /* network byte order */
	__u32 backend_id;
	__u32 service_id;
	__u32 epoch;        /* backend_status's, when chosen */
	__u8 family;        /* of the VIP; 0: the socket is not translated */
	__u8 counted;       /* enum sock_counted */
	__u8 proto;
	__u8 mapped;        /* an IPv6 socket reaching an IPv4 service (::ffff:a.b.c.d) */
};

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct sock_translation);
} sock_translations SEC(".maps");

/* Unconnected UDP: the backends one socket's datagrams to each VIP go to, so that a
 * socket keeps talking to one backend per VIP as a UDP "connection" through IPVS would,
 * and the way back for recvmsg. Kept on the socket and freed with it: no table to fill up
 * or evict a live socket's entry from. A socket sending to more VIPs than it has room for
 * gives up its least recently used one. */
#define SOCK_UDP_PEERS 8

struct sock_udp_peer {
	struct lb_addr vip;
	struct lb_addr backend_addr;
	__u16 vport;        /* network byte order */
	__u16 backend_port; /* network byte order */
	__u32 backend_id;
	__u32 service_id;
	__u32 epoch;        /* backend_status's, when chosen */
	__u64 last_used_ns;
	__u8 family;        /* 0: a free entry */
	__u8 reserved[7];
};

struct sock_udp_peers {
	struct sock_udp_peer peers[SOCK_UDP_PEERS];
};

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct sock_udp_peers);
} sock_udp_peers SEC(".maps");

/* Per backend id: connections translated at connect time and datagrams translated at
 * sendmsg. Per-CPU; the control plane sums them. */
struct sock_backend_traffic {
	__u64 connects;
	__u64 datagrams;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct sock_backend_traffic);
} sock_backend_traffic SEC(".maps");

/* The C# enum XdpLb.Bpf.Maps.SockCounter lists the same names in the same order. */
enum sock_counter {
	SOCK_CNT_CONNECT = 0,     /* connect() to a service translated to a backend */
	SOCK_CNT_SENDMSG,         /* unconnected UDP datagram to a service translated */
	SOCK_CNT_REVERSE,         /* recvmsg/getpeername shown the VIP instead of the backend */
	SOCK_CNT_NO_BACKEND,      /* connect()/sendmsg() to a service without a usable backend: refused */
	SOCK_CNT_SKIPPED_MODE,    /* to a direct-routing or tunnel service: left to the network path */
	SOCK_CNT_MAX,
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SOCK_CNT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} sock_counters SEC(".maps");

/* Keeps enum sock_counter in the object's BTF, where the agent checks the names. */
const volatile enum sock_counter sock_counter_max = SOCK_CNT_MAX;

static __always_inline void sock_count(enum sock_counter c)
{
	__u32 key = c;
	__u64 *v = bpf_map_lookup_elem(&sock_counters, &key);

	if (v)
		*v += 1;
}

static __always_inline void sock_count_backend(__u32 backend_id, int datagram)
{
	struct sock_backend_traffic *t = bpf_map_lookup_elem(&sock_backend_traffic, &backend_id);

	if (!t)
		return;
	if (datagram)
		t->datagrams++;
	else
		t->connects++;
}

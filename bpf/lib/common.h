/* Shared types between the XDP program and the C# control plane.
 * Every struct used as a map key or value is checked against its C# twin through BTF
 * when the agent loads the object, so field names and offsets here are an ABI. */
#pragma once

#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "consts.h"

#define AF_INET  2
#define AF_INET6 10

#ifndef IPPROTO_TCP
#define IPPROTO_ICMP 1
#define IPPROTO_TCP 6
#define IPPROTO_UDP 17
#define IPPROTO_ICMPV6 58
#define IPPROTO_SCTP 132
#endif

/* An IPv4 or IPv6 address in network byte order; IPv4 uses words[0], the rest stay zero
 * so that one key layout serves both families. */
/* A load the compiler may not merge or repeat: the value is being changed by other CPUs. */
#define READ_ONCE(x) (*(const volatile typeof(x) *)&(x))

/* v & mask, kept even where the compiler can prove it redundant (e.g. after % M): the
 * verifier cannot, and needs the mask to bound a table index. */
static __always_inline __u32 bounded(__u32 v, __u32 mask)
{
	asm volatile("" : "+r"(v));
	return v & mask;
}

struct lb_addr {
	__u32 words[4];
};

static __always_inline int lb_addr_equal(const struct lb_addr *a, const struct lb_addr *b)
{
	return ((a->words[0] ^ b->words[0]) | (a->words[1] ^ b->words[1]) | (a->words[2] ^ b->words[2]) |
		(a->words[3] ^ b->words[3])) == 0;
}

/* Shared types between the XDP program and the C# control plane.
 * Every struct used as a map key or value is checked against its C# twin through BTF
 * when the agent loads the object, so field names and offsets here are an ABI. */
#pragma once

#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define AF_INET  2
#define AF_INET6 10

#ifndef IPPROTO_TCP
#define IPPROTO_TCP 6
#define IPPROTO_UDP 17
#endif

/* An IPv4 or IPv6 address in network byte order; IPv4 uses words[0], the rest stay zero
 * so that one key layout serves both families. */
struct lb_addr {
	__u32 words[4];
};

enum lb_scheduler {
	SCHED_RR = 0,
};

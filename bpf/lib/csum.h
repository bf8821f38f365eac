/* Incremental Internet checksum updates (RFC 1624, eqn. 3: HC' = ~(~HC + ~m + m')).
 * One's complement sums do not depend on byte order as long as every operand is taken
 * from memory the same way, so all values here stay in network byte order. */
#pragma once

#include "common.h"

static __always_inline __u16 csum_fold64(__u64 sum)
{
	sum = (sum & 0xffffffff) + (sum >> 32);
	sum = (sum & 0xffffffff) + (sum >> 32);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)sum;
}

/* Accumulates the change of one 32-bit word; 2^16 == 1 mod 0xffff, so 32-bit words fold
 * to the same 16-bit sum as their halves. */
static __always_inline __u64 csum_delta32(__u64 delta, __u32 from, __u32 to)
{
	return delta + (__u32)~from + to;
}

static __always_inline __u64 csum_delta16(__u64 delta, __u16 from, __u16 to)
{
	return delta + (__u16)~from + to;
}

static __always_inline __u64 csum_delta_addr(__u64 delta, const struct lb_addr *from,
					     const struct lb_addr *to, int words)
{
#pragma unroll
	for (int i = 0; i < 4; i++) {
		if (i < words)
			delta = csum_delta32(delta, from->words[i], to->words[i]);
	}
	return delta;
}

static __always_inline __u16 csum_apply(__u16 csum, __u64 delta)
{
	return ~csum_fold64((__u16)~csum + delta);
}

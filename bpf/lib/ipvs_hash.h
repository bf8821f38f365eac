/* The hashes IPVS's sh, dh and mh schedulers use (docs/ipvs.md §3), bit for bit. */
#pragma once

#include "common.h"

/* hash_32(): the high bits of a multiplication by GOLDEN_RATIO_32. */
static __always_inline __u32 ipvs_hash_32(__u32 value, int bits)
{
	return (value * 0x61C88647u) >> (32 - bits);
}

/* ntohl(addr_fold): the IPv4 address, or the XOR of the IPv6 address's four words. */
static __always_inline __u32 ipvs_addr_fold(const struct lb_addr *a, __u8 family)
{
	if (family == AF_INET)
		return bpf_ntohl(a->words[0]);
	return bpf_ntohl(a->words[0] ^ a->words[1] ^ a->words[2] ^ a->words[3]);
}

static __always_inline __u64 rol64(__u64 word, int shift)
{
	return (word << shift) | (word >> (64 - shift));
}

#define SIPROUND                                                                   \
	do {                                                                       \
		v0 += v1; v1 = rol64(v1, 13); v1 ^= v0; v0 = rol64(v0, 32);        \
		v2 += v3; v3 = rol64(v3, 16); v3 ^= v2;                            \
		v0 += v3; v3 = rol64(v3, 21); v3 ^= v0;                            \
		v2 += v1; v1 = rol64(v1, 17); v1 ^= v2; v2 = rol64(v2, 32);        \
	} while (0)

/* hsiphash(&v, 4, key) on a 64-bit kernel: SipHash-1-3 of the 4 bytes of v in host order,
 * truncated to 32 bits. */
static __always_inline __u32 ipvs_hsiphash_u32(__u32 value, __u64 k0, __u64 k1)
{
	__u64 v0 = 0x736f6d6570736575ULL ^ k0;
	__u64 v1 = 0x646f72616e646f6dULL ^ k1;
	__u64 v2 = 0x6c7967656e657261ULL ^ k0;
	__u64 v3 = 0x7465646279746573ULL ^ k1;
	__u64 b = ((__u64)4 << 56) | value;

	v3 ^= b;
	SIPROUND;
	v0 ^= b;
	v2 ^= 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	return (__u32)(v0 ^ v1 ^ v2 ^ v3);
}

/* The key ip_vs_mh uses for lookups (hash1). */
#define MH_HASH1 2654435761ULL

/* A service's allowed client ranges (kube-proxy's loadBalancerSourceRanges, the config's
 * sourceRanges): one longest-prefix-match trie for all services, keyed by the service id
 * then the client address, so a lookup costs the same whatever the number of ranges. */
#pragma once

#include "common.h"
#include "xdp_maps.h"
#include "maps.h"

/* The cluster's pod ranges (kube-proxy's clusterCIDR) live in the same trie under ids no
 * service has, one per family (an IPv4 address is the first 4 bytes of lb_addr, so it could
 * match an IPv6 range's prefix): a masq-outside-cluster service masquerades clients outside. */
#define CLUSTER_CIDRS_V4_ID 0xffffffffu
#define CLUSTER_CIDRS_V6_ID 0xfffffffeu

static __always_inline int from_cluster(const struct lb_addr *client, __u8 family)
{
	struct source_range_key key = {
		.prefixlen = 32 + 128,
		.service_id = family == AF_INET6 ? CLUSTER_CIDRS_V6_ID : CLUSTER_CIDRS_V4_ID,
		.addr = *client,
	};

	return bpf_map_lookup_elem(&source_ranges, &key) != 0;
}

static __always_inline int source_allowed(const struct service *svc, const struct lb_addr *client)
{
	struct source_range_key key = {
		.prefixlen = 32 + 128,
		.service_id = svc->id,
		.addr = *client,
	};

	if (!(svc->flags & SVC_F_SOURCE_RANGES))
		return 1;
	return bpf_map_lookup_elem(&source_ranges, &key) != 0;
}

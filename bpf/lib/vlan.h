/* 802.1Q VLAN tags. A tagged frame's tag is taken off before parsing, so that every other
 * header sits where an untagged frame has it, and a tag is put back on as the frame
 * leaves (pkt->out_tag, see forward.h for how the egress chooses it). Double tags (QinQ)
 * are not taken apart: the frame shows as non-IP once its outer tag is off, and goes to
 * the stack with that tag back on. */
#pragma once

#include <linux/if_ether.h>
#include "common.h"
#include "xdp_maps.h"

#ifndef ETH_P_8021Q
#define ETH_P_8021Q 0x8100
#endif

/* In a packet's tag fields: a tag is present; its TCI (PCP, DEI, VID) is the low 16 bits.
 * (A TCI of 0, a priority tag without priority, is thereby still a tag.) */
#define VLAN_TAGGED 0x10000
#define VLAN_VID_MASK 0x0fff
#define VLAN_PRIO_MASK 0xf000

/* A remembered TCI (0: untagged) as a tag field, without a branch: 0 - tci has its top
 * bit set exactly when tci is not 0. */
static __always_inline __u32 vlan_tag_of(__u16 tci)
{
	__u32 t = tci;

	return t | (((0U - t) >> 31) << 16);
}

struct vlan_tag_hdr {
	__be16 tci;
	__be16 encapsulated_proto;
};

static __always_inline const struct vlan_device *vlan_device_of(__u32 ifindex)
{
	__u32 zero = 0, *count = bpf_map_lookup_elem(&vlan_device_count, &zero);

	if (!count || !*count)
		return 0;
	return bpf_map_lookup_elem(&vlan_devices, &ifindex);
}

/* Takes an 802.1Q tag off the front of the frame. Returns VLAN_TAGGED | TCI, 0 for an
 * untagged frame, -1 when the frame could not be changed. Global: verified once. */
__noinline int vlan_pop(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct vlan_tag_hdr *tag = (void *)(eth + 1);
	__u8 macs[2 * ETH_ALEN];
	int tci;

	if ((void *)(tag + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_8021Q))
		return 0;
	tci = bpf_ntohs(tag->tci);
	__builtin_memcpy(macs, eth, sizeof(macs));
	if (bpf_xdp_adjust_head(ctx, (int)sizeof(*tag)))
		return -1;
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	if (data + sizeof(struct ethhdr) > data_end)
		return -1;
	/* The encapsulated EtherType is already where h_proto now is. */
	__builtin_memcpy(data, macs, sizeof(macs));
	return VLAN_TAGGED | tci;
}

/* Puts an 802.1Q tag (VLAN_TAGGED | TCI) on the frame: 0 or -1. Global: verified once. */
__noinline int vlan_push(struct xdp_md *ctx, __u32 tag)
{
	void *data, *data_end;
	struct vlan_tag_hdr *hdr;
	struct ethhdr *eth;
	__u8 macs[2 * ETH_ALEN];

	if (bpf_xdp_adjust_head(ctx, -(int)sizeof(*hdr)))
		return -1;
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	eth = data;
	hdr = (void *)(eth + 1);
	/* The old MACs start where the tag's 4 bytes were made; its EtherType ends up as the
	 * tag's encapsulated one without moving. */
	if ((void *)(hdr + 1) > data_end)
		return -1;
	__builtin_memcpy(macs, data + sizeof(*hdr), sizeof(macs));
	__builtin_memcpy(eth, macs, sizeof(macs));
	eth->h_proto = bpf_htons(ETH_P_8021Q);
	hdr->tci = bpf_htons((__u16)tag);
	return 0;
}

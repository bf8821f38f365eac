/* The backend's end of the throughput bench: counts IPv4 UDP frames as they arrive on the
 * backend veth and drops them, so that what is measured is the path up to the backend,
 * not the backend's own stack. counts[0]: UDP to port 8080 (the backends' port: a packet
 * that was NATed, or sent there directly in the minimal forwarder's run); counts[1]: other
 * UDP. Everything else (ARP, ...) is passed. Read by gen through the map's id. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} counts SEC(".maps");

SEC("xdp")
int sink(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	struct udphdr *udp;
	__u32 key;
	__u64 *n;

	if ((void *)(ip + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP) || ip->protocol != IPPROTO_UDP)
		return XDP_PASS;
	udp = (void *)ip + ip->ihl * 4;
	if ((void *)(udp + 1) > data_end)
		return XDP_PASS;
	key = udp->dest == bpf_htons(8080) ? 0 : 1;
	n = bpf_map_lookup_elem(&counts, &key);
	if (n)
		(*n)++;
	return XDP_DROP;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";

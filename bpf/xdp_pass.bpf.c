/* Attached to the far ends of test and demo veths: a frame redirected into a veth is only
 * delivered natively when the peer has an XDP program (docs/environment.md §2.1). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int xdp_pass(struct xdp_md *ctx)
{
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";

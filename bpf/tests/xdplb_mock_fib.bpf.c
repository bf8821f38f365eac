/* A test build of the XDP program whose bpf_fib_lookup is a mock the test sets (as Cilium's
 * bpf/tests replace helpers), so that BPF_PROG_TEST_RUN gives the verdict and the bytes a
 * real route and neighbour would, whatever the host's FIB says. Never loaded by the agent. */
#include "../lib/common.h"

/* [0]: what every FIB lookup answers. */
struct mock_fib {
	__u32 rc;           /* BPF_FIB_LKUP_RET_* */
	__u32 ifindex;      /* egress; the ingress one (lo: 1, in a test run) means XDP_TX */
	__u8 smac[6];
	__u8 dmac[6];
	struct lb_addr src; /* for BPF_FIB_LOOKUP_SRC (masq's node address) */
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct mock_fib);
} mock_fib SEC(".maps");

static __always_inline long mock_fib_lookup(void *ctx, struct bpf_fib_lookup *params, int plen, __u32 flags)
{
	__u32 zero = 0;
	struct mock_fib *m = bpf_map_lookup_elem(&mock_fib, &zero);

	if (!m)
		return BPF_FIB_LKUP_RET_NOT_FWDED;
	params->ifindex = m->ifindex;
	__builtin_memcpy(params->smac, m->smac, sizeof(m->smac));
	__builtin_memcpy(params->dmac, m->dmac, sizeof(m->dmac));
	if (flags & BPF_FIB_LOOKUP_SRC) {
		if (params->family == AF_INET)
			params->ipv4_src = m->src.words[0];
		else
			__builtin_memcpy(params->ipv6_src, &m->src, sizeof(m->src));
	}
	return m->rc;
}

/* Function-like, so that struct bpf_fib_lookup keeps its name. */
#define bpf_fib_lookup(ctx, params, plen, flags) mock_fib_lookup(ctx, params, plen, flags)
#include "../xdplb.bpf.c"

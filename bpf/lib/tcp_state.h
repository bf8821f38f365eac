/* IPVS's TCP connection states and transitions (ip_vs_proto_tcp.c, tcp_states[]; docs/ipvs.md
 * §4.2-§4.4), so that active/inactive counts and timeouts move exactly as in IPVS. */
#pragma once

#include <linux/tcp.h>
#include "common.h"

/* IP_VS_TCP_S_*: the numbering is IPVS's. The C# enum TcpState mirrors it. */
enum tcp_state {
	TCP_S_NONE = 0,
	TCP_S_ESTABLISHED,
	TCP_S_SYN_SENT,
	TCP_S_SYN_RECV,
	TCP_S_FIN_WAIT,
	TCP_S_TIME_WAIT,
	TCP_S_CLOSE,
	TCP_S_CLOSE_WAIT,
	TCP_S_LAST_ACK,
	TCP_S_LISTEN,
	TCP_S_SYNACK,
	TCP_S_MAX,
};

/* Keeps enum tcp_state in the object's BTF, where the agent checks its C# twin. */
const volatile enum tcp_state tcp_state_max = TCP_S_MAX;

#define sNO TCP_S_NONE
#define sES TCP_S_ESTABLISHED
#define sSS TCP_S_SYN_SENT
#define sSR TCP_S_SYN_RECV
#define sFW TCP_S_FIN_WAIT
#define sTW TCP_S_TIME_WAIT
#define sCL TCP_S_CLOSE
#define sCW TCP_S_CLOSE_WAIT
#define sLA TCP_S_LAST_ACK
#define sLI TCP_S_LISTEN
#define sSA TCP_S_SYNACK

/* [table][flag][current state]: table 0 is INPUT (client -> backend), 1 is OUTPUT
 * (backend -> client), 2 is INPUT_ONLY (client -> backend of a direct-routed connection,
 * whose replies the balancer never sees); flags in IPVS's order syn, fin, ack, rst. */
#define TCP_TABLE_INPUT 0
#define TCP_TABLE_OUTPUT 1
#define TCP_TABLE_INPUT_ONLY 2

static const __u8 tcp_transitions[3][4][TCP_S_MAX] = {
	{
		/*        sNO  sES  sSS  sSR  sFW  sTW  sCL  sCW  sLA  sLI  sSA */
		/*syn*/ { sSR, sES, sES, sSR, sSR, sSR, sSR, sSR, sSR, sSR, sSR },
		/*fin*/ { sCL, sCW, sSS, sTW, sTW, sTW, sCL, sCW, sLA, sLI, sTW },
		/*ack*/ { sES, sES, sSS, sES, sFW, sTW, sCL, sCW, sCL, sLI, sES },
		/*rst*/ { sCL, sCL, sCL, sSR, sCL, sCL, sCL, sCL, sLA, sLI, sSR },
	},
	{
		/*syn*/ { sSS, sES, sSS, sSR, sSS, sSS, sSS, sSS, sSS, sLI, sSR },
		/*fin*/ { sTW, sFW, sSS, sTW, sFW, sTW, sCL, sTW, sLA, sLI, sTW },
		/*ack*/ { sES, sES, sSS, sES, sFW, sTW, sCL, sCW, sLA, sES, sES },
		/*rst*/ { sCL, sCL, sSS, sCL, sCL, sTW, sCL, sCL, sCL, sCL, sCL },
	},
	{
		/*syn*/ { sSR, sES, sES, sSR, sSR, sSR, sSR, sSR, sSR, sSR, sSR },
		/*fin*/ { sCL, sFW, sSS, sTW, sFW, sTW, sCL, sCW, sLA, sLI, sTW },
		/*ack*/ { sES, sES, sSS, sES, sFW, sTW, sCL, sCW, sCL, sLI, sES },
		/*rst*/ { sCL, sCL, sCL, sSR, sCL, sCL, sCL, sCL, sLA, sLI, sCL },
	},
};

/* The flag that drives the transition, in IPVS's priority: rst, syn, fin, ack. */
static __always_inline int tcp_flag_index(const struct tcphdr *tcp)
{
	if (tcp->rst)
		return 3;
	if (tcp->syn)
		return 0;
	if (tcp->fin)
		return 1;
	if (tcp->ack)
		return 2;
	return -1;
}

static __always_inline __u32 tcp_next_state(__u32 state, int table, const struct tcphdr *tcp)
{
	int flag = tcp_flag_index(tcp);

	if (flag < 0)
		return TCP_S_CLOSE;
	if (state >= TCP_S_MAX || table < 0 || table > TCP_TABLE_INPUT_ONLY)
		return state;
	return tcp_transitions[table][flag & 3][state];
}

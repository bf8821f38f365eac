using XdpLb.Bpf.Maps;
using XdpLb.Core.Status;

namespace XdpLb.Bpf;

/// <summary>
/// The per-backend rates of `ipvsadm --rate`: every backend's counters sampled (the agent
/// does it every 2 s, as IPVS's estimator), each backend id owned by its epoch in
/// backend_status, which goes up each time the id is given to a backend.
/// </summary>
/// <remarks>
/// The buffers are kept between samples: at 100,000 backends a sample is about 10 MB, and
/// allocating it afresh every 2 s showed as page faults and memset in an idle agent.
/// </remarks>
public sealed class BackendRates(XdpLbProgram program, XdpDataplane dataplane)
{
    private readonly RateEstimator estimator = new();
    private BackendTraffic[] traffic = [];
    private CounterSample[] samples = [];

    public void Sample(DateTime at)
    {
        int count = (int)dataplane.BackendIdLimit;
        if (traffic.Length < count)
        {
            traffic = new BackendTraffic[count];
            samples = new CounterSample[count];
        }
        program.BackendTraffic.ReadSummed(traffic.AsSpan(0, count), (a, b) => a + b);
        for (int id = 0; id < count; id++)
        {
            var t = traffic[id];
            samples[id] = new CounterSample(program.BackendStatus[(uint)id].Epoch, t.Conns, t.PacketsIn, t.PacketsOut, t.BytesIn, t.BytesOut);
        }
        estimator.Sample(samples.AsSpan(0, count), at);
    }

    /// <summary>The backend's rate over the last interval (zero until it has been in two samples).</summary>
    public TrafficCounters RateOf(uint backendId) => estimator.RateOf(backendId, program.BackendStatus[backendId].Epoch);
}

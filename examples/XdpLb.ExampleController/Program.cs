using System.Runtime.InteropServices;
using System.Text.Json;
using Google.Protobuf;
using Grpc.Core;
using XdpLb.Api.V1;
using XdpLb.ExampleController;

// An example controller of xdplb: declares the services of a JSON file over the agent's unix
// socket, as the owner named by --controller, then (without --once) prints the agent's
// service changes (and counters with --counters) until SIGINT/SIGTERM; SIGHUP re-reads the file.
ControllerOptions options;
try
{
    options = ControllerOptions.Parse(args);
}
catch (ArgumentException e)
{
    Console.Error.WriteLine($"{e.Message}\n{ControllerOptions.Usage}");
    return 2;
}

using var channel = UnixSocketChannel.Open(options.Socket);
var api = new Controller.ControllerClient(channel);
var reconciler = new Reconciler(api, options.Controller);

async Task<bool> ReconcileAsync(CancellationToken cancel)
{
    IReadOnlyList<ServiceSpec> desired;
    try
    {
        desired = ServiceDescription.Read(options.ServicesFile);
    }
    catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException or InvalidDataException or InvalidProtocolBufferException)
    {
        // Nothing is applied from a file that cannot be read whole: a half-read one would delete services.
        Console.Error.WriteLine($"reconcile: {options.ServicesFile}: {e.Message}");
        return false;
    }
    return await reconciler.ReconcileAsync(desired, cancel);
}

try
{
    if (options.Once)
        return await ReconcileAsync(CancellationToken.None) ? 0 : 1;

    using var stop = new CancellationTokenSource();
    using var reread = new SemaphoreSlim(0);
    using var onInt = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.Cancel(); });
    using var onTerm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Cancel(); });
    using var onHup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, c => { c.Cancel = true; reread.Release(); });

    async Task ReconcileLoopAsync()
    {
        while (true)
        {
            await ReconcileAsync(stop.Token);
            await reread.WaitAsync(stop.Token);
        }
    }

    var loops = new List<Task> { ReconcileLoopAsync(), WatchPrinter.RunAsync(api, stop.Token) };
    if (options.Counters)
        loops.Add(CountersPrinter.RunAsync(api, options.IntervalMs, stop.Token));
    await Task.WhenAny(loops);
    // Asked to stop, or one loop ended on its own (the agent went away): the others end too.
    bool asked = stop.IsCancellationRequested;
    stop.Cancel();
    try
    {
        await Task.WhenAll(loops);
    }
    catch (Exception e) when (e is OperationCanceledException or RpcException { StatusCode: StatusCode.Cancelled })
    {
    }
    var failure = loops.Select(l => l.Exception?.InnerException)
        .FirstOrDefault(e => e is not null and not OperationCanceledException and not RpcException { StatusCode: StatusCode.Cancelled });
    if (failure is not null)
        throw failure;
    return asked ? 0 : 1;
}
catch (RpcException e)
{
    Console.Error.WriteLine($"the agent at {options.Socket}: {e.StatusCode}: {e.Status.Detail}");
    return 1;
}

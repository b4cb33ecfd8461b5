using System.Net;
using System.Net.Sockets;
using BenchmarkDotNet.Attributes;
using HaproxyAutoscale.Cli;
using HaproxyAutoscale.Configuration;
using HaproxyAutoscale.Control;
using HaproxyAutoscale.Hosting;
using HaproxyAutoscale.Lab;
using HaproxyAutoscale.Logs;
using HaproxyAutoscale.Scaling;

namespace HaproxyAutoscale.Benchmarks;

/// <summary>
/// One scrape of <c>run --metrics</c> at 10,000 backends of 8 servers: an autoscaler built from the scale rig's
/// configuration (not running: no HAProxy and no evaluation, so the gauges an evaluation fills have no series and the
/// text is smaller than a running daemon's), its meter written to a null stream with every gauge taking its own
/// snapshot of the backends (as before) and with one snapshot shared by the scrape, and the whole scrape as served:
/// the metrics endpoint on loopback, read by a client that discards the bytes.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(launchCount: 1, warmupCount: 3, iterationCount: 10)]
public class MetricsScrapeBenchmarks
{
    private static readonly byte[] Request = "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"u8.ToArray();
    private readonly byte[] _buffer = new byte[64 * 1024];
    private Autoscaler _autoscaler = null!;
    private MeterExposition _exposition = null!;
    private MetricsEndpoint _endpoint = null!;
    private IPEndPoint _address = null!;

    [Params(10_000)]
    public int Backends { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var options = new AutoscaleOptions();
        options.Haproxy.Endpoints.Add("/run/haproxy/admin.sock");
        for (int b = 0; b < Backends; b++)
        {
            var backend = new BackendOptions { Name = $"be{b:D5}" };
            backend.Servers.Add(new ServerOptions { Name = "s1", AlwaysUp = true });
            for (int s = 2; s <= 8; s++)
            {
                backend.Servers.Add(new ServerOptions { Name = $"s{s}" });
            }

            options.Backends.Add(backend);
        }

        _autoscaler = new AutoscalerBuilder(options).UseLogSource(new IdleSource()).UseControl(new NoControl()).Build();
        _exposition = new MeterExposition(AutoscaleMetricsNames.Meter, MetricsEndpoint.Buckets);
        int port = Ports.FreeTcp();
        _endpoint = MetricsEndpoint.TryStart($"127.0.0.1:{port}", out string? error) ?? throw new InvalidOperationException(error);
        _address = new IPEndPoint(IPAddress.Loopback, port);
        Console.WriteLine($"// one scrape over loopback: {ScrapeOverLoopback().GetAwaiter().GetResult():N0} bytes");
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _endpoint.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _exposition.Dispose();
        _autoscaler.DisposeAsync().AsTask().GetAwaiter().GetResult();
    }

    [Benchmark(Baseline = true)]
    public async Task SnapshotPerGauge()
    {
        using var writer = new PrometheusTextWriter(Stream.Null);
        await _exposition.WriteAsync(writer, CancellationToken.None);
        writer.Flush();
    }

    [Benchmark]
    public async Task SnapshotPerScrape()
    {
        using var writer = new PrometheusTextWriter(Stream.Null);
        using (AutoscaleMetrics.ShareSnapshots())
        {
            await _exposition.WriteAsync(writer, CancellationToken.None);
        }

        writer.Flush();
    }

    /// <summary>GET /metrics on the endpoint (process metrics, then the meter with one snapshot), the answer read and discarded.</summary>
    [Benchmark]
    public async Task<long> ScrapeOverLoopback()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(_address);
        await socket.SendAsync(Request, SocketFlags.None);
        long total = 0;
        int read;
        while ((read = await socket.ReceiveAsync(_buffer, SocketFlags.None)) > 0)
        {
            total += read;
        }

        return total;
    }

    private sealed class IdleSource : ILogSource
    {
        public string Address => "idle";

        public LogSourceCounters Counters { get; } = new();

        public Task RunAsync(LogLineHandler onLine, CancellationToken cancellationToken) => Task.Delay(Timeout.Infinite, cancellationToken);

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    private sealed class NoControl : IHaproxyControl
    {
        public string Endpoint => "none";

        public Task<string> ExecuteAsync(string command, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public Task<IReadOnlyList<CommandResult>> ExecuteBatchAsync(IReadOnlyList<string> commands, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}

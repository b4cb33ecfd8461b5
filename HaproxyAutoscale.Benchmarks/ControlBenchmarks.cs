using System.Text;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using HaproxyAutoscale.Control;

namespace HaproxyAutoscale.Benchmarks;

/// <summary>
/// Round trips to a real local HAProxy (started in setup, stopped by PID in cleanup) over its UNIX and TCP admin
/// sockets, one connection per command or one persistent interactive session, and the parse cost of a 200-server <c>show stat</c>.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(LatencyColumns))]
public class ControlBenchmarks
{
    private LocalHaproxy? _haproxy;
    private IHaproxyControl _unix = null!;
    private IHaproxyControl _tcp = null!;
    private IHaproxyControl _unixOneShot = null!;
    private IHaproxyControl _tcpOneShot = null!;
    private string _showStat = "";

    /// <summary>A local HAProxy with a 200-server backend <c>app</c>, admin sockets over UNIX and TCP (127.0.0.1:<paramref name="port"/>).</summary>
    public static LocalHaproxy StartHaproxy(out int port)
    {
        port = 20000 + (Environment.ProcessId % 20000);
        var backend = new StringBuilder("backend app\n");
        for (int i = 1; i <= 200; i++)
        {
            backend.Append($"    server s{i} 127.0.0.{1 + (i % 200)}:{8000 + i} weight 10\n");
        }

        return new LocalHaproxy(backend.ToString(), $"    stats socket ipv4@127.0.0.1:{port} level admin\n");
    }

    [GlobalSetup]
    public void Setup()
    {
        _haproxy = StartHaproxy(out int port);
        var oneShot = new HaproxyControlOptions { Persistent = false };
        _unix = HaproxyControl.Create("unix@" + _haproxy.Socket);
        _tcp = HaproxyControl.Create($"ipv4@127.0.0.1:{port}");
        _unixOneShot = HaproxyControl.Create("unix@" + _haproxy.Socket, oneShot);
        _tcpOneShot = HaproxyControl.Create($"ipv4@127.0.0.1:{port}", oneShot);
        _showStat = _unix.ExecuteAsync("show stat -1 4 -1").GetAwaiter().GetResult();
    }

    [GlobalCleanup]
    public void Cleanup() => _haproxy?.Dispose();

    [Benchmark(Baseline = true)]
    public Task<HaproxyInfo> ShowInfoUnixOneShot() => _unixOneShot.ShowInfoAsync();

    [Benchmark]
    public Task<HaproxyInfo> ShowInfoUnixPersistent() => _unix.ShowInfoAsync();

    [Benchmark]
    public Task<HaproxyInfo> ShowInfoTcpOneShot() => _tcpOneShot.ShowInfoAsync();

    [Benchmark]
    public Task<HaproxyInfo> ShowInfoTcpPersistent() => _tcp.ShowInfoAsync();

    [Benchmark]
    public Task SetWeightUnixOneShot() => _unixOneShot.SetWeightAsync("app", "s1", 10);

    [Benchmark]
    public Task SetWeightUnixPersistent() => _unix.SetWeightAsync("app", "s1", 10);

    [Benchmark]
    public Task SetWeightTcpOneShot() => _tcpOneShot.SetWeightAsync("app", "s1", 10);

    [Benchmark]
    public Task SetWeightTcpPersistent() => _tcp.SetWeightAsync("app", "s1", 10);

    [Benchmark]
    public int ParseShowStat200Servers() => RuntimeApiParsers.ParseShowStat(_showStat, "bench").Count;

    private sealed class LatencyColumns : ManualConfig
    {
        public LatencyColumns() => AddColumn(StatisticColumn.P50, StatisticColumn.P95, StatisticColumn.Max);
    }
}

using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using HaproxyAutoscale.Control;
using HaproxyAutoscale.Lab;

namespace HaproxyAutoscale.Benchmarks;

/// <summary>
/// Round trips to a real local HAProxy (started in setup, stopped by PID in cleanup) over its UNIX and TCP admin
/// sockets, one connection per command or one persistent interactive session, and the parse cost of a 200-server <c>show stat</c>.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(LatencyColumns))]
public class ControlBenchmarks
{
    private Haproxy? _haproxy;
    private IHaproxyControl _unix = null!;
    private IHaproxyControl _tcp = null!;
    private IHaproxyControl _unixOneShot = null!;
    private IHaproxyControl _tcpOneShot = null!;
    private string _showStat = "";

    /// <summary>A local HAProxy with a 200-server backend <c>app</c>, admin sockets over UNIX and TCP (127.0.0.1:<paramref name="port"/>).</summary>
    public static Haproxy StartHaproxy(out int port)
    {
        port = 20000 + (Environment.ProcessId % 20000);
        var config = new HaproxyConfig { StatsSocket = "{dir}/admin.sock", StatsPort = port };
        config.Backends.Add(new HaproxyBackend("app") { Balance = null, Servers = [.. Enumerable.Range(1, 200).Select(i => new HaproxyServer($"s{i}", $"127.0.0.{1 + (i % 200)}:{8000 + i}") { Weight = 10 })] });
        return Haproxy.StartAsync(config).GetAwaiter().GetResult();
    }

    [GlobalSetup]
    public void Setup()
    {
        _haproxy = StartHaproxy(out int port);
        var oneShot = new HaproxyControlOptions { Persistent = false };
        _unix = HaproxyControl.Create("unix@" + _haproxy.ReadySocket);
        _tcp = HaproxyControl.Create($"ipv4@127.0.0.1:{port}");
        _unixOneShot = HaproxyControl.Create("unix@" + _haproxy.ReadySocket, oneShot);
        _tcpOneShot = HaproxyControl.Create($"ipv4@127.0.0.1:{port}", oneShot);
        _showStat = _unix.ExecuteAsync("show stat -1 4 -1").GetAwaiter().GetResult();
    }

    [GlobalCleanup]
    public void Cleanup() => _haproxy?.DisposeAsync().AsTask().GetAwaiter().GetResult();

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

using System.Diagnostics;
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
    private readonly string _dir = Path.Combine("/tmp", "hpa-bench-" + Environment.ProcessId);
    private Process? _haproxy;
    private IHaproxyControl _unix = null!;
    private IHaproxyControl _tcp = null!;
    private IHaproxyControl _unixOneShot = null!;
    private IHaproxyControl _tcpOneShot = null!;
    private string _showStat = "";

    [GlobalSetup]
    public void Setup()
    {
        Directory.CreateDirectory(_dir);
        int port = 20000 + (Environment.ProcessId % 20000);
        var config = new StringBuilder($"global\n    stats socket {_dir}/admin.sock mode 600 level admin\n    stats socket ipv4@127.0.0.1:{port} level admin\n")
            .Append("defaults\n    mode http\n    timeout connect 1s\n    timeout client 5s\n    timeout server 5s\nbackend app\n");
        for (int i = 1; i <= 200; i++)
        {
            config.Append($"    server s{i} 127.0.0.{1 + (i % 200)}:{8000 + i} weight 10\n");
        }

        File.WriteAllText(Path.Combine(_dir, "haproxy.cfg"), config.ToString());
        _haproxy = Process.Start(new ProcessStartInfo("haproxy") { ArgumentList = { "-db", "-f", Path.Combine(_dir, "haproxy.cfg") }, RedirectStandardOutput = true, RedirectStandardError = true })!;
        var oneShot = new HaproxyControlOptions { Persistent = false };
        _unix = HaproxyControl.Create("unix@" + Path.Combine(_dir, "admin.sock"));
        _tcp = HaproxyControl.Create($"ipv4@127.0.0.1:{port}");
        _unixOneShot = HaproxyControl.Create("unix@" + Path.Combine(_dir, "admin.sock"), oneShot);
        _tcpOneShot = HaproxyControl.Create($"ipv4@127.0.0.1:{port}", oneShot);
        for (int attempt = 0; ; attempt++)
        {
            try
            {
                _showStat = _unix.ExecuteAsync("show stat -1 4 -1").GetAwaiter().GetResult();
                _tcp.ShowInfoAsync().GetAwaiter().GetResult();
                break;
            }
            catch (HaproxyControlException) when (attempt < 100)
            {
                Thread.Sleep(50);
            }
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _haproxy?.Kill();
        _haproxy?.WaitForExit();
        Directory.Delete(_dir, recursive: true);
    }

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

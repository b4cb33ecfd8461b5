using BenchmarkDotNet.Attributes;
using HaproxyAutoscale.Control;
using HaproxyAutoscale.Lab;

namespace HaproxyAutoscale.Benchmarks;

/// <summary>
/// What a draining server's session check costs (the actuator asks every 500 ms until the server is empty): the
/// whole <c>show stat -1 4 -1</c> (every server of every backend, the check before session 36) against the backend's
/// own rows (<c>show stat BACKEND 6 -1</c>: its servers and its own row), on a real local HAProxy with <see cref="Backends"/> backends of 8 servers
/// (the 10,000-backend rig's shape), over a kept UNIX session.
/// </summary>
[MemoryDiagnoser]
public class DrainCheckBenchmarks
{
    private TempDirectory? _directory;
    private Haproxy? _haproxy;
    private IHaproxyControl _control = null!;

    [Params(100, 10_000)]
    public int Backends { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var config = new HaproxyConfig { StatsSocket = "{dir}/admin.sock" };
        for (int b = 0; b < Backends; b++)
        {
            config.Backends.Add(new HaproxyBackend($"be{b:D5}") { Servers = [.. Enumerable.Range(1, 8).Select(s => new HaproxyServer($"s{s}", 1) { Disabled = s > 1 })] });
        }

        _directory = new TempDirectory();
        _haproxy = Haproxy.StartAsync(config.ToString(), _directory).GetAwaiter().GetResult();
        string socket = _directory.File("admin.sock");
        var started = DateTime.UtcNow;
        while (!Haproxy.Answers(socket) && DateTime.UtcNow - started < TimeSpan.FromMinutes(2)) // 10,000 backends take seconds
        {
            Thread.Sleep(100);
        }

        _control = HaproxyControl.Create("unix@" + socket);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _control.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _haproxy?.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _directory?.Dispose();
    }

    [Benchmark(Baseline = true)]
    public async Task<int> EveryServersRows() =>
        (await _control.ShowStatAsync()).Where(r => r.Backend == "be00042" && r.Server == "s2").Sum(r => r.CurrentSessions);

    [Benchmark]
    public async Task<int> TheBackendsRows() =>
        (await _control.ShowStatForBackendAsync("be00042")).Where(r => r.Server == "s2").Sum(r => r.CurrentSessions);
}

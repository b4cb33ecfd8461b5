using BenchmarkDotNet.Attributes;
using HaproxyAutoscale.Configuration;
using HaproxyAutoscale.Simulation;

namespace HaproxyAutoscale.Benchmarks;

/// <summary>
/// The closed-loop simulator on 1,000,000 arrivals (a day-like ramp, 3 to 40 requests/s per second of the hour
/// repeated), four servers, the threshold policy, one core: requests simulated per second of wall time.
/// </summary>
[MemoryDiagnoser]
public class SimulatorBenchmarks
{
    private const int Requests = 1_000_000;
    private readonly AutoscaleOptions _options = new();
    private readonly BackendModel _model = new() { Backend = "app", Workers = 4, ColdStartMs = 1000 };
    private long[] _arrivals = [];

    [GlobalSetup]
    public void Setup()
    {
        var backend = new BackendOptions { Name = "app", Policy = { Kind = "threshold" } };
        backend.Policy.Settings["thresholdMs"] = "120";
        backend.Servers.Add(new ServerOptions { Name = "s1", AlwaysUp = true });
        foreach (string name in new[] { "s2", "s3", "s4" })
        {
            backend.Servers.Add(new ServerOptions { Name = name, WarmupUrl = new Uri("http://127.0.0.1:1/") });
        }

        _options.Backends.Add(backend);
        for (int i = 0; i <= 100; i++)
        {
            _model.ServiceTimeQuantilesMs.Add(20 + (80.0 * i * i / 10_000));
        }

        // Arrival rate follows a slow wave between 20 and 300 requests/s.
        _arrivals = new long[Requests];
        double t = 1_700_000_000_000;
        for (int i = 0; i < Requests; i++)
        {
            double rate = 160 + (140 * Math.Sin(t / 600_000.0));
            t += 1000 / rate;
            _arrivals[i] = (long)t;
        }
    }

    /// <summary>One simulation of the 1,000,000 arrivals.</summary>
    [Benchmark]
    public long SimulateThreshold() => Simulator.Run(_options, "app", _model, _arrivals, new SimulationOptions()).Requests;
}

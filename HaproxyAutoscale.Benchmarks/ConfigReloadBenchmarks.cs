using BenchmarkDotNet.Attributes;
using HaproxyAutoscale.Configuration;

namespace HaproxyAutoscale.Benchmarks;

/// <summary>
/// What a reload does with the configuration before it touches the engine, at <see cref="Backends"/> backends of 8
/// servers (the 10,000-backend rig's file): read the file's JSON into options, validate them, copy them (as configured
/// and for the engine), and compare each backend with the running one (a reload that changes nothing). The daemon does
/// all five at every SIGHUP or <c>POST /reload</c>.
/// </summary>
[MemoryDiagnoser]
public class ConfigReloadBenchmarks
{
    private string _json = "";
    private AutoscaleOptions _options = null!;
    private AutoscaleOptions _running = null!;
    private AutoscaleRegistries _registries = null!;

    [Params(10_000)]
    public int Backends { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _json = ScaleMeasurements.DaemonConfig("/run/haproxy/admin.sock", 5140, Backends);
        _options = AutoscaleConfiguration.Parse(_json).Options!;
        _running = OptionsCopy.Of(_options);
        _registries = new AutoscaleRegistries();
    }

    [Benchmark]
    public AutoscaleOptions? Parse() => AutoscaleConfiguration.Parse(_json, _registries).Options;

    [Benchmark]
    public int Validate() => AutoscaleOptionsValidator.Problems(_options, _registries).Count;

    [Benchmark]
    public AutoscaleOptions Copy() => OptionsCopy.Of(_options);

    [Benchmark]
    public AutoscaleOptions CopyForEngine() => OptionsCopy.ForEngine(_options);

    [Benchmark]
    public int Compare()
    {
        int changed = 0;
        for (int i = 0; i < _options.Backends.Count; i++)
        {
            changed += OptionsSchema.Backend.Differences(_running.Backends[i], _options.Backends[i]).Count;
        }

        return changed;
    }
}

using BenchmarkDotNet.Running;
using HaproxyAutoscale.Benchmarks;
using HaproxyAutoscale.Lab;

// `generate-log FILE LINES [mixed]` writes a sample log (compare-with-halog.sh, replay-vs-analyze.sh; mixed: 30 %
// captures, 1 % lines outside the common shape, as operators' logs are); no special verb runs benchmarks.
if (args.Length is 3 or 4 && args[0] == "generate-log")
{
    using var output = new StreamWriter(args[1], append: false, new System.Text.UTF8Encoding(false), bufferSize: 1 << 20);
    int lines = int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture);
    if (args.Length == 4 && args[3] == "mixed")
    {
        LogGenerator.WriteMixed(output, lines);
    }
    else
    {
        LogGenerator.Write(output, lines);
    }

    return;
}

// `generate-steps FILE LINES` writes a log of load steps for simulate-speed.sh.
if (args.Length == 3 && args[0] == "generate-steps")
{
    using var output = new StreamWriter(args[1], append: false, new System.Text.UTF8Encoding(false), bufferSize: 1 << 20);
    LogGenerator.WriteSteps(output, int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture));
    return;
}

// `generate-trace KIND FILE [SEED]` writes one of the policy comparison's load traces (policy-comparison.sh).
if (args.Length is 3 or 4 && args[0] == "generate-trace")
{
    using var output = new StreamWriter(args[2], append: false, new System.Text.UTF8Encoding(false), bufferSize: 1 << 20);
    LoadTraces.Write(output, args[1], args.Length == 4 ? int.Parse(args[3], System.Globalization.CultureInfo.InvariantCulture) : 1);
    return;
}

// `reaction [TRIALS]` and `daemon-load CLI_DLL RATE SECONDS`: whole-daemon measurements (see daemon-measurements.sh).
if (args.Length >= 1 && args[0] == "reaction")
{
    await DaemonMeasurements.ReactionAsync(args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 30);
    return;
}

if (args.Length == 4 && args[0] == "daemon-load")
{
    await DaemonMeasurements.LoadAsync(args[1], int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture), int.Parse(args[3], System.Globalization.CultureInfo.InvariantCulture));
    return;
}

// `daemon-load-tcp CLI_DLL LINES CONNECTIONS`: the daemon's TCP source at full speed (see daemon-measurements.sh).
if (args.Length == 4 && args[0] == "daemon-load-tcp")
{
    await DaemonMeasurements.LoadTcpAsync(args[1], int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture), int.Parse(args[3], System.Globalization.CultureInfo.InvariantCulture));
    return;
}

// `scale CLI BACKENDS RATE SECONDS`: one daemon (CLI: the .dll, or the Native AOT binary), many backends of 8 servers,
// Zipf-spread lines (see scale-measurements.sh).
if (args.Length is 5 or 6 && args[0] == "scale")
{
    var invariant = System.Globalization.CultureInfo.InvariantCulture;
    await ScaleMeasurements.RunAsync(args[1], int.Parse(args[2], invariant), int.Parse(args[3], invariant), int.Parse(args[4], invariant),
        args.Length == 6 ? int.Parse(args[5], invariant) : 5);
    return;
}

// `provider-fleet CLI BACKENDS KEEPWARM_SECONDS`: a fleet whose every backend has an exec provider starting up under
// systemd's notify protocol: time to READY, provider processes at once, the keep-warm stops after it.
if (args.Length == 4 && args[0] == "provider-fleet" && OperatingSystem.IsLinux())
{
    var invariant = System.Globalization.CultureInfo.InvariantCulture;
    await ProviderFleetMeasurements.RunAsync(args[1], int.Parse(args[2], invariant), int.Parse(args[3], invariant));
    return;
}

// `line-path BACKENDS ITERATIONS`: the log line's path (LinePathBenchmarks) in CPU time per line.
if (args.Length == 3 && args[0] == "line-path")
{
    Console.WriteLine(LinePathBenchmarks.MeasureCpu(int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture), int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture)));
    return;
}

// `provider-latency [TRIALS]`: decision to enabled for a server started through the exec provider (configured and pool).
if (args.Length >= 1 && args[0] == "provider-latency")
{
    await ProviderMeasurements.RunAsync(args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 20);
    return;
}

// `scale-to-zero [WAKES] [COLD_START_SECONDS]`: wake-to-first-byte through the Lua hold (scale-to-zero.sh).
if (args.Length >= 1 && args[0] == "scale-to-zero")
{
    await ScaleToZeroMeasurements.RunAsync(
        args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 20,
        args.Length > 2 ? double.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 1.0);
    return;
}

// `forecast-disk DIR BACKENDS`: the forecasts' demand history of a fleet on disk (size, one flush, reading it all).
if (args.Length == 3 && args[0] == "forecast-disk")
{
    ForecastDiskMeasurements.Run(args[1], int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture));
    return;
}

// `control-latency [CALLS]`: p50/p99/max of single Runtime API round trips to a local HAProxy.
if (args.Length >= 1 && args[0] == "control-latency")
{
    await ControlLatency.RunAsync(args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 5000);
    return;
}

// `soak CLI_DLL MINUTES OUTDIR [tcp|file] [short]`: the daemon for an hour under reloads, outages and provider failures
// (soak.sh); `short`: the test suite's compressed schedule and volume.
if (args.Length is 4 or 5 or 6 && args[0] == "soak")
{
    var mode = args.Length >= 5 && args[4] == "file" ? HaproxyAutoscale.Lab.Soak.SoakMode.File : HaproxyAutoscale.Lab.Soak.SoakMode.Tcp;
    string[] daemon = args[1].EndsWith(".dll", StringComparison.Ordinal) ? ["dotnet", args[1]] : [args[1]];
    var duration = TimeSpan.FromMinutes(double.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture));
    HaproxyAutoscale.Lab.Soak.SoakOptions options = args.Length == 6 && args[5] == "short"
        ? HaproxyAutoscale.Lab.Soak.SoakOptions.Short(args[3], daemon, mode, duration)
        : new() { Daemon = daemon, Duration = duration, OutputDirectory = args[3], Mode = mode };
    HaproxyAutoscale.Lab.Soak.SoakResult result = await HaproxyAutoscale.Lab.Soak.SoakRig.RunAsync(options);
    Console.Write(HaproxyAutoscale.Lab.Soak.SoakReport.Summary(options, result));
    return;
}

// `fidelity [step|spike|all] [LOG_DIR]`: live HAProxy + apps + autoscaler against the simulator on the log of the run.
if (args.Length >= 1 && args[0] == "fidelity")
{
    await HaproxyAutoscale.Benchmarks.Fidelity.FidelityReport.RunAsync(args.Length > 1 ? args[1] : "all", args.Length > 2 ? args[2] : Path.GetTempPath());
    return;
}

// `slo-rig TRACES POLICIES LOG_DIR` (step,spike; threshold,target,concurrency,concurrency-in-flight or all): issue 23's rig
// live with each policy, against the simulator on each run's own log.
if (args.Length >= 4 && args[0] == "slo-rig")
{
    await HaproxyAutoscale.Benchmarks.Fidelity.SloRigReport.RunAsync(args[1], args[2], args[3]);
    return;
}

// `slo-resimulate LOG POLICY [PHASE_MS]`: a recorded SLO-rig run simulated again, its first evaluation PHASE_MS after the first arrival.
if (args.Length >= 3 && args[0] == "slo-resimulate")
{
    Console.Write(HaproxyAutoscale.Lab.Fidelity.SloRig.Resimulate(args[1], HaproxyAutoscale.Lab.Fidelity.SloPolicy.Find(args[2]),
        args.Length > 3 ? TimeSpan.FromMilliseconds(int.Parse(args[3], System.Globalization.CultureInfo.InvariantCulture)) : null));
    return;
}

BenchmarkSwitcher.FromAssembly(typeof(ParserBenchmarks).Assembly).Run(args);

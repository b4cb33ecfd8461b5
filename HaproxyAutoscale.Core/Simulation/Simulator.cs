using HaproxyAutoscale.Configuration;
using HaproxyAutoscale.Logs;
using HaproxyAutoscale.Policies;
using HaproxyAutoscale.Windows;

namespace HaproxyAutoscale.Simulation;

/// <summary>
/// Closed-loop what-if: the log's arrivals replayed against servers that behave like the fitted model, with the
/// configured policy (run by the daemon's own decider on the simulated clock) adding and removing them. Unlike
/// replay, adding a server changes the simulated response times, so the result says what the policy would have done
/// to latency and cost.
/// </summary>
internal static class Simulator
{
    /// <summary>Simulates one backend over its arrivals (Unix milliseconds, ascending).</summary>
    /// <exception cref="AutoscaleOptionsException">The options break a rule of <see cref="AutoscaleOptionsValidator"/>.</exception>
    public static BackendSimulation Run(AutoscaleOptions options, string backend, BackendModel model, ReadOnlySpan<long> arrivals, SimulationOptions simulation,
        ScalingPolicyRegistry? policies = null, ResponseTimeWindowRegistry? windows = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(simulation);
        policies ??= new ScalingPolicyRegistry();
        windows ??= new ResponseTimeWindowRegistry();
        AutoscaleOptionsValidator.ThrowIfInvalid(options, new AutoscaleRegistries { Policies = policies, Windows = windows });
        BackendOptions backendOptions = options.Backends.FirstOrDefault(b => b.Name == backend)
            ?? throw new ArgumentException($"backend '{backend}' is not configured", nameof(backend));
        return new SimulatedBackend(options, backendOptions, policies, windows, model, simulation).Run(arrivals);
    }
}

/// <summary>Collects each configured backend's arrivals (accept dates) from log lines, for <see cref="Simulator"/>.</summary>
internal sealed class ArrivalLog
{
    private readonly HaproxyLogParser _parser = new();
    private readonly Dictionary<string, List<long>> _arrivals;

    /// <summary>Collects arrivals of <paramref name="backends"/>; other backends' lines are skipped.</summary>
    public ArrivalLog(IEnumerable<string> backends) =>
        _arrivals = backends.ToDictionary(b => b, _ => new List<long>(), StringComparer.Ordinal);

    /// <summary>Lines read.</summary>
    public long Lines { get; private set; }

    /// <summary>Requests added (request log lines among the lines, plus records given to <see cref="Add"/>).</summary>
    public long Parsed { get; private set; }

    /// <summary>Feeds one log line (without its terminator).</summary>
    public void OnLine(ReadOnlySpan<byte> line)
    {
        Lines++;
        if (_parser.TryParse(line, out RequestRecord record))
        {
            Add(record);
        }
    }

    /// <summary>Adds one parsed request (for callers that parse each line once for several uses).</summary>
    public void Add(in RequestRecord record)
    {
        Parsed++;
        if (_arrivals.TryGetValue(record.Backend, out List<long>? arrivals))
        {
            arrivals.Add(new DateTimeOffset(DateTime.SpecifyKind(record.AcceptDate, DateTimeKind.Utc)).ToUnixTimeMilliseconds());
        }
    }

    /// <summary>The backend's arrivals in ascending order (log lines are written when requests end, not in arrival order).</summary>
    public long[] ArrivalsOf(string backend)
    {
        long[] arrivals = _arrivals.TryGetValue(backend, out List<long>? list) ? [.. list] : [];
        Array.Sort(arrivals);
        return arrivals;
    }
}

using System.CommandLine;
using HaproxyAutoscale.Cli.LogFiles;
using HaproxyAutoscale.Configuration;
using HaproxyAutoscale.Logs;
using HaproxyAutoscale.Simulation;

namespace HaproxyAutoscale.Cli.Commands;

/// <summary>What <c>simulate</c> and <c>tune</c> read: the configuration, and from one pass over the log each backend's arrivals and fitted model.</summary>
internal sealed class SimulationInputs
{
    public Argument<string[]> Logs { get; } = new("LOG")
    {
        Description = "HAProxy log files taken as one log (plain or gzip files, pipes), or - for standard input.",
        Arity = ArgumentArity.OneOrMore,
    };

    private readonly Option<string?> _config = new("--config") { Description = "The autoscaler configuration (JSON)." };
    private readonly Option<string?> _model = new("--model") { Description = "A server model file (as --fit prints) instead of fitting one from the log." };
    private readonly Option<string> _slo = new("--slo") { Description = "The latency objective.", DefaultValueFactory = _ => "200ms" };
    private readonly Option<string> _balance = new("--balance") { Description = "HAProxy's balance: roundrobin or leastconn.", DefaultValueFactory = _ => "roundrobin" };
    private readonly Option<string> _coldStart = new("--cold-start") { Description = "A cold server's extra time on its first request (no log shows it).", DefaultValueFactory = _ => "0s" };
    private readonly Option<string> _idleToCold = new("--idle-to-cold") { Description = "How long a parked server stays warm.", DefaultValueFactory = _ => "5m" };
    private readonly Option<string> _holdDeadline = new("--hold-deadline")
    {
        Description = "Scale to zero (a backend with minActive 0 and no alwaysUp server): the Lua hold's deadline, past which a held request gets a 503.",
        DefaultValueFactory = _ => "30s",
    };

    private readonly Option<string> _providerStart = new("--provider-start")
    {
        Description = "Scale to zero: how long the provider takes to start a stopped server (parked longer than keepWarm, or never started), before its warm-up.",
        DefaultValueFactory = _ => "0s",
    };

    private readonly Option<string?> _queueTimeout = new("--queue-timeout") { Description = "HAProxy's timeout queue (default: its timeout connect): queued longer, a request gets a 503. Without it, requests wait as long as it takes." };

    private readonly Option<string?> _evaluationPhase = new("--evaluation-phase")
    {
        Description = "When the daemon's first evaluation came after the log's first request (0 up to the evaluation interval; default: one interval). Given the phase of a recorded run, its decisions can be compared one to one.",
    };

    public int ExitCode { get; private set; }

    public void AddTo(Command command)
    {
        command.Arguments.Add(Logs);
        foreach (Option option in (Option[])[_config, _model, _slo, _balance, _coldStart, _idleToCold, _queueTimeout, _holdDeadline, _providerStart, _evaluationPhase])
        {
            command.Options.Add(option);
        }
    }

    public double ColdStartMs(ParseResult parse) => Durations.TryParse(parse.GetValue(_coldStart), out TimeSpan value) ? value.TotalMilliseconds : 0;

    public double IdleToColdS(ParseResult parse) => Durations.TryParse(parse.GetValue(_idleToCold), out TimeSpan value) ? value.TotalSeconds : 300;

    /// <summary>Reads everything; on a problem reports it in one line, sets <see cref="ExitCode"/> and returns null.</summary>
    public async Task<Loaded?> LoadAsync(CliConsole console, ParseResult parse, CancellationToken cancellationToken)
    {
        if (parse.GetValue(_config) is not { } configPath)
        {
            return Fail(console.Fail("--config: required (only --fit works without a configuration)", ExitCodes.Usage));
        }

        if (!Durations.TryParse(parse.GetValue(_slo), out TimeSpan slo) || slo <= TimeSpan.Zero)
        {
            return Fail(console.Fail($"--slo: '{parse.GetValue(_slo)}' is not a duration such as 200ms", ExitCodes.Usage));
        }

        if (!Enum.TryParse(parse.GetValue(_balance), ignoreCase: true, out SimulatedBalance balance) || !Enum.IsDefined(balance))
        {
            return Fail(console.Fail($"--balance: '{parse.GetValue(_balance)}' is not roundrobin or leastconn", ExitCodes.Usage));
        }

        foreach (Option<string> duration in (Option<string>[])[_coldStart, _idleToCold])
        {
            if (!Durations.TryParse(parse.GetValue(duration), out _))
            {
                return Fail(console.Fail($"{duration.Name}: '{parse.GetValue(duration)}' is not a duration such as 1s or 5m", ExitCodes.Usage));
            }
        }

        if (!Durations.TryParse(parse.GetValue(_holdDeadline), out TimeSpan holdDeadline) || holdDeadline <= TimeSpan.Zero)
        {
            return Fail(console.Fail($"--hold-deadline: '{parse.GetValue(_holdDeadline)}' is not a duration such as 30s", ExitCodes.Usage));
        }

        if (!Durations.TryParse(parse.GetValue(_providerStart), out TimeSpan providerStart) || providerStart < TimeSpan.Zero)
        {
            return Fail(console.Fail($"--provider-start: '{parse.GetValue(_providerStart)}' is not a duration such as 2s", ExitCodes.Usage));
        }

        TimeSpan? queueTimeout = null;
        if (parse.GetValue(_queueTimeout) is { } queueText)
        {
            if (!Durations.TryParse(queueText, out TimeSpan parsed) || parsed <= TimeSpan.Zero)
            {
                return Fail(console.Fail($"--queue-timeout: '{queueText}' is not a duration such as 1s", ExitCodes.Usage));
            }

            queueTimeout = parsed;
        }

        (AutoscaleOptions? options, int exitCode) = await ConfigFile.LoadAsync(console, configPath, cancellationToken).ConfigureAwait(false);
        if (options is null)
        {
            return Fail(exitCode);
        }

        TimeSpan? phase = null;
        if (parse.GetValue(_evaluationPhase) is { } phaseText)
        {
            if (!Durations.TryParse(phaseText, out TimeSpan parsed) || parsed < TimeSpan.Zero || parsed > options.EvaluationInterval)
            {
                return Fail(console.Fail($"--evaluation-phase: '{phaseText}' is not a duration from 0 to the evaluation interval ({Durations.Format(options.EvaluationInterval)})", ExitCodes.Usage));
            }

            phase = parsed;
        }

        ServerModel? given = null;
        if (parse.GetValue(_model) is { } modelPath)
        {
            try
            {
                given = ServerModelJson.Read(await File.ReadAllTextAsync(modelPath, cancellationToken).ConfigureAwait(false));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return Fail(console.Fail($"{modelPath}: {e.Message}"));
            }
            catch (ServerModelFormatException e)
            {
                return Fail(console.Fail($"{modelPath}: {string.Join("; ", e.Errors)}"));
            }
        }

        // One pass: each line parsed once, for the arrivals and (without --model) the fit.
        var parser = new HaproxyLogParser();
        var arrivals = new ArrivalLog(options.Backends.Select(b => b.Name));
        var fitter = new ServerModelFitter(ColdStartMs(parse), IdleToColdS(parse));
        List<LogInput> inputs;
        try
        {
            inputs = LogInput.OpenAll(parse.GetRequiredValue(Logs), Console.OpenStandardInput);
        }
        catch (LogInputException e)
        {
            return Fail(console.Fail(e.Message));
        }

        try
        {
            foreach (LogInput input in inputs)
            {
                await input.ReadAsync(
                    line =>
                    {
                        if (parser.TryParse(line, out RequestRecord record))
                        {
                            arrivals.Add(record);
                            fitter.Add(record);
                        }
                    },
                    cancellationToken).ConfigureAwait(false);
            }
        }
        catch (LogInputException e)
        {
            return Fail(console.Fail(e.Message));
        }
        finally
        {
            inputs.ForEach(input => input.Dispose());
        }

        ServerModelFitResult? fit = given is null ? fitter.Fit() : null;
        ServerModel model = given ?? fit!.Model;
        var backends = new List<(string, BackendModel, long[])>();
        foreach (BackendOptions backend in options.Backends)
        {
            long[] backendArrivals = arrivals.ArrivalsOf(backend.Name);
            if (backendArrivals.Length == 0)
            {
                console.Error.WriteLine($"note: {backend.Name}: no request in the log, not simulated");
                continue;
            }

            if (model.Find(backend.Name) is not { } backendModel)
            {
                string why = fit?.Errors.FirstOrDefault(e => e.Contains($"'{backend.Name}'", StringComparison.Ordinal) || e.StartsWith(backend.Name, StringComparison.Ordinal))
                    ?? $"{backend.Name}: no model for this backend in {parse.GetValue(_model) ?? "the log"}";
                return Fail(console.Fail(why));
            }

            backends.Add((backend.Name, backendModel, backendArrivals));
        }

        foreach (string note in fit?.Notes ?? [])
        {
            console.Error.WriteLine($"note: {note}");
        }

        return backends.Count == 0
            ? Fail(console.Fail($"no configured backend has a request in the log ({arrivals.Parsed} request lines read)"))
            : new Loaded(options, slo, balance, queueTimeout, backends) { HoldDeadline = holdDeadline, ProviderStart = providerStart, EvaluationPhase = phase };
    }

    private Loaded? Fail(int exitCode)
    {
        ExitCode = exitCode;
        return null;
    }
}

/// <summary>The configuration and, per backend with requests, its model and arrivals.</summary>
internal sealed record Loaded(AutoscaleOptions Options, TimeSpan Slo, SimulatedBalance Balance, TimeSpan? QueueTimeout, IReadOnlyList<(string Backend, BackendModel Model, long[] Arrivals)> Backends)
{
    /// <summary>The Lua hold's deadline (scale to zero).</summary>
    public TimeSpan HoldDeadline { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The provider's start of a stopped server (scale to zero).</summary>
    public TimeSpan ProviderStart { get; init; }

    /// <summary>When the first evaluation comes after the first request, or <see langword="null"/>: one evaluation interval.</summary>
    public TimeSpan? EvaluationPhase { get; init; }

    /// <summary>The simulation's options from what was read.</summary>
    public SimulationOptions Simulation(int? staticServers = null, bool keepTimeline = false) => new()
    {
        Slo = Slo, Balance = Balance, QueueTimeout = QueueTimeout, HoldDeadline = HoldDeadline, ProviderStart = ProviderStart, StaticServers = staticServers, KeepTimeline = keepTimeline,
        EvaluationPhase = EvaluationPhase,
    };
}

using System.Net.Sockets;
using HaproxyAutoscale.Configuration;
using HaproxyAutoscale.Hosting;
using HaproxyAutoscale.Logs;
using HaproxyAutoscale.Policies;
using HaproxyAutoscale.Providers;
using HaproxyAutoscale.Windows;

namespace HaproxyAutoscale.Scaling;

/// <summary>A running autoscaler takes a new configuration (SIGHUP, <c>POST /reload</c>).</summary>
public sealed partial class Autoscaler
{
    private readonly SemaphoreSlim _reloading = new(1, 1);
    private readonly object _swap = new(); // an evaluation pass and a reload's swap of the backends never interleave
    private readonly BackendFactory _factory;
    private AutoscaleOptions _configured; // the options as configured (pool slots not expanded): what a reload compares with
    private volatile bool _running;

    /// <summary>The backends now, in configuration order (tests: which objects a reload kept).</summary>
    internal IReadOnlyList<ScaledBackend> Backends => _backends.Values;

    /// <summary>The options as configured, which the next reload compares with (tests: which objects a reload kept).</summary>
    internal AutoscaleOptions Configured => _configured;

    /// <summary>The engine's options (tests: which objects a reload kept).</summary>
    internal AutoscaleOptions Engine => _options;

    /// <summary>
    /// Applies <paramref name="options"/> to the running autoscaler without a restart, or rejects them. They are
    /// validated first, as <see cref="AutoscalerBuilder.Build"/> does (with the same policy, window and provider
    /// registries): an invalid configuration is rejected with every problem and its key path, and nothing changes.
    /// A valid one applies at once: backends added (their servers adopt HAProxy's state before any is acted on),
    /// removed (no longer acted on; their servers are left as they are in HAProxy, and processes their provider started
    /// keep running), changed (policy, window, behaviour, schedule, provider, servers: each server that stays keeps its
    /// lifecycle, back-off and address; the window's samples and refill rule survive unless the window changed);
    /// <c>evaluationInterval</c>; a new log source is bound before the old one stops (their lines are counted
    /// together). A backend the reload leaves unchanged keeps everything it knows, and no server changes state
    /// because of a reload. Settings that cannot change at run time (see <see cref="ReloadResult.RestartRequired"/>)
    /// keep their running values; the rest applies. Reloads run one at a time.
    /// </summary>
    public async Task<ReloadResult> ReloadAsync(AutoscaleOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        await _reloading.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return Report(await ApplyAsync(options, cancellationToken).ConfigureAwait(false));
        }
        finally
        {
            _reloading.Release();
        }
    }

    /// <summary>
    /// Applies a configuration read by <see cref="AutoscaleConfiguration.Parse"/> (see
    /// <see cref="ReloadAsync(AutoscaleOptions, CancellationToken)"/>); one that could not be read is rejected with its
    /// problems, logged and counted like an invalid one.
    /// </summary>
    public Task<ReloadResult> ReloadAsync(ConfigurationResult configuration, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        return configuration is { IsValid: true, Options: { } options }
            ? ReloadAsync(options, cancellationToken)
            : Task.FromResult(Report(new ReloadResult { Applied = false, Errors = configuration.Errors }));
    }

    private ReloadResult Report(ReloadResult result)
    {
        _metrics.Reloads.Add(1, new KeyValuePair<string, object?>("outcome", result.Applied ? "applied" : "rejected"));
        if (!result.Applied)
        {
            Log.ReloadRejected(_logger, result.Errors.Count, string.Join("; ", result.Errors));
            return result;
        }

        Log.ReloadApplied(_logger, result.Summary);
        if (result.RestartRequired.Count > 0)
        {
            Log.ReloadNeedsRestart(_logger, string.Join(", ", result.RestartRequired));
        }

        return result;
    }

    private async Task<ReloadResult> ApplyAsync(AutoscaleOptions options, CancellationToken cancellationToken)
    {
        var registries = new AutoscaleRegistries { Policies = _factory.Registries.Policies, Windows = _factory.Registries.Windows, Providers = _factory.Registries.Providers };
        if (AutoscaleOptionsValidator.Problems(options, registries).Select(p => p.Text).ToList() is { Count: > 0 } errors)
        {
            return new ReloadResult { Applied = false, Errors = errors };
        }

        AutoscaleOptions configured = OptionsCopy.Of(options);
        bool rebindable;
        lock (_sourceLock)
        {
            rebindable = _owned.Contains(_source); // a source the embedder supplied is theirs: not re-bound
        }

        IReadOnlyList<string> restartRequired = RestartOnlySettings.Changed(_configured, configured, rebindable);
        RestartOnlySettings.KeepRunning(_configured, configured, rebindable);
        AutoscaleOptions engine = OptionsCopy.ForEngine(configured);

        // Everything new is made before anything changes: a failure here (a log address in use) leaves all as it was.
        ILogSource? source = null;
        bool allowFromChanged = !_configured.Logs.AllowFrom.SequenceEqual(configured.Logs.AllowFrom, StringComparer.Ordinal);
        if (configured.Logs.Source != _configured.Logs.Source)
        {
            try
            {
                source = CreateSource(engine);
            }
            catch (Exception e) when (e is SocketException or FormatException or IOException or UnauthorizedAccessException)
            {
                return new ReloadResult { Applied = false, Errors = [$"logs.source: cannot listen on {engine.Logs.Source}: {e.Message}"] };
            }
        }

        BackendPlan plan;
        try
        {
            plan = PlanBackends(configured, engine); // a custom policy's or window's factory may throw: nothing changed yet
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            if (source is not null)
            {
                await source.DisposeAsync().ConfigureAwait(false);
            }

            return new ReloadResult { Applied = false, Errors = [$"backends: a policy, window or provider could not be created: {e.GetType().Name}: {e.Message}"] };
        }

        // Not cancellable from here: a reload either applies whole or not at all. A reconcile pass in progress ends
        // first (its deadlines bound it), so no pass reads half of the old set and half of the new one.
        await _reconciling.WaitAsync(CancellationToken.None).ConfigureAwait(false);
        try
        {
            lock (_swap)
            {
                foreach (Action apply in plan.Apply)
                {
                    apply();
                }

                _backends.Replace(plan.Backends);
                _options = engine;
                _configured = configured;
            }
        }
        finally
        {
            _reconciling.Release();
        }

        string? sourceNote = null;
        if (source is not null)
        {
            await RebindAsync(source).ConfigureAwait(false);
            sourceNote = $"re-bound to {source.Address}";
        }
        else if (allowFromChanged && ReplaceAllowlist(engine))
        {
            sourceNote = $"{_source.Address} accepts {string.Join(", ", engine.Logs.AllowFrom)}";
        }

        if (plan.Adopt && _running)
        {
            await AdoptAsync(plan.AddedBackends, cancellationToken).ConfigureAwait(false);
        }

        return new ReloadResult
        {
            Applied = true,
            Added = [.. plan.AddedBackends.Select(b => b.Name)],
            Removed = plan.Removed,
            Changed = plan.Changed,
            Unchanged = plan.Unchanged,
            LogSource = sourceNote,
            RestartRequired = restartRequired,
        };
    }

    // The new set of backends in the new order, and the changes to make to the ones that stay (run under the swap
    // lock, each under its backend's lock). Everything that could fail (a policy's or window's factory) runs here.
    private BackendPlan PlanBackends(AutoscaleOptions configured, AutoscaleOptions engine)
    {
        var plan = new BackendPlan();
        Dictionary<string, BackendOptions> running = _configured.Backends.ToDictionary(b => b.Name, StringComparer.Ordinal);
        for (int i = 0; i < configured.Backends.Count; i++)
        {
            BackendOptions wanted = configured.Backends[i], own = engine.Backends[i];
            if (!running.Remove(wanted.Name, out BackendOptions? was) || !_backends.TryGetValue(wanted.Name, out ScaledBackend? scaled))
            {
                scaled = _factory.Create(own, engine);
                scaled.Servers.Unadopt(); // HAProxy's state is adopted before any server is acted on
                plan.AddedBackends.Add(scaled);
                plan.Adopt = true;
            }
            else if (OptionsSchema.Backend.Differences(was, wanted) is { Count: > 0 } keys)
            {
                plan.Changed.Add(new ChangedBackend(wanted.Name, keys));
                plan.Apply.Add(Change(scaled, own, keys, engine.Logs.Fallback));
                plan.Adopt |= keys.Contains("servers") || keys.Contains("pool");
            }
            else
            {
                // The running options objects stay, and the reload's copies of them are dropped: at 10,000 backends
                // both were held after every reload (~12 MB).
                configured.Backends[i] = was;
                engine.Backends[i] = scaled.Options;
                plan.Unchanged++;
            }

            plan.Backends.Add(scaled);
        }

        plan.Removed.AddRange(running.Keys);
        return plan;
    }

    // A changed backend keeps its object, its lock, its servers' table and log coverage; it gets new options and a new
    // decider that carries over what the old one learned, and keeps its policy, window and provider where unchanged.
    private Action Change(ScaledBackend scaled, BackendOptions own, IReadOnlyList<string> keys, BlindFallback fallback)
    {
        PoolSlots.Expand(own);
        BackendDecider old = scaled.Decider;
        bool keepWindow = !keys.Contains("window"), keepBehavior = !keys.Contains("behavior");
        IScalingPolicy policy = keys.Contains("policy") ? _factory.CreatePolicy(own) : old.Policy;
        IResponseTimeWindow window = keepWindow ? old.Window : _factory.CreateWindow(own);
        IServerProvider? provider = keys.Contains("provider") ? _factory.CreateProvider(own) : scaled.Provider;
        BackendDecider decider = _factory.CreateDecider(own, policy, window, scaled, fallback);
        return () =>
        {
            lock (scaled.Gate)
            {
                scaled.Servers.Reconfigure(own);
                decider.ContinueFrom(scaled.Decider, keepWindow, keepBehavior);
                scaled.Decider = decider;
                scaled.Options = own;
                scaled.Provider = provider;
            }
        };
    }

    // Backends (or servers) a reload brought adopt HAProxy's state now rather than at the next periodic pass, and
    // what their providers run; a failure here is logged and the periodic pass adopts them later.
    private async Task AdoptAsync(IReadOnlyList<ScaledBackend> added, CancellationToken cancellationToken)
    {
        try
        {
            _reconciler.AdoptReloaded();
            await ReconcileAsync(cancellationToken).ConfigureAwait(false);
            await _keepWarm.AdoptProcessesAsync(added, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    private sealed class BackendPlan
    {
        public List<ScaledBackend> Backends { get; } = [];

        public List<ScaledBackend> AddedBackends { get; } = [];

        public List<string> Removed { get; } = [];

        public List<ChangedBackend> Changed { get; } = [];

        public List<Action> Apply { get; } = [];

        public int Unchanged { get; set; }

        public bool Adopt { get; set; }
    }
}

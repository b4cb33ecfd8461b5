using System.Diagnostics.Metrics;
using System.IO.Abstractions;
using HaproxyAutoscale.Configuration;
using HaproxyAutoscale.Control;
using HaproxyAutoscale.HighAvailability;
using HaproxyAutoscale.Logs;
using HaproxyAutoscale.Policies;
using HaproxyAutoscale.Scaling;
using HaproxyAutoscale.Windows;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace HaproxyAutoscale.Hosting;

/// <summary>
/// Builds an <see cref="Autoscaler"/> without dependency injection. Everything has a default taken from the
/// options (log source address, stats socket endpoints, HTTP warm-up); any part can be replaced.
/// </summary>
public sealed class AutoscalerBuilder
{
    private readonly AutoscaleOptions _options;
    private ILogSource? _source;
    private IHaproxyControl? _control;
    private IWarmup? _warmup;
    private TimeProvider _time = TimeProvider.System;
    private ILoggerFactory _loggers = NullLoggerFactory.Instance;
    private IMeterFactory? _meters;
    private bool _dryRun;
    private ILeaderElection? _election;
    private Func<HighAvailabilityOptions, ILoggerFactory, TimeProvider, ILeaderElection>? _electionFactory;

    /// <summary>Starts from validated options (see <see cref="AutoscaleConfiguration.Parse"/>).</summary>
    public AutoscalerBuilder(AutoscaleOptions options) => _options = options ?? throw new ArgumentNullException(nameof(options));

    /// <summary>The policies available by name; add custom ones here.</summary>
    public ScalingPolicyRegistry Policies { get; private set; } = new();

    /// <summary>The windows available by kind; add custom ones here.</summary>
    public ResponseTimeWindowRegistry Windows { get; private set; } = new();

    /// <summary>The server providers available by name (<c>exec</c>); add custom ones here.</summary>
    public Providers.ServerProviderRegistry Providers { get; private set; } = new();

    /// <summary>Uses <paramref name="providers"/> (for example the registry the options were validated against).</summary>
    public AutoscalerBuilder UseProviders(Providers.ServerProviderRegistry providers)
    {
        Providers = providers ?? throw new ArgumentNullException(nameof(providers));
        return this;
    }

    /// <summary>Uses <paramref name="windows"/> (for example the registry the options were validated against).</summary>
    public AutoscalerBuilder UseWindows(ResponseTimeWindowRegistry windows)
    {
        Windows = windows ?? throw new ArgumentNullException(nameof(windows));
        return this;
    }

    /// <summary>Uses <paramref name="policies"/> (for example the registry the options were validated against).</summary>
    public AutoscalerBuilder UsePolicies(ScalingPolicyRegistry policies)
    {
        Policies = policies ?? throw new ArgumentNullException(nameof(policies));
        return this;
    }

    /// <summary>Reads logs from <paramref name="source"/> instead of <see cref="LogOptions.Source"/>.</summary>
    public AutoscalerBuilder UseLogSource(ILogSource source)
    {
        _source = source;
        return this;
    }

    /// <summary>Sends commands through <paramref name="control"/> instead of <see cref="HaproxyOptions.Endpoints"/>.</summary>
    public AutoscalerBuilder UseControl(IHaproxyControl control)
    {
        _control = control;
        return this;
    }

    /// <summary>Warms servers up with <paramref name="warmup"/> instead of HTTP GETs.</summary>
    public AutoscalerBuilder UseWarmup(IWarmup warmup)
    {
        _warmup = warmup;
        return this;
    }

    /// <summary>Takes time from <paramref name="time"/> (tests pass a fake).</summary>
    public AutoscalerBuilder UseTimeProvider(TimeProvider time)
    {
        _time = time;
        return this;
    }

    /// <summary>Logs through <paramref name="loggers"/>.</summary>
    public AutoscalerBuilder UseLoggerFactory(ILoggerFactory loggers)
    {
        _loggers = loggers;
        return this;
    }

    /// <summary>Creates the <c>HaproxyAutoscale</c> meter through <paramref name="meters"/>.</summary>
    public AutoscalerBuilder UseMeterFactory(IMeterFactory meters)
    {
        _meters = meters;
        return this;
    }

    /// <summary>Decides and logs, but sends no command that changes HAProxy.</summary>
    public AutoscalerBuilder DryRun(bool dryRun = true)
    {
        _dryRun = dryRun;
        return this;
    }

    /// <summary>
    /// Runs as one of several replicas: only the leader of <paramref name="election"/> acts (see
    /// <see cref="ILeaderElection"/>); the others decide and log. The election stays the caller's to dispose.
    /// </summary>
    public AutoscalerBuilder UseLeaderElection(ILeaderElection election)
    {
        _election = election ?? throw new ArgumentNullException(nameof(election));
        return this;
    }

    /// <summary>
    /// Creates the election from the options' <c>ha</c> section when there is one (the autoscaler disposes it); without
    /// that section the autoscaler acts alone. <c>HaproxyAutoscale.Etcd</c>'s <c>UseEtcdLeaderElection()</c> calls this.
    /// </summary>
    public AutoscalerBuilder UseLeaderElection(Func<HighAvailabilityOptions, ILoggerFactory, TimeProvider, ILeaderElection> factory)
    {
        _electionFactory = factory ?? throw new ArgumentNullException(nameof(factory));
        return this;
    }

    /// <summary>Creates the autoscaler; sockets are bound now.</summary>
    /// <exception cref="AutoscaleOptionsException">The options break a rule of <see cref="AutoscaleOptionsValidator"/> (every problem listed).</exception>
    /// <exception cref="InvalidOperationException">No endpoint and no control; or an <c>ha</c> section and no leader election.</exception>
    public Autoscaler Build()
    {
        AutoscaleOptionsValidator.ThrowIfInvalid(_options, new AutoscaleRegistries { Policies = Policies, Windows = Windows, Providers = Providers });
        AutoscaleOptions options = OptionsCopy.Of(_options); // later changes to the caller's object do not reach the engine

        // What is created here from the options is the autoscaler's to dispose; what the caller supplied stays theirs.
        var owned = new List<IAsyncDisposable>();
        try
        {
            ILeaderElection? election = _election;
            if (election is null && options.HighAvailability is { } ha)
            {
                election = _electionFactory is null
                    ? throw new InvalidOperationException("ha: active/standby needs a leader election: add the HaproxyAutoscale.Etcd package and call UseEtcdLeaderElection() on the builder (or UseLeaderElection)")
                    : Own(_electionFactory(ha, _loggers, _time), owned);
            }

            IHaproxyControl control = _control ?? Own(CreateControl(options), owned);
            IWarmup warmup = _warmup ?? Own(new HttpWarmup(options.Warmup, _time), owned);
            ILogSource source = _source ?? Own(LogSources.Create(options.Logs.Source, new FileSystem(), _time, datagramOptions: DatagramOptions(options)), owned);
            if (source is DatagramLogSource datagrams)
            {
                // Rejected senders are reported through the engine's logger (event 18), whoever made the source.
                datagrams.Logger ??= _loggers.CreateLogger("HaproxyAutoscale");
            }
            else if (source is TcpLogSource tcp)
            {
                tcp.Logger ??= _loggers.CreateLogger("HaproxyAutoscale"); // connections, rejections, malformed streams (events 40-44)
            }

            return new Autoscaler(options, new EngineConnections(source, control, warmup, election), new EngineRegistries(Policies, Windows, Providers), new EngineRuntime(_time, _loggers, _meters, _dryRun), owned);
        }
        catch
        {
            foreach (IAsyncDisposable disposable in owned)
            {
                disposable.DisposeAsync().AsTask().GetAwaiter().GetResult();
            }

            throw;
        }
    }

    /// <summary>The datagram source's options that <paramref name="options"/> configure (<c>logs.allowFrom</c>), validated before.</summary>
    internal static DatagramSourceOptions DatagramOptions(AutoscaleOptions options)
    {
        var datagramOptions = new DatagramSourceOptions();
        datagramOptions.AllowFrom.Clear();
        foreach (string entry in options.Logs.AllowFrom)
        {
            // Validated: every entry parses.
            if (SenderAllowlist.TryParse(entry, out System.Net.IPNetwork network, out _))
            {
                datagramOptions.AllowFrom.Add(network);
            }
        }

        return datagramOptions;
    }

    private static IHaproxyControl CreateControl(AutoscaleOptions options)
    {
        if (options.Haproxy.Endpoints.Count == 0)
        {
            throw new InvalidOperationException("no HAProxy endpoint configured (haproxy.endpoints)");
        }

        var controlOptions = new HaproxyControlOptions { Timeout = options.Haproxy.Timeout, ConnectTimeout = options.Haproxy.Timeout };
        List<IHaproxyControl> instances = [.. options.Haproxy.Endpoints.Select(e => HaproxyControl.Create(e, controlOptions))];
        return instances.Count == 1 ? instances[0] : HaproxyControl.FanOut(instances);
    }

    private static T Own<T>(T disposable, List<IAsyncDisposable> owned)
        where T : class
    {
        owned.Add(disposable as IAsyncDisposable ?? new SyncDisposable((IDisposable)disposable));
        return disposable;
    }

    private sealed class SyncDisposable(IDisposable disposable) : IAsyncDisposable
    {
        public ValueTask DisposeAsync()
        {
            disposable.Dispose();
            return ValueTask.CompletedTask;
        }
    }
}

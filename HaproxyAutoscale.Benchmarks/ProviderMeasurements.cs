using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using HaproxyAutoscale.Configuration;
using HaproxyAutoscale.Hosting;
using HaproxyAutoscale.Lab;
using HaproxyAutoscale.Logs;
using HaproxyAutoscale.Providers;
using HaproxyAutoscale.Scaling;
using Microsoft.Extensions.Logging;

namespace HaproxyAutoscale.Benchmarks;

/// <summary>
/// What starting capacity through a provider adds to a scale-up, against a real HAProxy: from the decision (event 2)
/// to the action's completion (event 4, after <c>state ready</c> was answered), minus the provider's start call
/// (event 31), i.e. the autoscaler's own steps around an app that starts instantly. Two shapes: a configured server
/// (start, weight, ready) and a pool server (start, <c>add server</c>, <c>enable health</c>, weight, ready).
/// </summary>
public static class ProviderMeasurements
{
    public static async Task RunAsync(int trials)
    {
        foreach (bool pool in new[] { false, true })
        {
            var overhead = new List<double>();
            var total = new List<double>();
            var start = new List<double>();
            for (int trial = 0; trial < trials; trial++)
            {
                (double decisionToEnabled, double startCall) = await TrialAsync(pool);
                total.Add(decisionToEnabled);
                start.Add(startCall);
                overhead.Add(decisionToEnabled - startCall);
            }

            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{(pool ? "pool server (exec start prints ADDRESS:PORT; add server, enable health, weight, ready)" : "configured server (exec start; weight, ready)")}, {trials} trials: " +
                $"decision -> enabled {Summary(total)}; of which the exec start call (fork+exec of the start command) {Summary(start)}; without the start call {Summary(overhead)}"));
        }
    }

    private static string Summary(List<double> samples)
    {
        double[] sorted = [.. samples.Order()];
        return string.Create(CultureInfo.InvariantCulture, $"median {sorted[sorted.Length / 2]:0.00} ms, p90 {sorted[(int)(sorted.Length * 0.9)]:0.00} ms, max {sorted[^1]:0.00} ms");
    }

    private static async Task<(double DecisionToEnabled, double StartCall)> TrialAsync(bool pool)
    {
        await using Haproxy haproxy = await Haproxy.StartAsync(DaemonMeasurements.TwoServers());
        var options = new AutoscaleOptions { EvaluationInterval = TimeSpan.FromMilliseconds(1), ReconcileInterval = TimeSpan.FromHours(1) };
        options.Haproxy.Endpoints.Add(haproxy.ReadySocket!);
        var backend = new BackendOptions { Name = "app", Policy = { Kind = "threshold" }, SettleTime = TimeSpan.Zero };
        backend.Window.Size = 1;
        backend.Policy.Settings["thresholdMs"] = "100";
        backend.Policy.Settings["breaches"] = "1";
        backend.Policy.Settings["idleScaleDown"] = "1h";
        backend.MaxActive = 2;
        backend.Servers.Add(new ServerOptions { Name = "s1", AlwaysUp = true });
        var provider = new ServerProviderOptions { Kind = "exec", KeepWarm = TimeSpan.FromHours(1) };
        if (pool)
        {
            backend.Pool = new ServerPoolOptions { Max = 1, ServerOptions = "check inter 1h", WarmupPath = null };
            provider.Lists["start"] = ["echo", "127.0.0.1:3"];
        }
        else
        {
            backend.Servers.Add(new ServerOptions { Name = "s2" });
            provider.Lists["start"] = ["true"];
        }

        provider.Lists["stop"] = ["true"];
        provider.Lists["status"] = ["bash", "-c", "exit 3"]; // stopped: the scale-up starts it

        backend.Provider = provider;
        options.Backends.Add(backend);
        var events = new EventTimes();
        using var loggers = LoggerFactory.Create(b => b.AddProvider(events));
        await using ILogSource source = LogSources.FromDatagrams(new IPEndPoint(IPAddress.Loopback, 0));
        var endPoint = (IPEndPoint)((DatagramLogSource)source).LocalEndPoint;
        await using Autoscaler autoscaler = new AutoscalerBuilder(options).UseLogSource(source).UseLoggerFactory(loggers).Build();
        using var stop = new CancellationTokenSource();
        Task running = autoscaler.RunAsync(stop.Token);
        string target = pool ? "auto1" : "s2";
        while (autoscaler.Snapshot()[0].Servers.Single(s => s.Name == target).Lifecycle != ServerLifecycleState.Stopped)
        {
            await Task.Delay(5);
        }

        await Task.Delay(100); // past start-up
        using var sender = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        sender.SendTo(Encoding.ASCII.GetBytes($"<134>Nov 26 15:00:00 haproxy[1]: 127.0.0.1:1 [{DateTime.Now:dd/MMM/yyyy:HH:mm:ss.fff}] fe app/s1 0/0/0/900/900 200 1 - - ---- 1/1/0/0/0 0/0 \"GET / HTTP/1.1\""), endPoint);
        var deadline = Stopwatch.StartNew();
        while (!events.Times.ContainsKey(AutoscaleEventIds.ActionCompleted) && deadline.Elapsed < TimeSpan.FromSeconds(30))
        {
            await Task.Delay(1);
        }

        await stop.CancelAsync();
        await running;
        if (!events.Times.TryGetValue(AutoscaleEventIds.ActionCompleted, out long completed) || !events.Times.TryGetValue(AutoscaleEventIds.Decision, out long decided))
        {
            throw new InvalidOperationException("no scale-up was completed: " + string.Join(" | ", events.Messages));
        }

        return (Stopwatch.GetElapsedTime(decided, completed).TotalMilliseconds, events.StartCallMs);
    }

    // The first time of each event id, and the start call's duration as event 31 reports it (whole ms).
    private sealed class EventTimes : ILoggerProvider, ILogger
    {
        public ConcurrentDictionary<int, long> Times { get; } = new();

        public ConcurrentQueue<string> Messages { get; } = new();

        public double StartCallMs { get; private set; }

        public ILogger CreateLogger(string categoryName) => this;

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            long now = Stopwatch.GetTimestamp();
            Times.TryAdd(eventId.Id, now);
            if (eventId.Id == AutoscaleEventIds.ServerStarted && state is IReadOnlyList<KeyValuePair<string, object?>> fields)
            {
                StartCallMs = Convert.ToDouble(fields.First(f => f.Key == "DurationMs").Value, CultureInfo.InvariantCulture);
            }

            Messages.Enqueue(formatter(state, exception));
        }

        public void Dispose()
        {
        }
    }
}

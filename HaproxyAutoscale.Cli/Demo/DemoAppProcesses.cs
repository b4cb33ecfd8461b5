using System.Collections.Concurrent;
using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using HaproxyAutoscale.Providers;

namespace HaproxyAutoscale.Cli.Demo;

/// <summary>
/// The demo's server provider: starting a server runs this CLI again as a child process (<c>demo-app --name s2
/// --port N</c>, see <see cref="DemoAppCommand"/>) and returns once it listens; stopping it closes the child's
/// standard input (the app prints what it served and exits), killing it by its PID if it does not exit within
/// <see cref="ExitGrace"/>. Registered as <c>demo</c>, the way an embedder plugs in its own provider; a real deployment
/// uses <c>exec</c> (systemctl, docker…). Every process it started is stopped on dispose; each one's lifetime (from
/// its start to its observed exit) is kept for the summary's app-process-seconds.
/// </summary>
internal sealed class DemoAppProcesses(IReadOnlyList<string> self, Func<string, IEnumerable<string>> arguments) : IServerProvider, IAsyncDisposable
{
    private static readonly TimeSpan ExitGrace = TimeSpan.FromSeconds(5);
    private readonly ConcurrentDictionary<string, AppProcess> _running = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<EndedApp> _ended = new();
    private readonly SemaphoreSlim _gate = new(1, 1);

    /// <summary>The app processes running now, by server name.</summary>
    public IReadOnlyList<(string Server, int Pid)> Running => [.. _running.OrderBy(r => r.Key, StringComparer.Ordinal).Select(r => (r.Key, r.Value.Process.Id))];

    /// <summary>Every app process that ended, in the order they ended.</summary>
    public IReadOnlyCollection<EndedApp> Ended => _ended;

    /// <summary>The time app processes ran, summed over processes (the running ones up to now).</summary>
    public TimeSpan RunningTime => _ended.Aggregate(TimeSpan.Zero, (sum, e) => sum + e.Lifetime)
        + _running.Values.Aggregate(TimeSpan.Zero, (sum, r) => sum + Stopwatch.GetElapsedTime(r.Started));

    public async Task<ServerStartResult> StartAsync(ServerProviderTarget target, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (!_running.ContainsKey(target.Server))
            {
                _running[target.Server] = await LaunchAsync(target, cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            _gate.Release();
        }

        return new ServerStartResult(null); // the port haproxy.cfg names
    }

    public async Task StopAsync(ServerProviderTarget target, CancellationToken cancellationToken)
    {
        if (_running.TryRemove(target.Server, out AppProcess? app))
        {
            await EndAsync(target.Server, app).ConfigureAwait(false);
        }
    }

    public Task<ServerRunState> GetStatusAsync(ServerProviderTarget target, CancellationToken cancellationToken) =>
        Task.FromResult(_running.TryGetValue(target.Server, out AppProcess? app) && !app.Process.HasExited ? ServerRunState.Running : ServerRunState.Stopped);

    /// <summary>Stops every app process still running (the demo's end, normal or not).</summary>
    public async ValueTask DisposeAsync()
    {
        foreach (string server in _running.Keys)
        {
            await StopAsync(new ServerProviderTarget("app", server), CancellationToken.None).ConfigureAwait(false);
        }
    }

    private async Task<AppProcess> LaunchAsync(ServerProviderTarget target, CancellationToken cancellationToken)
    {
        var info = new ProcessStartInfo(self[0])
        {
            UseShellExecute = false,
            RedirectStandardInput = true, // kept open while the app runs: its end is the app's signal to exit
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (string argument in self.Skip(1).Append(DemoAppCommand.Name).Concat(arguments(target.Server)))
        {
            info.ArgumentList.Add(argument);
        }

        Process process;
        try
        {
            process = Process.Start(info)!;
        }
        catch (Win32Exception e)
        {
            throw new ServerProviderException(ServerProviderErrorKind.NotFound, target, "start", $"cannot run '{info.FileName}': {e.Message}", e);
        }

        var app = new AppProcess(process, Stopwatch.GetTimestamp(), process.StandardError.ReadToEndAsync(CancellationToken.None));
        string? ready = null;
        try
        {
            ready = await process.StandardOutput.ReadLineAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        if (ready is null || !ready.StartsWith("listening ", StringComparison.Ordinal))
        {
            await EndAsync(target.Server, app).ConfigureAwait(false);
            string errors = (await app.Errors.ConfigureAwait(false)).Trim().Replace('\n', '|');
            throw new ServerProviderException(cancellationToken.IsCancellationRequested ? ServerProviderErrorKind.Timeout : ServerProviderErrorKind.Failed, target, "start",
                string.Create(CultureInfo.InvariantCulture, $"app process {process.Id} did not start listening: {(errors.Length > 0 ? errors : ready ?? "it exited")}"));
        }

        app.Report = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
        return app;
    }

    // Closes the app's standard input (it exits on its own), kills it by its PID past the grace, reaps it.
    private async Task EndAsync(string server, AppProcess app)
    {
        Process process = app.Process;
        try
        {
            process.StandardInput.Close();
        }
        catch (IOException)
        {
            // it already exited
        }

        using (var grace = new CancellationTokenSource(ExitGrace))
        {
            try
            {
                await process.WaitForExitAsync(grace.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
            }
        }

        TimeSpan lifetime = Stopwatch.GetElapsedTime(app.Started);
        string report = app.Report is null ? "" : await app.Report.ConfigureAwait(false);
        _ended.Enqueue(new EndedApp(server, process.Id, lifetime, Served.Parse(report)));
        process.Dispose();
    }

    private sealed class AppProcess(Process process, long started, Task<string> errors)
    {
        public Process Process { get; } = process;

        public long Started { get; } = started;

        public Task<string> Errors { get; } = errors;

        /// <summary>What the app prints after it listens: its report when it exits.</summary>
        public Task<string>? Report { get; set; }
    }
}

/// <summary>An app process that ended: its server, PID, lifetime and what it served.</summary>
internal sealed record EndedApp(string Server, int Pid, TimeSpan Lifetime, Served? Served);

/// <summary>What an app process served: requests (warm-ups excluded), cold starts paid by users, and absorbed by warm-ups.</summary>
internal sealed record Served(int Requests, int ColdUsers, int ColdWarmups)
{
    /// <summary>Reads the app's last line, <c>served N cold-users N cold-warmups N</c>; null when it did not report (killed).</summary>
    public static Served? Parse(string report) =>
        report.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault()?.Split(' ') is ["served", var n, "cold-users", var u, "cold-warmups", var w]
            ? new Served(int.Parse(n, CultureInfo.InvariantCulture), int.Parse(u, CultureInfo.InvariantCulture), int.Parse(w, CultureInfo.InvariantCulture))
            : null;
}

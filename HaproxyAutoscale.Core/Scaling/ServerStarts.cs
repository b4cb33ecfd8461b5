using System.Globalization;
using HaproxyAutoscale.Configuration;
using HaproxyAutoscale.Control;
using HaproxyAutoscale.Providers;
using Microsoft.Extensions.Logging;

namespace HaproxyAutoscale.Scaling;

/// <summary>
/// Adds capacity for a scale-up through the backend's provider: starts a stopped server before its warm-up (a pool
/// server gets its address), adds a pool server to HAProxy, and undoes a start when a later step of the scale-up
/// fails. Enabling the server is the <see cref="Actuator"/>'s.
/// </summary>
internal sealed class ServerStarts(IReadOnlyList<IHaproxyControl> instances, ProviderCalls provider, ActionServices services)
{
    private readonly ActionServices _services = services;
    private readonly ProviderCalls _provider = provider;

    // Starts a stopped server (claimed as Starting); returns the address it listens on (null: a configured server
    // whose address is haproxy.cfg's).
    public async Task<string?> StartIfStoppedAsync(ScaledBackend backend, string server, StartProgress progress, CancellationToken cancellationToken)
    {
        bool slot = PoolSlots.IsSlot(backend.Options, server);
        lock (backend.Gate)
        {
            if (backend.Servers.StateOf(server) != ServerLifecycleState.Starting)
            {
                return backend.Servers.AddressOf(server);
            }
        }

        if (backend.Provider is null)
        {
            throw new InvalidOperationException($"{backend.Name}/{server} is stopped but the backend has no provider");
        }

        long started = progress.StartedAt = _services.Time.GetTimestamp();
        progress.StartAttempted = true;
        string? address = await _provider.WithDeadlineAsync(backend, server, "start", async (p, t) =>
        {
            ServerStartResult result = await p.StartAsync(new ServerProviderTarget(backend.Name, server), t).ConfigureAwait(false);
            progress.Started = true;
            return AddressOf(result, new ServerProviderTarget(backend.Name, server), slot);
        }, cancellationToken).ConfigureAwait(false);

        lock (backend.Gate)
        {
            backend.Servers.Set(server, ServerLifecycleState.Warming);
            if (slot)
            {
                backend.Servers.SetAddress(server, address);
            }
        }

        Log.ServerStarted(_services.Logger, backend.Name, server, backend.Options.Provider!.Kind, (long)_services.Time.GetElapsedTime(started).TotalMilliseconds, address ?? "from haproxy.cfg");
        return address;
    }

    // The address a start printed, checked (a bad one fails the start, as a provider's failure).
    private static string? AddressOf(ServerStartResult? result, ServerProviderTarget target, bool slot)
    {
        string? address = result?.Address;
        if (address is not null && !ServerAddress.TryParse(address, out _, out _))
        {
            throw new ServerProviderException(ServerProviderErrorKind.InvalidOutput, target, "start", $"'{address}' is not ADDRESS:PORT");
        }

        if (slot && address is null)
        {
            throw new ServerProviderException(ServerProviderErrorKind.InvalidOutput, target, "start",
                "a pool server's start must print the ADDRESS:PORT it listens on (last line of its output)");
        }

        return address;
    }

    public static Uri? PoolWarmupUrl(BackendOptions backend, string server, string? address) =>
        address is not null && PoolSlots.IsSlot(backend, server) && backend.Pool!.WarmupPath is { } path && ServerAddress.TryParse(address, out string host, out int port)
            ? new Uri(string.Create(CultureInfo.InvariantCulture, $"http://{(host.Contains(':', StringComparison.Ordinal) ? $"[{host}]" : host)}:{port}{path}"))
            : null;

    // A pool server just started goes into HAProxy (in maintenance) on every instance, its health checks on.
    public async Task AddIfStartedAsync(ScaledBackend backend, string server, string? address, StartProgress progress, CancellationToken cancellationToken)
    {
        if (!progress.Started || !PoolSlots.IsSlot(backend.Options, server) || address is null)
        {
            return;
        }

        progress.Added = true;
        await ProviderCalls.AddServerAsync(instances, backend.Options, server, address, cancellationToken).ConfigureAwait(false);
        Log.ServerAdded(_services.Logger, backend.Name, server, address, "started");
    }

    // After a failed scale-up that tried a start: delete what was added, stop what may run. Returns the lifecycle the
    // server is left in: stopped, or parked (may run; stopped again after the back-off) when the stop failed too.
    public async Task<ServerLifecycleState?> UndoStartAsync(ScaledBackend backend, string server, StartProgress progress)
    {
        if (!progress.StartAttempted)
        {
            return null;
        }

        try
        {
            if (progress.Added)
            {
                await _provider.DeleteServerAsync(backend, server, CancellationToken.None).ConfigureAwait(false);
            }

            lock (backend.Gate)
            {
                backend.Servers.SetAddress(server, null); // out of HAProxy: nothing to add again after a reload
            }

            await _provider.WithDeadlineAsync(backend, server, "stop", async (p, t) =>
            {
                await p.StopAsync(new ServerProviderTarget(backend.Name, server), t).ConfigureAwait(false);
                return true;
            }, CancellationToken.None).ConfigureAwait(false);
            lock (backend.Gate)
            {
                backend.Servers.SetAddress(server, null);
            }

            Log.ServerStopped(_services.Logger, LogLevel.Information, backend.Name, server, backend.Options.Provider!.Kind, 0, "its scale-up failed");
            return ServerLifecycleState.Stopped;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            Log.ProviderFailed(_services.Logger, backend.Name, server, "stop after a failed scale-up", ProviderCalls.Describe(e));
            return ServerLifecycleState.Parked;
        }
    }
}

/// <summary>What a scale-up did so far, for undoing it when a later step fails.</summary>
internal sealed class StartProgress
{
    public bool StartAttempted { get; set; }

    public bool Started { get; set; }

    /// <summary>When the provider was asked to start the server (a <see cref="TimeProvider"/> timestamp).</summary>
    public long StartedAt { get; set; }

    public bool Added { get; set; }
}

using Microsoft.Extensions.Logging;

namespace HaproxyAutoscale.Providers;

/// <summary>
/// Dry run as a provider: <c>status</c> is asked for real (it only reads); <c>start</c> and <c>stop</c> are logged
/// ("dry run, not run") and reported as done, so the engine runs the same steps as for real. A pool server's start
/// gives no address in a dry run, so its scale-up stops there.
/// </summary>
internal sealed partial class DryRunServerProvider(IServerProvider inner, ILogger logger) : IServerProvider
{
    public Task<ServerRunState> GetStatusAsync(ServerProviderTarget target, CancellationToken cancellationToken) => inner.GetStatusAsync(target, cancellationToken);

    public Task<ServerStartResult> StartAsync(ServerProviderTarget target, CancellationToken cancellationToken)
    {
        NotRun(logger, target.Backend, target.Server, "start");
        return Task.FromResult(new ServerStartResult(null));
    }

    public Task StopAsync(ServerProviderTarget target, CancellationToken cancellationToken)
    {
        NotRun(logger, target.Backend, target.Server, "stop");
        return Task.CompletedTask;
    }

    [LoggerMessage(Scaling.AutoscaleEventIds.DryRun, LogLevel.Information, "{Backend}/{Server}: dry run, the provider's {Operation} was not run")]
    private static partial void NotRun(ILogger logger, string backend, string server, string operation);
}

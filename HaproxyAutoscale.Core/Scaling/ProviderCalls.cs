using HaproxyAutoscale.Configuration;
using HaproxyAutoscale.Control;
using HaproxyAutoscale.Providers;

namespace HaproxyAutoscale.Scaling;

/// <summary>
/// The calls capacity changes are made of: a provider call under the provider's deadline (a custom provider's other
/// exceptions contained as failures), and a pool server's <c>add server</c>/<c>del server</c> on every instance.
/// </summary>
internal sealed class ProviderCalls(IReadOnlyList<IHaproxyControl> instances, ActionServices services)
{
    private readonly ActionServices _services = services;

    // A provider call under the provider's deadline; a custom provider's other exceptions are contained as failures.
    // Every failure is counted (provider_failures, by operation) but a standby's refusal: no call was made.
    public async Task<T> WithDeadlineAsync<T>(ScaledBackend backend, string server, string operation, Func<IServerProvider, CancellationToken, Task<T>> call, CancellationToken cancellationToken)
    {
        try
        {
            return await CallAsync(backend, server, call, cancellationToken).ConfigureAwait(false);
        }
        catch (ServerProviderException e) when (e.Kind != ServerProviderErrorKind.NotLeader)
        {
            _services.Metrics.ProviderFailures.Add(1, AutoscaleMetrics.OperationTags(backend.Name, operation));
            throw;
        }
    }

    private async Task<T> CallAsync<T>(ScaledBackend backend, string server, Func<IServerProvider, CancellationToken, Task<T>> call, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(backend.Options.Provider!.Timeout);
        try
        {
            return await call(backend.Provider!, deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new ServerProviderException(ServerProviderErrorKind.Timeout, new ServerProviderTarget(backend.Name, server), "provider call",
                $"no answer within {Durations.Format(backend.Options.Provider.Timeout)}");
        }
        catch (Exception e) when (e is not (ServerProviderException or HaproxyControlException or OperationCanceledException or OutOfMemoryException))
        {
            // A custom provider broke its contract (only ServerProviderException is expected): contain it as a failure.
            throw new ServerProviderException(ServerProviderErrorKind.Failed, new ServerProviderTarget(backend.Name, server), "provider call", _services.Contained(backend.Name, server, "provider", e), e);
        }
    }

    // del server on every instance: needs maintenance and no connection; an instance that lacks it is fine.
    public async Task DeleteServerAsync(ScaledBackend backend, string server, CancellationToken cancellationToken)
    {
        foreach (IHaproxyControl instance in instances)
        {
            try
            {
                await instance.RemoveServerAsync(backend.Name, server, cancellationToken: cancellationToken).ConfigureAwait(false);
            }
            catch (HaproxyControlException e) when (e.Kind == HaproxyErrorKind.UnknownServer)
            {
                // not (or no longer) in this instance
            }
        }

        Log.ServerDeleted(_services.Logger, backend.Name, server);
    }

    /// <summary><c>add server</c> (and <c>enable health</c> with <c>check</c>) on every instance; one that already has it is left as it is.</summary>
    public static async Task AddServerAsync(IReadOnlyList<IHaproxyControl> instances, BackendOptions backend, string server, string address, CancellationToken cancellationToken)
    {
        ServerAddress.TryParse(address, out string host, out int port);
        string keywords = backend.Pool!.ServerOptions ?? "";
        bool check = keywords.Split(' ', StringSplitOptions.RemoveEmptyEntries).Contains("check", StringComparer.Ordinal);
        foreach (IHaproxyControl instance in instances)
        {
            try
            {
                await instance.AddServerAsync(backend.Name, server, host, port, keywords, cancellationToken).ConfigureAwait(false);
            }
            catch (HaproxyControlException e) when (e.Answer.StartsWith("Already exists", StringComparison.Ordinal))
            {
                // added before (a retried action, a second pass): the same slot
            }

            if (check)
            {
                await instance.EnableHealthAsync(backend.Name, server, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    public static string Describe(Exception e) => e is ServerProviderException or HaproxyControlException ? e.Message : $"{e.GetType().Name}: {e.Message}";
}

using System.Globalization;

namespace HaproxyAutoscale.Control;

/// <summary>
/// Typed Runtime API commands for servers added at run time (HAProxy 2.4+): <c>add server</c>, <c>del server</c>,
/// <c>enable health</c>. They go through <see cref="IHaproxyControl.ExecuteAsync"/> like every typed command, so the
/// socket control, the fan-out (every instance) and the dry run (not sent) all carry them.
/// </summary>
public static class HaproxyDynamicServerExtensions
{
    /// <summary>
    /// <c>add server b/s HOST:PORT keywords</c>. The new server starts in maintenance and does not inherit
    /// <c>default-server</c>: <paramref name="keywords"/> say everything it needs (<c>check inter 2s weight 10</c>).
    /// HAProxy refuses it when the backend uses a static load-balancing algorithm or the name is taken.
    /// </summary>
    public static Task AddServerAsync(this IHaproxyControl control, string backend, string server, string host, int port, string keywords = "", CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(control);
        string name = HaproxyControlExtensions.ServerName(control, backend, server);
        string address = host.Contains(':', StringComparison.Ordinal) ? $"[{host}]" : host;
        string command = string.Create(CultureInfo.InvariantCulture, $"add server {name} {address}:{port}") + (string.IsNullOrWhiteSpace(keywords) ? "" : " " + keywords.Trim());
        if (port is < 1 or > 65535 || host.Length == 0 || host.AsSpan().ContainsAny(" \t;#\r\n") || keywords.AsSpan().ContainsAny(";#\r\n"))
        {
            throw new HaproxyControlException(HaproxyErrorKind.InvalidArgument, control.Endpoint, command, "an address is HOST:PORT and keywords are one line without ';' or '#' (nothing was sent)");
        }

        return control.ExecuteAsync(command, cancellationToken);
    }

    /// <summary>
    /// <c>del server b/s</c>: removes a server; HAProxy accepts it only in maintenance with no connection left
    /// (<c>Only servers in maintenance mode can be deleted.</c>, <c>Server still has connections attached to it, cannot remove it.</c>).
    /// </summary>
    public static Task DeleteServerAsync(this IHaproxyControl control, string backend, string server, CancellationToken cancellationToken = default) =>
        control.ExecuteAsync($"del server {HaproxyControlExtensions.ServerName(control, backend, server)}", cancellationToken);

    /// <summary>
    /// Takes a server out of HAProxy: <c>set server b/s state maint</c>, then <c>del server b/s</c>. On HAProxy 3.0+
    /// (<c>show info</c>) <c>wait DELAY srv-removable b/s</c> comes between them, so connections still finishing get up
    /// to <paramref name="wait"/> (default 1 s; keep it below the control's timeout) instead of a refused
    /// <c>del server</c>. The <c>wait</c>'s own failure is not reported: <c>del server</c> then says why.
    /// </summary>
    internal static async Task RemoveServerAsync(this IHaproxyControl control, string backend, string server, TimeSpan? wait = null, CancellationToken cancellationToken = default)
    {
        string name = HaproxyControlExtensions.ServerName(control, backend, server);
        HaproxyInfo info = await control.ShowInfoAsync(cancellationToken).ConfigureAwait(false);
        await control.SetServerStateAsync(backend, server, ServerAdminState.Maint, cancellationToken).ConfigureAwait(false);
        if (HaproxyVersions.Has(info, HaproxyVersions.WaitServerRemovable))
        {
            long milliseconds = (long)Math.Max(1, (wait ?? TimeSpan.FromSeconds(1)).TotalMilliseconds);
            try
            {
                await control.ExecuteAsync(string.Create(CultureInfo.InvariantCulture, $"wait {milliseconds} srv-removable {name}"), cancellationToken).ConfigureAwait(false);
            }
            catch (HaproxyControlException e) when (e.Kind is not (HaproxyErrorKind.ConnectionFailed or HaproxyErrorKind.Timeout))
            {
                // "Wait delay expired." or a condition that cannot be met: del server below names it.
            }
        }

        await control.DeleteServerAsync(backend, server, cancellationToken).ConfigureAwait(false);
    }

    /// <summary><c>enable health b/s</c>: starts the health checks of a server added with <c>check</c> (HAProxy leaves them off).</summary>
    public static Task EnableHealthAsync(this IHaproxyControl control, string backend, string server, CancellationToken cancellationToken = default) =>
        control.ExecuteAsync($"enable health {HaproxyControlExtensions.ServerName(control, backend, server)}", cancellationToken);
}

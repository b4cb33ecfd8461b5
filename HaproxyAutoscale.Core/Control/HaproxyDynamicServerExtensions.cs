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

    /// <summary><c>enable health b/s</c>: starts the health checks of a server added with <c>check</c> (HAProxy leaves them off).</summary>
    public static Task EnableHealthAsync(this IHaproxyControl control, string backend, string server, CancellationToken cancellationToken = default) =>
        control.ExecuteAsync($"enable health {HaproxyControlExtensions.ServerName(control, backend, server)}", cancellationToken);
}

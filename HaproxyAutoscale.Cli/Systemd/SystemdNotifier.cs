using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace HaproxyAutoscale.Cli.Systemd;

/// <summary>
/// systemd's notification protocol (sd_notify(3)) without libsystemd: one datagram of <c>NAME=VALUE</c> lines to the
/// AF_UNIX socket systemd names in <c>NOTIFY_SOCKET</c> (a path, or an abstract name written with a leading '@').
/// </summary>
internal sealed class SystemdNotifier : IDisposable
{
    private readonly Socket _socket = new(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
    private readonly UnixDomainSocketEndPoint _endPoint;

    private SystemdNotifier(string address, TimeSpan? watchdog)
    {
        Address = address;
        Watchdog = watchdog;
        _endPoint = new UnixDomainSocketEndPoint(address[0] == '@' ? "\0" + address[1..] : address);
    }

    /// <summary>The variables systemd sets for the protocol; a daemon unsets them so that its child processes do not notify in its name.</summary>
    public static readonly string[] Variables = ["NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"];

    /// <summary>The socket, as <c>NOTIFY_SOCKET</c> names it.</summary>
    public string Address { get; }

    /// <summary>The watchdog timeout systemd set for this process (<c>WatchdogSec=</c>), null without one.</summary>
    public TimeSpan? Watchdog { get; }

    /// <summary>
    /// The notifier <paramref name="variable"/> describes; null without <c>NOTIFY_SOCKET</c> (not started by systemd as
    /// <c>Type=notify</c>). The watchdog is this process's when <c>WATCHDOG_USEC</c> is a positive number of
    /// microseconds and <c>WATCHDOG_PID</c>, if set, is <paramref name="processId"/> (as sd_watchdog_enabled(3) reads them).
    /// </summary>
    public static SystemdNotifier? FromEnvironment(Func<string, string?> variable, int processId)
    {
        string? address = variable("NOTIFY_SOCKET");
        if (string.IsNullOrEmpty(address) || address is "@")
        {
            return null;
        }

        bool forThisProcess = variable("WATCHDOG_PID") is not { Length: > 0 } pid
            || (int.TryParse(pid, NumberStyles.None, CultureInfo.InvariantCulture, out int watched) && watched == processId);
        TimeSpan? watchdog = forThisProcess && ulong.TryParse(variable("WATCHDOG_USEC"), NumberStyles.None, CultureInfo.InvariantCulture, out ulong usec) && usec > 0
            ? TimeSpan.FromMicroseconds(usec)
            : null;
        return new SystemdNotifier(address, watchdog);
    }

    /// <summary>Sends <paramref name="state"/> (lines such as <c>READY=1</c>); returns the error if it could not be sent.</summary>
    public string? Notify(string state)
    {
        try
        {
            _socket.SendTo(Encoding.UTF8.GetBytes(state), SocketFlags.None, _endPoint);
            return null;
        }
        catch (SocketException e)
        {
            return e.Message;
        }
    }

    public void Dispose() => _socket.Dispose();
}

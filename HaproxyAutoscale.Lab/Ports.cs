using System.Net;
using System.Net.Sockets;

namespace HaproxyAutoscale.Lab;

/// <summary>
/// Free loopback ports for generated configs, taken in turn below the kernel's ephemeral range: a port the kernel
/// hands out by itself (an HAProxy's UDP log socket, a client's connection) can then never take one a test chose
/// while it is briefly unbound (a daemon killed and started again on the same log port).
/// </summary>
public static class Ports
{
    private static readonly (int First, int Count) Range = BelowEphemeral();
    private static int _next = Environment.ProcessId;

    /// <summary>A TCP port on 127.0.0.1 that was free a moment ago.</summary>
    public static int FreeTcp() => Take(port =>
    {
        using var listener = new TcpListener(IPAddress.Loopback, port);
        listener.Start();
    });

    /// <summary>A UDP port on 127.0.0.1 that was free a moment ago.</summary>
    public static int FreeUdp() => Take(port =>
    {
        using var socket = new UdpClient(new IPEndPoint(IPAddress.Loopback, port));
    });

    private static int Take(Action<int> bind)
    {
        for (int attempt = 0; attempt < Range.Count; attempt++)
        {
            int port = Range.First + (int)((uint)Interlocked.Increment(ref _next) % (uint)Range.Count);
            try
            {
                bind(port);
                return port;
            }
            catch (SocketException)
            {
                // In use (or lingering): the next one.
            }
        }

        throw new InvalidOperationException($"no free loopback port in {Range.First}..{Range.First + Range.Count - 1}");
    }

    // From 10000 to just below the first ephemeral port (Linux: /proc/sys/net/ipv4/ip_local_port_range, 32768 by default).
    private static (int First, int Count) BelowEphemeral()
    {
        int ephemeral = 32768;
        try
        {
            string[] range = File.ReadAllText("/proc/sys/net/ipv4/ip_local_port_range").Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (range.Length > 0 && int.TryParse(range[0], System.Globalization.CultureInfo.InvariantCulture, out int first) && first > 12000)
            {
                ephemeral = first;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Not Linux: the default.
        }

        return (10000, ephemeral - 10000);
    }
}

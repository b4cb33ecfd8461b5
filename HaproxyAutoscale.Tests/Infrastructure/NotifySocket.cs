using System.Diagnostics;
using System.Net.Sockets;
using System.Text;

namespace HaproxyAutoscale.Tests.Infrastructure;

/// <summary>
/// systemd's side of sd_notify for tests: an AF_UNIX datagram socket bound at a path (or an abstract name written
/// with a leading '@'), keeping each notification with the time it arrived.
/// </summary>
internal sealed class NotifySocket : IDisposable
{
    private readonly Socket _socket = new(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly List<(TimeSpan At, string State)> _received = [];
    private readonly Task _receiving;

    public NotifySocket(string address)
    {
        Address = address;
        _socket.Bind(new UnixDomainSocketEndPoint(address[0] == '@' ? "\0" + address[1..] : address));
        _receiving = ReceiveAsync();
    }

    /// <summary>What NOTIFY_SOCKET names.</summary>
    public string Address { get; }

    /// <summary>Time since the socket was bound, on the clock of <see cref="Received"/>.</summary>
    public TimeSpan Now => _clock.Elapsed;

    /// <summary>Every notification so far, in the order it arrived.</summary>
    public IReadOnlyList<(TimeSpan At, string State)> Received
    {
        get
        {
            lock (_received)
            {
                return [.. _received];
            }
        }
    }

    public int Count(string state) => Received.Count(r => r.State == state);

    /// <summary>When <paramref name="state"/> last arrived (null: never).</summary>
    public TimeSpan? LastAt(string state) => Received.LastOrDefault(r => r.State == state) is { State: not null } last ? last.At : null;

    private async Task ReceiveAsync()
    {
        byte[] buffer = new byte[4096];
        try
        {
            while (true)
            {
                int length = await _socket.ReceiveAsync(buffer, SocketFlags.None);
                lock (_received)
                {
                    _received.Add((_clock.Elapsed, Encoding.UTF8.GetString(buffer, 0, length)));
                }
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or OperationCanceledException)
        {
            // disposed
        }
    }

    public void Dispose()
    {
        _socket.Dispose();
        _receiving.GetAwaiter().GetResult();
    }
}

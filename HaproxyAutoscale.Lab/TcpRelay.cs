using System.Net;
using System.Net.Sockets;

namespace HaproxyAutoscale.Lab;

/// <summary>
/// A TCP relay on a loopback port to a stats socket (a UNIX path or 127.0.0.1:port): each connection accepted is
/// piped to a new connection to the target. <see cref="Close"/> makes the socket unreachable the way a dead host or
/// a full firewall does for a client (the port refuses, open connections are reset); <see cref="Open"/> listens again
/// on the same port. Between a syslog sender and a TCP log source it can count the octet-counted frames it passes on
/// (<see cref="Frames"/>); a sender's reset reaches the target as an orderly close after what was read before it.
/// </summary>
public sealed class TcpRelay : IDisposable
{
    private readonly EndPoint _target;
    private readonly Lock _lock = new();
    private readonly List<Socket> _open = [];
    private Socket? _listener;
    private readonly bool _countFrames;
    private long _accepted;
    private long _frames;

    /// <summary>
    /// Relays 127.0.0.1:<see cref="Port"/> to <paramref name="target"/> (UNIX path, or <c>ipv4@127.0.0.1:port</c>); with
    /// <paramref name="countFrames"/>, counts the octet-counted syslog frames sent to the target.
    /// </summary>
    public TcpRelay(string target, bool countFrames = false)
    {
        ArgumentNullException.ThrowIfNull(target);
        _target = target.StartsWith("ipv4@", StringComparison.Ordinal) ? IPEndPoint.Parse(target["ipv4@".Length..]) : new UnixDomainSocketEndPoint(target);
        _countFrames = countFrames;
        Open();
    }

    public int Port { get; private set; }

    /// <summary>The relay as a stats socket address (<c>ipv4@127.0.0.1:port</c>).</summary>
    public string Address => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"ipv4@127.0.0.1:{Port}");

    /// <summary>Connections accepted so far.</summary>
    public long Accepted => Interlocked.Read(ref _accepted);

    /// <summary>Octet-counted frames passed on to the target, whole (when counting).</summary>
    public long Frames => Interlocked.Read(ref _frames);

    /// <summary>Listens (again, on the same port).</summary>
    public void Open()
    {
        lock (_lock)
        {
            if (_listener is not null)
            {
                return;
            }

            var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            listener.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            listener.Bind(new IPEndPoint(IPAddress.Loopback, Port));
            listener.Listen(64);
            Port = ((IPEndPoint)listener.LocalEndPoint!).Port;
            _listener = listener;
            _ = Task.Run(() => AcceptAsync(listener));
        }
    }

    /// <summary>Stops listening and resets every open connection: the socket is unreachable until <see cref="Open"/>.</summary>
    public void Close()
    {
        lock (_lock)
        {
            _listener?.Dispose();
            _listener = null;
            foreach (Socket socket in _open)
            {
                socket.LingerState = new LingerOption(true, 0); // a reset, not an orderly close
                socket.Dispose();
            }

            _open.Clear();
        }
    }

    public void Dispose() => Close();

    private async Task AcceptAsync(Socket listener)
    {
        while (true)
        {
            Socket client;
            try
            {
                client = await listener.AcceptAsync().ConfigureAwait(false);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                return; // closed
            }

            Interlocked.Increment(ref _accepted);
            _ = Task.Run(() => PipeAsync(client));
        }
    }

    private async Task PipeAsync(Socket client)
    {
        using var server = new Socket(_target.AddressFamily, SocketType.Stream, _target is UnixDomainSocketEndPoint ? ProtocolType.Unspecified : ProtocolType.Tcp);
        using (client)
        {
            if (!Track(client, server))
            {
                return;
            }

            try
            {
                await server.ConnectAsync(_target).ConfigureAwait(false);
                await Task.WhenAll(CopyAsync(client, server, _countFrames ? new FrameCounter(this) : null), CopyAsync(server, client, null)).ConfigureAwait(false);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                // the target or the client went away, or the relay was closed
            }
            finally
            {
                lock (_lock)
                {
                    _open.Remove(client);
                    _open.Remove(server);
                }
            }
        }
    }

    // Registers a connection pair, unless the relay was closed meanwhile.
    private bool Track(Socket client, Socket server)
    {
        lock (_lock)
        {
            if (_listener is null)
            {
                return false;
            }

            _open.Add(client);
            _open.Add(server);
            return true;
        }
    }

    private static async Task CopyAsync(Socket from, Socket to, FrameCounter? counter)
    {
        byte[] buffer = new byte[16 * 1024];
        try
        {
            int read;
            while ((read = await from.ReceiveAsync(buffer, SocketFlags.None).ConfigureAwait(false)) > 0)
            {
                await to.SendAsync(buffer.AsMemory(0, read), SocketFlags.None).ConfigureAwait(false);
                counter?.Count(buffer.AsSpan(0, read));
            }

            to.Shutdown(SocketShutdown.Send); // pass the half-close on (HAProxy answers, then closes)
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset)
        {
            // The sender reset: everything read before it is delivered (an orderly close, not a reset that would
            // discard what the kernel still holds), so what the relay counted is what the target can read.
            to.Shutdown(SocketShutdown.Send);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // closed by the relay
        }
    }

    // Counts "LEN SP MSG" frames across reads.
    private sealed class FrameCounter(TcpRelay relay)
    {
        private int _length;
        private int _remaining;
        private bool _inFrame;

        public void Count(ReadOnlySpan<byte> data)
        {
            int i = 0;
            while (i < data.Length)
            {
                if (_inFrame)
                {
                    int skip = Math.Min(_remaining, data.Length - i);
                    _remaining -= skip;
                    i += skip;
                    if (_remaining == 0)
                    {
                        _inFrame = false;
                        Interlocked.Increment(ref relay._frames);
                    }

                    continue;
                }

                byte b = data[i++];
                if (b == (byte)' ')
                {
                    (_remaining, _length, _inFrame) = (_length, 0, _length > 0);
                }
                else if (b is >= (byte)'0' and <= (byte)'9')
                {
                    _length = (_length * 10) + (b - '0');
                }
            }
        }
    }
}

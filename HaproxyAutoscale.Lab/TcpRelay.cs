using System.Net;
using System.Net.Sockets;

namespace HaproxyAutoscale.Lab;

/// <summary>
/// A TCP relay on a loopback port to a stats socket (a UNIX path or 127.0.0.1:port): each connection accepted is
/// piped to a new connection to the target. <see cref="Close"/> makes the socket unreachable the way a dead host or
/// a full firewall does for a client (the port refuses, open connections are reset); <see cref="Open"/> listens again
/// on the same port.
/// </summary>
public sealed class TcpRelay : IDisposable
{
    private readonly EndPoint _target;
    private readonly Lock _lock = new();
    private readonly List<Socket> _open = [];
    private Socket? _listener;
    private long _accepted;

    /// <summary>Relays 127.0.0.1:<see cref="Port"/> to <paramref name="target"/> (UNIX path, or <c>ipv4@127.0.0.1:port</c>).</summary>
    public TcpRelay(string target)
    {
        ArgumentNullException.ThrowIfNull(target);
        _target = target.StartsWith("ipv4@", StringComparison.Ordinal) ? IPEndPoint.Parse(target["ipv4@".Length..]) : new UnixDomainSocketEndPoint(target);
        Open();
    }

    public int Port { get; private set; }

    /// <summary>The relay as a stats socket address (<c>ipv4@127.0.0.1:port</c>).</summary>
    public string Address => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"ipv4@127.0.0.1:{Port}");

    /// <summary>Connections accepted so far.</summary>
    public long Accepted => Interlocked.Read(ref _accepted);

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
                await Task.WhenAll(CopyAsync(client, server), CopyAsync(server, client)).ConfigureAwait(false);
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

    private static async Task CopyAsync(Socket from, Socket to)
    {
        byte[] buffer = new byte[16 * 1024];
        try
        {
            int read;
            while ((read = await from.ReceiveAsync(buffer, SocketFlags.None).ConfigureAwait(false)) > 0)
            {
                await to.SendAsync(buffer.AsMemory(0, read), SocketFlags.None).ConfigureAwait(false);
            }

            to.Shutdown(SocketShutdown.Send); // pass the half-close on (HAProxy answers, then closes)
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // reset or closed
        }
    }
}

using System.Net;
using System.Net.Sockets;

namespace HaproxyAutoscale.Lab;

/// <summary>
/// A log relay between HAProxy and the autoscaler (a stand-in for rsyslog): forwards the datagrams it receives on a
/// loopback port to a target, and can write each one as a line to a file too (<c>tee</c>). It can die
/// (<see cref="Stop"/>: the port is closed, datagrams are lost), come back on the same port (<see cref="Start"/>), and
/// drop every other datagram (<see cref="DropEveryOther"/>).
/// </summary>
public sealed class UdpRelay : IDisposable
{
    private readonly IPEndPoint _target;
    private readonly FileStream? _tee;
    private Socket? _socket;
    private Thread? _thread;
    private long _received;
    private long _lines;

    /// <summary>Relays to <paramref name="target"/>; with <paramref name="teePath"/>, also writes every datagram there as a line.</summary>
    public UdpRelay(IPEndPoint target, string? teePath = null)
    {
        _target = target;
        _tee = teePath is null ? null : new FileStream(teePath, FileMode.Create, FileAccess.Write, FileShare.Read);
        Start();
    }

    public int Port { get; private set; }

    public bool DropEveryOther { get; set; }

    /// <summary>Lines written to the tee file.</summary>
    public long Lines => Interlocked.Read(ref _lines);

    /// <summary>Starts relaying (again, on the same port).</summary>
    public void Start()
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp) { ReceiveBufferSize = 4 << 20 };
        socket.Bind(new IPEndPoint(IPAddress.Loopback, Port));
        Port = ((IPEndPoint)socket.LocalEndPoint!).Port;
        _socket = socket;
        _thread = new Thread(() => Forward(socket)) { IsBackground = true, Name = "udp-relay" };
        _thread.Start();
    }

    /// <summary>The relay dies: the port is closed and every datagram sent to it from now on is lost.</summary>
    public void Stop()
    {
        _socket?.Dispose(); // unblocks Receive
        _thread?.Join(TimeSpan.FromSeconds(5));
        _socket = null;
    }

    public void Dispose()
    {
        Stop();
        _tee?.Dispose();
    }

    private void Forward(Socket socket)
    {
        var buffer = new byte[65536];
        using var sender = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        while (true)
        {
            int length;
            try
            {
                length = socket.Receive(buffer);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                _tee?.Flush();
                return;
            }

            if (!DropEveryOther || Interlocked.Increment(ref _received) % 2 == 0)
            {
                sender.SendTo(buffer.AsSpan(0, length), SocketFlags.None, _target);
            }

            if (_tee is not null)
            {
                _tee.Write(buffer.AsSpan(0, length).TrimEnd("\r\n\0"u8));
                _tee.WriteByte((byte)'\n');
                _tee.Flush();
                Interlocked.Increment(ref _lines);
            }
        }
    }
}

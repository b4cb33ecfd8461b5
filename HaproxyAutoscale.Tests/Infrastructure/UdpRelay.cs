using System.Net;
using System.Net.Sockets;

namespace HaproxyAutoscale.Tests.Infrastructure;

/// <summary>
/// A log relay between HAProxy and the autoscaler (a stand-in for rsyslog): forwards the datagrams it receives on a
/// loopback port to a target. It can die (<see cref="Stop"/>: the port is closed, datagrams are lost), come back on
/// the same port (<see cref="Start"/>), and drop every other datagram (<see cref="DropEveryOther"/>).
/// </summary>
internal sealed class UdpRelay : IDisposable
{
    private readonly IPEndPoint _target;
    private Socket? _socket;
    private Thread? _thread;
    private long _received;

    public UdpRelay(IPEndPoint target)
    {
        _target = target;
        Start();
    }

    public int Port { get; private set; }

    public bool DropEveryOther { get; set; }

    /// <summary>Starts relaying (again, on the same port).</summary>
    public void Start()
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, Port));
        Port = ((IPEndPoint)socket.LocalEndPoint!).Port;
        _socket = socket;
        _thread = new Thread(() => Forward(socket)) { IsBackground = true, Name = "udp-relay" };
        _thread.Start();
    }

    /// <summary>The relay dies: the port is closed and every datagram sent to it from now on is lost.</summary>
    public void Stop()
    {
        _socket?.Dispose(); // unblocks ReceiveFrom
        _thread?.Join(TimeSpan.FromSeconds(5));
        _socket = null;
    }

    public void Dispose() => Stop();

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
                return;
            }

            if (!DropEveryOther || Interlocked.Increment(ref _received) % 2 == 0)
            {
                sender.SendTo(buffer.AsSpan(0, length), SocketFlags.None, _target);
            }
        }
    }
}

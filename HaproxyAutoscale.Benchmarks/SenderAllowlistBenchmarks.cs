using System.Net;
using System.Net.Sockets;
using BenchmarkDotNet.Attributes;
using HaproxyAutoscale.Logs;

namespace HaproxyAutoscale.Benchmarks;

/// <summary>
/// The per-datagram cost of <c>logs.allowFrom</c>: the check alone (default loopback list, and an 8-entry list whose
/// match is last), and one datagram sent and received on loopback with <c>Receive</c> (the baseline, what a UNIX
/// source does) or with <c>ReceiveFrom</c> into a reused <see cref="SocketAddress"/> plus the check (what a UDP source does).
/// </summary>
[MemoryDiagnoser]
public class SenderAllowlistBenchmarks
{
    private readonly byte[] _datagram = new byte[200];
    private readonly byte[] _buffer = new byte[64 * 1024];
    private SenderAllowlist _loopback = null!;
    private SenderAllowlist _eight = null!;
    private SocketAddress _v4Sender = null!;
    private SocketAddress _v6Sender = null!;
    private Socket _receiver = null!;
    private Socket _sender = null!;
    private EndPoint _target = null!;
    private SocketAddress _received = null!;

    [GlobalSetup]
    public void Setup()
    {
        _loopback = new SenderAllowlist(SenderAllowlist.Loopback);
        _eight = new SenderAllowlist(new[] { "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "fd00::/8", "2001:db8::/32", "fe80::/10", "2001:db8:1::5/128" }
            .Select(IPNetwork.Parse));
        _v4Sender = new IPEndPoint(IPAddress.Parse("127.0.0.1"), 40000).Serialize();
        _v6Sender = new IPEndPoint(IPAddress.Parse("2001:db8:1::5"), 40000).Serialize();
        _receiver = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        _receiver.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _target = _receiver.LocalEndPoint!;
        _sender = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        _sender.Connect(_target);
        _received = new SocketAddress(AddressFamily.InterNetwork);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _receiver.Dispose();
        _sender.Dispose();
    }

    [Benchmark]
    public bool Check_DefaultLoopback_V4Allowed() => _loopback.Allows(_v4Sender);

    [Benchmark]
    public bool Check_EightPrefixes_V6MatchesLast() => _eight.Allows(_v6Sender);

    [Benchmark(Baseline = true)]
    public int SendAndReceive()
    {
        _sender.Send(_datagram);
        return _receiver.Receive(_buffer, SocketFlags.None);
    }

    [Benchmark]
    public int SendAndReceiveFrom_WithCheck()
    {
        _sender.Send(_datagram);
        int length = _receiver.ReceiveFrom(_buffer, SocketFlags.None, _received);
        return _loopback.Allows(_received) ? length : -1;
    }
}

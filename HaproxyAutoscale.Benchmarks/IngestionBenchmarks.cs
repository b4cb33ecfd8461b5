using System.Net;
using System.Net.Sockets;
using System.Text;
using BenchmarkDotNet.Attributes;
using HaproxyAutoscale.Lab;
using HaproxyAutoscale.Logs;
using HaproxyAutoscale.Windows;

namespace HaproxyAutoscale.Benchmarks;

/// <summary>
/// Lines into the windows through the TCP source, against the same lines parsed and added from memory (the floor:
/// parse + window). One loopback connection carries 100,000 octet-counted lines per operation, as an HAProxy ring
/// sends them; the source frames them and its handler parses each line and adds its response time to the backend's
/// window under a lock, as the autoscaler does. Results are per line.
/// </summary>
[MemoryDiagnoser]
public class TcpIngestionBenchmarks
{
    private const int Lines = 100_000;
    private readonly HaproxyLogParser _parser = new();
    private readonly Dictionary<string, IResponseTimeWindow> _windows = new(StringComparer.Ordinal);
    private readonly object _gate = new();
    private readonly ManualResetEventSlim _done = new(false);
    private byte[] _lines = [];
    private byte[] _framed = [];
    private TcpLogSource _source = null!;
    private CancellationTokenSource _stop = null!;
    private Task _running = null!;
    private Socket _sender = null!;
    private long _handled;
    private long _target;

    [GlobalSetup]
    public void Setup()
    {
        var text = new StringWriter();
        LogGenerator.Write(text, Lines);
        _lines = Encoding.UTF8.GetBytes(text.ToString());
        var framed = new MemoryStream();
        foreach (string line in text.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            framed.Write(Encoding.UTF8.GetBytes($"{Encoding.UTF8.GetByteCount(line)} {line}"));
        }

        _framed = framed.ToArray();
        _source = new TcpLogSource(new IPEndPoint(IPAddress.Loopback, 0), "tcp@bench", new TcpSourceOptions());
        _stop = new CancellationTokenSource();
        _running = _source.RunAsync(Handle, _stop.Token);
        _sender = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        _sender.Connect(_source.LocalEndPoint);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _sender.Dispose();
        _stop.Cancel();
        _running.GetAwaiter().GetResult();
        _source.DisposeAsync().AsTask().GetAwaiter().GetResult();
    }

    /// <summary>The floor: the same lines split, parsed and added to the windows from memory, on one thread.</summary>
    [Benchmark(Baseline = true, OperationsPerInvoke = Lines)]
    public long ParseIntoWindowsFromMemory()
    {
        long before = _handled;
        ReadOnlySpan<byte> rest = _lines;
        for (int newline; (newline = rest.IndexOf((byte)'\n')) >= 0; rest = rest[(newline + 1)..])
        {
            Handle(rest[..newline]);
        }

        return _handled - before;
    }

    /// <summary>The same lines sent over loopback TCP, framed by the source and handled on its connection's thread.</summary>
    [Benchmark(OperationsPerInvoke = Lines)]
    public long TcpSourceIntoWindows()
    {
        _done.Reset();
        Volatile.Write(ref _target, Volatile.Read(ref _handled) + Lines);
        _sender.Send(_framed);
        if (!_done.Wait(TimeSpan.FromSeconds(30)))
        {
            throw new InvalidOperationException($"lines lost: {_target - Volatile.Read(ref _handled)} of {Lines} not handled");
        }

        return Lines;
    }

    private void Handle(ReadOnlySpan<byte> line)
    {
        if (_parser.TryParse(line, out RequestRecord record))
        {
            if (!_windows.TryGetValue(record.Backend, out IResponseTimeWindow? window))
            {
                _windows[record.Backend] = window = ResponseTimeWindows.Create(new WindowOptions(), TimeProvider.System);
            }

            lock (_gate)
            {
                window.Add(record.ResponseTime);
            }
        }

        if (Interlocked.Increment(ref _handled) == Volatile.Read(ref _target))
        {
            _done.Set();
        }
    }
}

/// <summary>
/// Cost per datagram of the UDP source's receive step (receive, read the sender, check the allowlist): one
/// <c>recvfrom</c> per datagram (the portable path, and the only one before) against <c>recvmmsg</c> batches. Each
/// iteration first queues 1,000 datagrams of 230 bytes in the socket's kernel buffer (not measured), then receives
/// them all. Results are per datagram.
/// </summary>
[MemoryDiagnoser]
[IterationCount(40)]
[InvocationCount(1)]
public class UdpReceiveBenchmarks
{
    private const int Datagrams = 1000;
    private Socket _socket = null!;
    private Socket _sender = null!;
    private IDatagramReceiver _single = null!;
    private IDatagramReceiver _batched = null!;
    private SenderAllowlist _allowlist = null!;
    private byte[] _line = [];

    [GlobalSetup]
    public void Setup()
    {
        _socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp) { ReceiveBufferSize = 4 * 1024 * 1024 };
        _socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _socket.ReceiveTimeout = 1000;
        _sender = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        _sender.Connect(_socket.LocalEndPoint!);
        _single = DatagramReceivers.Create(_socket, LogSources.DefaultMaxLineLength, withSender: true, batch: false);
        _batched = DatagramReceivers.Create(_socket, LogSources.DefaultMaxLineLength, withSender: true);
        _allowlist = new SenderAllowlist(SenderAllowlist.Loopback);
        _line = Encoding.ASCII.GetBytes("<134>Nov 26 15:00:00 haproxy[1]: 127.0.0.1:40000 [26/Nov/2026:15:00:00.000] fe_http app/s1 0/0/0/12/13 200 512 - - ---- 1/1/0/0/0 0/0 {Mozilla/5.0 (X11; Linux x86_64)} \"GET /index.html HTTP/1.1\"");
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _batched.Dispose();
        _single.Dispose();
        _sender.Dispose();
        _socket.Dispose();
    }

    [IterationSetup]
    public void Fill()
    {
        for (int i = 0; i < Datagrams; i++)
        {
            _sender.Send(_line);
        }
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Datagrams)]
    public long RecvfromPerDatagram() => Drain(_single);

    [Benchmark(OperationsPerInvoke = Datagrams)]
    public long RecvmmsgBatches() => Drain(_batched);

    private long Drain(IDatagramReceiver receiver)
    {
        long bytes = 0;
        for (int received = 0; received < Datagrams;)
        {
            int count = receiver.Receive();
            if (count == 0)
            {
                throw new InvalidOperationException($"only {received} of {Datagrams} datagrams arrived (kernel buffer too small?)");
            }

            for (int i = 0; i < count; i++)
            {
                if (receiver.TryReadSender(i, out UInt128 address, out bool v4) && _allowlist.Allows(address, v4))
                {
                    bytes += receiver.Datagram(i).Length;
                }
            }

            received += count;
        }

        return bytes;
    }
}

using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using HaproxyAutoscale.Scaling;
using Microsoft.Extensions.Logging;

namespace HaproxyAutoscale.Logs;

/// <summary>
/// Receives syslog datagrams, one log line each: over UDP (HAProxy's <c>log 127.0.0.1:5140 local0</c>) or over a
/// UNIX datagram socket (<c>log /path local0</c>). Reception and handling run on two threads joined by a queue
/// bounded in bytes: when the handler falls behind, datagrams are dropped and counted instead of queued without bound.
/// UDP datagrams from a sender outside <see cref="DatagramSourceOptions.AllowFrom"/> are dropped on the receive thread,
/// before they are queued or parsed, and counted as rejected.
/// </summary>
internal sealed class DatagramLogSource : ILogSource
{
    private readonly EndPoint _endPoint;
    private readonly DatagramSourceOptions _options;
    private readonly Socket _socket;
    private const int PooledBufferSize = 2048; // HAProxy's default log line is at most 1024 bytes
    private const int MaxRememberedSenders = 16;
    // How long the batch receiver waits after a partial batch: a millisecond next to a reaction time of ~4 ms.
    private static readonly TimeSpan BatchLinger = TimeSpan.FromMilliseconds(1);

    // Null for a UNIX socket: its senders have no address, its file mode says who may write.
    private readonly SenderAllowlist? _allowlist;
    // Rejected senders already warned about (receive thread only): bounded, later ones are only counted.
    private readonly UInt128[] _rejectedSenders = new UInt128[MaxRememberedSenders];
    private int _rejectedSenderCount;

    private readonly ConcurrentQueue<Datagram> _pending = new();
    // Set when datagrams are queued. No spinning before blocking: at 1,000 datagrams/s a spinning wait (SemaphoreSlim
    // yields the core some dozens of times first) cost more CPU than handling the lines.
    private readonly ManualResetEventSlim _available = new(initialState: false, spinCount: 0);
    // Buffers go from the receive loop to the handler loop and back: a free list of our own, because ArrayPool's
    // per-thread caches never see a buffer come back on the thread that rented it and keep allocating.
    private readonly ConcurrentQueue<byte[]> _freeBuffers = new();
    private long _queuedBytes;
    private volatile bool _stopping;

    public DatagramLogSource(EndPoint endPoint, string address, DatagramSourceOptions options)
    {
        _endPoint = endPoint;
        _options = options;
        Address = address;
        if (endPoint is not UnixDomainSocketEndPoint)
        {
            _allowlist = new SenderAllowlist(options.AllowFrom);
        }

        _socket = endPoint is UnixDomainSocketEndPoint
            ? new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified)
            : new Socket(endPoint.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        Bind();
    }

    public string Address { get; }

    public LogSourceCounters Counters { get; } = new();

    /// <summary>The most bytes ever waiting in the queue (written by the receive loop only).</summary>
    public long PeakQueuedBytes { get; private set; }

    /// <summary>The bound endpoint (with the actual port when port 0 was asked for).</summary>
    public EndPoint LocalEndPoint => _socket.LocalEndPoint!;

    /// <summary>Whether to receive many datagrams per system call where the platform allows (see <see cref="DatagramReceivers"/>); set before <see cref="RunAsync"/>.</summary>
    internal bool BatchReceive { get; set; } = true;

    /// <summary>Warned about the first datagram from each rejected sender (up to 16 senders); set before <see cref="RunAsync"/>.</summary>
    internal ILogger? Logger { get; set; }

    public Task RunAsync(LogLineHandler onLine, CancellationToken cancellationToken)
    {
        // Two dedicated threads with blocking calls: no allocation per datagram (async socket reads and channel
        // waits cost ~100 B each, which at 50,000 lines/s keeps the GC busy).
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var receiver = new Thread(ReceiveLoop) { IsBackground = true, Name = "log datagrams: receive" };
        var handler = new Thread(() =>
        {
            try
            {
                HandleLoop(onLine, cancellationToken);
                done.TrySetResult();
            }
            catch (Exception e)
            {
                done.TrySetException(e);
            }
            finally
            {
                _stopping = true;
                Unblock();
                receiver.Join();
                _socket.Close();
            }
        })
        { IsBackground = true, Name = "log datagrams: handle" };
        receiver.Start();
        handler.Start();
        return done.Task;
    }

    public ValueTask DisposeAsync()
    {
        _socket.Dispose();
        _available.Dispose();
        if (_endPoint is UnixDomainSocketEndPoint unix)
        {
            TryDelete(unix.ToString());
        }

        return ValueTask.CompletedTask;
    }

    // Wakes a receive blocked in the kernel: shutting the socket down wakes it on Linux (even an unconnected UDP
    // socket, which reports ENOTCONN), and the receive timeout bounds the wait everywhere else.
    private void Unblock()
    {
        try
        {
            _socket.Shutdown(SocketShutdown.Receive);
        }
        catch (SocketException)
        {
        }
        catch (ObjectDisposedException)
        {
        }
    }

    private void Bind()
    {
        if (_endPoint is UnixDomainSocketEndPoint unix)
        {
            // A socket file left by a previous run would make bind fail; it cannot be in use by anyone else's reader
            // that we should respect, since only one process can own it.
            TryDelete(unix.ToString());
            _socket.Bind(_endPoint);
            if (_options.UnixSocketMode is { } mode && !OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(unix.ToString(), mode);
            }
        }
        else
        {
            _socket.ReceiveBufferSize = _options.ReceiveBufferSize;
            _socket.Bind(_endPoint);
        }

        _socket.ReceiveTimeout = 250; // ms: the longest a stop waits for the receive thread
    }

    private void ReceiveLoop()
    {
        // Many datagrams per system call where the platform allows (recvmmsg on Linux): the system call is most of
        // a datagram's cost. The receive timeout lets the loop notice a stop even if closing did not wake it.
        using IDatagramReceiver receiver = DatagramReceivers.Create(_socket, _options.MaxDatagramSize, withSender: _allowlist is not null, BatchReceive);
        try
        {
            while (!_stopping)
            {
                int count = receiver.Receive();
                for (int i = 0; i < count; i++)
                {
                    if (_allowlist is not null && (!receiver.TryReadSender(i, out UInt128 address, out bool v4) || !_allowlist.Allows(address, v4)))
                    {
                        Reject(address, v4);
                        continue;
                    }

                    ReadOnlySpan<byte> datagram = receiver.Datagram(i);
                    Enqueue(datagram[..TrimTerminators(datagram)]);
                }

                if (count > 0)
                {
                    _available.Set();
                    if (count < receiver.BatchSize)
                    {
                        // The kernel had no more: let a few arrive before asking again. At 50,000 lines/s this turns
                        // ~100,000 thread wake-ups a second (this thread's and the handler's) into ~2,000; it
                        // delays a line by at most the linger.
                        Thread.Sleep(BatchLinger);
                    }
                }
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // Closed by the handler thread on stop.
        }
    }

    private void Reject(UInt128 address, bool v4)
    {
        Counters.AddRejected();
        if (Logger is null || _rejectedSenderCount == _rejectedSenders.Length || _rejectedSenders.AsSpan(0, _rejectedSenderCount).Contains(address))
        {
            return;
        }

        _rejectedSenders[_rejectedSenderCount++] = address;
        Log.RejectedSender(Logger, SenderAllowlist.Format(address, v4), Address, _allowlist!.Description);
    }

    private void HandleLoop(LogLineHandler onLine, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            if (!_pending.TryDequeue(out Datagram datagram))
            {
                // Reset, then look again: a datagram queued in between has set the event again, so none is missed.
                _available.Reset();
                if (_pending.IsEmpty)
                {
                    // A timed wait instead of Wait(token): registering on the token would allocate on every blocking wait.
                    _available.Wait(200);
                }

                continue;
            }

            try
            {
                Counters.AddLine();
                onLine(datagram.Bytes);
            }
            finally
            {
                Interlocked.Add(ref _queuedBytes, -datagram.Length);
                if (datagram.Buffer.Length == PooledBufferSize)
                {
                    _freeBuffers.Enqueue(datagram.Buffer);
                }
            }
        }
    }

    private void Enqueue(ReadOnlySpan<byte> datagram)
    {
        if (Interlocked.Read(ref _queuedBytes) + datagram.Length > _options.MaxQueuedBytes)
        {
            Counters.AddDropped();
            return;
        }

        byte[] buffer = datagram.Length > PooledBufferSize ? new byte[datagram.Length]
            : _freeBuffers.TryDequeue(out byte[]? free) ? free
            : new byte[PooledBufferSize];
        datagram.CopyTo(buffer);
        long queued = Interlocked.Add(ref _queuedBytes, datagram.Length);
        PeakQueuedBytes = Math.Max(PeakQueuedBytes, queued);
        _pending.Enqueue(new Datagram(buffer, datagram.Length)); // the receive loop signals once per batch
    }

    private static int TrimTerminators(ReadOnlySpan<byte> datagram)
    {
        int end = datagram.Length;
        while (end > 0 && datagram[end - 1] is (byte)'\n' or (byte)'\r' or 0)
        {
            end--;
        }

        return end;
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    private readonly record struct Datagram(byte[] Buffer, int Length)
    {
        public ReadOnlySpan<byte> Bytes => Buffer.AsSpan(0, Length);
    }
}

/// <summary>Options of the syslog datagram sources (UDP and UNIX).</summary>
public sealed class DatagramSourceOptions
{
    /// <summary>The largest datagram accepted; longer ones are cut by the socket.</summary>
    /// <value>The default is 65,536 bytes.</value>
    public int MaxDatagramSize { get; set; } = LogSources.DefaultMaxLineLength;

    /// <summary>Bytes of received but unhandled datagrams held at most; past that, datagrams are dropped and counted.</summary>
    /// <value>The default is 16 MiB.</value>
    public long MaxQueuedBytes { get; set; } = 16L * 1024 * 1024;

    /// <summary>The kernel receive buffer asked for the UDP socket (Linux caps it at <c>net.core.rmem_max</c>).</summary>
    /// <value>The default is 4 MiB.</value>
    public int ReceiveBufferSize { get; set; } = 4 * 1024 * 1024;

    /// <summary>
    /// The senders whose UDP datagrams are accepted: IP addresses or CIDR prefixes (an IPv4 sender that reaches an IPv6
    /// socket as <c>::ffff:a.b.c.d</c> matches the IPv4 entries). A datagram from any other sender is dropped before it
    /// is parsed and counted in <see cref="LogSourceCounters.Rejected"/>, so a host that can reach the port cannot fake
    /// load or idleness. It does not apply to UNIX sockets, whose file mode (<see cref="UnixSocketMode"/>) says who may
    /// write. Replace the entries to accept others, e.g. <c>AllowFrom.Clear(); AllowFrom.Add(IPNetwork.Parse("10.0.0.0/8"))</c>;
    /// an empty list rejects every datagram. Read when the source is created.
    /// </summary>
    /// <value>The default is loopback only: <c>127.0.0.0/8</c> and <c>::1</c>.</value>
    public IList<IPNetwork> AllowFrom { get; } = [.. SenderAllowlist.Loopback];

    /// <summary>File mode of a UNIX socket, so that HAProxy's user may write to it; <see langword="null"/> keeps the umask's.</summary>
    /// <value>The default is <see langword="null"/>.</value>
    public UnixFileMode? UnixSocketMode { get; set; }
}

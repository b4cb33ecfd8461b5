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
internal sealed class DatagramLogSource : ILogSource, IBatchingLogSource
{
    private readonly EndPoint _endPoint;
    private readonly DatagramSourceOptions _options;
    private readonly Socket _socket;
    private const int MaxRememberedSenders = 16;
    // How long the batch receiver waits after a partial batch: a millisecond next to a reaction time of ~4 ms.
    private static readonly TimeSpan BatchLinger = TimeSpan.FromMilliseconds(1);

    // Null for a UNIX socket: its senders have no address, its file mode says who may write.
    private volatile SenderAllowlist? _allowlist; // replaced by a reload that changes logs.allowFrom
    // Rejected senders already warned about (receive thread only): bounded, later ones are only counted.
    private readonly UInt128[] _rejectedSenders = new UInt128[MaxRememberedSenders];
    private int _rejectedSenderCount;

    private readonly DatagramQueue _queue;
    private volatile bool _stopping;

    public DatagramLogSource(EndPoint endPoint, string address, DatagramSourceOptions options)
    {
        _endPoint = endPoint;
        _options = options;
        Address = address;
        _queue = new DatagramQueue(options);
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

    /// <summary>Accepts datagrams from <paramref name="networks"/> from now on (a reload changed <c>logs.allowFrom</c>); a UNIX socket has no allowlist.</summary>
    internal void ReplaceAllowlist(IEnumerable<IPNetwork> networks)
    {
        if (_allowlist is not null)
        {
            _allowlist = new SenderAllowlist(networks);
        }
    }

    public LogSourceCounters Counters { get; } = new();

    /// <summary>The most bytes ever waiting in the queue (written by the receive loop only).</summary>
    public long PeakQueuedBytes => _queue.PeakQueuedBytes;

    /// <summary>The bound endpoint (with the actual port when port 0 was asked for).</summary>
    public EndPoint LocalEndPoint => _socket.LocalEndPoint!;

    /// <summary>Whether to receive many datagrams per system call where the platform allows (see <see cref="DatagramReceivers"/>); set before <see cref="RunAsync(LogLineHandler, CancellationToken)"/>.</summary>
    internal bool BatchReceive { get; set; } = true;

    /// <summary>Warned about the first datagram from each rejected sender (up to 16 senders); set before <see cref="RunAsync(LogLineHandler, CancellationToken)"/>.</summary>
    internal ILogger? Logger { get; set; }

    public Task RunAsync(LogLineHandler onLine, CancellationToken cancellationToken) => RunAsync(onLine, static () => { }, cancellationToken);

    public Task RunAsync(LogLineHandler onLine, Action onReadEnd, CancellationToken cancellationToken)
    {
        // Two dedicated threads with blocking calls: no allocation per datagram (async socket reads and channel
        // waits cost ~100 B each, which at 50,000 lines/s keeps the GC busy).
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var receiver = new Thread(ReceiveLoop) { IsBackground = true, Name = "log datagrams: receive" };
        var handler = new Thread(() =>
        {
            try
            {
                HandleLoop(onLine, onReadEnd, cancellationToken);
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
        _queue.Dispose();
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

                    Enqueue(SyslogTerminators.Trim(receiver.Datagram(i)));
                }

                if (count > 0)
                {
                    _queue.Signal();
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

    private void HandleLoop(LogLineHandler onLine, Action onReadEnd, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            if (!_queue.TryTake(out QueuedDatagram datagram, beforeWait: onReadEnd))
            {
                continue;
            }

            try
            {
                Counters.AddLine();
                onLine(datagram.Bytes);
            }
            finally
            {
                _queue.Release(datagram);
            }
        }
    }

    private void Enqueue(ReadOnlySpan<byte> datagram)
    {
        if (!_queue.TryEnqueue(datagram))
        {
            Counters.AddDropped();
        }
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
}

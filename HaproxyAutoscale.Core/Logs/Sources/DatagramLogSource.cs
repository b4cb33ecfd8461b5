using System.Buffers;
using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;

namespace HaproxyAutoscale.Logs;

/// <summary>
/// Receives syslog datagrams, one log line each: over UDP (HAProxy's <c>log 127.0.0.1:5140 local0</c>) or over a
/// UNIX datagram socket (<c>log /path local0</c>). Reception and handling run on separate loops joined by a bounded
/// queue: when the handler falls behind, datagrams are dropped and counted instead of queued without bound.
/// </summary>
internal sealed class DatagramLogSource : ILogSource
{
    private readonly EndPoint _endPoint;
    private readonly DatagramSourceOptions _options;
    private readonly Socket _socket;
    private readonly Channel<Datagram> _queue;
    private long _queuedBytes;

    public DatagramLogSource(EndPoint endPoint, string address, DatagramSourceOptions options)
    {
        _endPoint = endPoint;
        _options = options;
        Address = address;
        _queue = Channel.CreateUnbounded<Datagram>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
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

    public async Task RunAsync(LogLineHandler onLine, CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Task receiving = Task.Run(() => ReceiveLoopAsync(stop.Token), CancellationToken.None);
        try
        {
            await foreach (Datagram datagram in _queue.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                try
                {
                    Counters.AddLine();
                    onLine(datagram.Bytes);
                }
                finally
                {
                    Interlocked.Add(ref _queuedBytes, -datagram.Length);
                    ArrayPool<byte>.Shared.Return(datagram.Buffer);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        finally
        {
            await stop.CancelAsync().ConfigureAwait(false);
            _socket.Close();
            await receiving.ConfigureAwait(false);
        }
    }

    public ValueTask DisposeAsync()
    {
        _socket.Dispose();
        if (_endPoint is UnixDomainSocketEndPoint unix)
        {
            TryDelete(unix.ToString());
        }

        return ValueTask.CompletedTask;
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
    }

    private async Task ReceiveLoopAsync(CancellationToken cancellationToken)
    {
        byte[] receiveBuffer = GC.AllocateUninitializedArray<byte>(_options.MaxDatagramSize, pinned: true);
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                int length = await _socket.ReceiveAsync(receiveBuffer, SocketFlags.None, cancellationToken).ConfigureAwait(false);
                Enqueue(receiveBuffer.AsSpan(0, TrimTerminators(receiveBuffer.AsSpan(0, length))));
            }
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException
            || (e is SocketException && cancellationToken.IsCancellationRequested))
        {
        }
        finally
        {
            _queue.Writer.TryComplete();
        }
    }

    private void Enqueue(ReadOnlySpan<byte> datagram)
    {
        if (Interlocked.Read(ref _queuedBytes) + datagram.Length > _options.MaxQueuedBytes)
        {
            Counters.AddDropped();
            return;
        }

        byte[] buffer = ArrayPool<byte>.Shared.Rent(Math.Max(datagram.Length, 1));
        datagram.CopyTo(buffer);
        long queued = Interlocked.Add(ref _queuedBytes, datagram.Length);
        PeakQueuedBytes = Math.Max(PeakQueuedBytes, queued);
        _queue.Writer.TryWrite(new Datagram(buffer, datagram.Length));
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

    /// <summary>File mode of a UNIX socket, so that HAProxy's user may write to it; <see langword="null"/> keeps the umask's.</summary>
    /// <value>The default is <see langword="null"/>.</value>
    public UnixFileMode? UnixSocketMode { get; set; }
}

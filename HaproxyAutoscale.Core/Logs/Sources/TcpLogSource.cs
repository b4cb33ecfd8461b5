using System.Buffers;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using HaproxyAutoscale.Scaling;
using Microsoft.Extensions.Logging;

namespace HaproxyAutoscale.Logs;

/// <summary>
/// Receives syslog over TCP from many senders at once: every HAProxy of a fleet forwarding its <c>ring</c> to
/// <c>server … 127.0.0.1:PORT</c>, or rsyslog's <c>omfwd</c>. Each connection is read by a thread of its own, blocked
/// in receive while the sender is quiet, and framed on its own (octet counting or LF, detected per connection, see
/// <see cref="SyslogFramer"/>); the messages of all connections reach the handler one batch at a time, so the
/// handler sees one line at a time as with every source. Flow control instead of drops: a connection is read only
/// when its previous batch has been handled, so a slow handler leaves the bytes in the kernel and the senders'
/// rings, never in this process. Connections from senders outside <see cref="TcpSourceOptions.AllowFrom"/> are
/// closed unread.
/// </summary>
internal sealed class TcpLogSource : ILogSource, IBatchingLogSource
{
    private const int MaxRememberedSenders = 64;

    private readonly TcpSourceOptions _options;
    private volatile SenderAllowlist _allowlist; // replaced by a reload that changes logs.allowFrom
    private readonly Socket _listener;
    // Held while a batch of messages is handed to the handler: one connection's batch at a time.
    private readonly object _deliver = new();
    private readonly ConcurrentDictionary<UInt128, LogSender> _senders = new();
    private readonly ConcurrentDictionary<UInt128, bool> _warnedRejected = new();
    private int _connections;

    /// <summary>Accepts connections from <paramref name="networks"/> from now on (a reload changed <c>logs.allowFrom</c>); open ones stay.</summary>
    internal void ReplaceAllowlist(IEnumerable<IPNetwork> networks) => _allowlist = new SenderAllowlist(networks);

    public TcpLogSource(IPEndPoint endPoint, string address, TcpSourceOptions options)
    {
        _options = options;
        Address = address;
        _allowlist = new SenderAllowlist(options.AllowFrom);
        _listener = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            _listener.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true); // rebind at once after a restart
            _listener.Bind(endPoint);
            _listener.Listen(512);
        }
        catch
        {
            _listener.Dispose();
            throw;
        }
    }

    public string Address { get; }

    public LogSourceCounters Counters { get; } = new();

    /// <summary>The bound endpoint (with the actual port when port 0 was asked for).</summary>
    public IPEndPoint LocalEndPoint => (IPEndPoint)_listener.LocalEndPoint!;

    /// <summary>Every sender seen so far, by address, with what it sent.</summary>
    public IReadOnlyList<LogSenderStatistics> Senders => [.. _senders.Values.Select(s => s.Snapshot()).OrderBy(s => s.Sender, StringComparer.Ordinal)];

    /// <summary>Connections, rejections and malformed streams are logged here; set before <see cref="RunAsync(LogLineHandler, CancellationToken)"/>.</summary>
    internal ILogger? Logger { get; set; }

    public Task RunAsync(LogLineHandler onLine, CancellationToken cancellationToken) => RunAsync(onLine, static () => { }, cancellationToken);

    public async Task RunAsync(LogLineHandler onLine, Action onReadEnd, CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var connections = new ConcurrentDictionary<Task, bool>();
        Exception? handlerFailure = null;
        try
        {
            while (!stop.IsCancellationRequested)
            {
                Socket socket;
                try
                {
                    socket = await _listener.AcceptAsync(stop.Token).ConfigureAwait(false);
                }
                catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException
                    || (e is SocketException { SocketErrorCode: SocketError.OperationAborted } && stop.IsCancellationRequested))
                {
                    break; // stopping (or disposed)
                }
                catch (SocketException e) when (e.SocketErrorCode is SocketError.ConnectionAborted or SocketError.ConnectionReset)
                {
                    continue; // the client gave up before it was accepted
                }
                catch (SocketException)
                {
                    // Out of file descriptors or buffers: the senders retry; pause instead of spinning on accept.
                    await Task.Delay(100, stop.Token).ContinueWith(_ => { }, TaskScheduler.Default).ConfigureAwait(false);
                    continue;
                }

                if (Admit(socket) is not { } sender)
                {
                    continue;
                }

                // A thread of its own per connection, blocked in receive while the sender is quiet: at 10,000 backends
                // and 100k lines/s, 0.135 -> 0.118 cores against reads completing on the thread pool (results/scale.md).
                Task connection = Task.Factory.StartNew(() =>
                {
                    try
                    {
                        Serve(socket, sender, onLine, onReadEnd, stop.Token);
                    }
                    catch (OperationCanceledException) when (stop.IsCancellationRequested)
                    {
                        // Stopping.
                    }
                    catch (Exception e)
                    {
                        // The handler threw: stop the whole source, as every source does.
                        Interlocked.CompareExchange(ref handlerFailure, e, null);
                        stop.Cancel();
                    }
                }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
                connections[connection] = true;
                _ = connection.ContinueWith(done => connections.TryRemove(done, out _), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            }
        }
        finally
        {
            await stop.CancelAsync().ConfigureAwait(false);
            await Task.WhenAll(connections.Keys).ConfigureAwait(false);
        }

        if (handlerFailure is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(handlerFailure);
        }
    }

    public ValueTask DisposeAsync()
    {
        _listener.Dispose();
        return ValueTask.CompletedTask;
    }

    // Checks the sender and the connection limit; returns the sender's record, or null (the socket is then closed).
    private LogSender? Admit(Socket socket)
    {
        IPEndPoint remote;
        try
        {
            remote = (IPEndPoint)socket.RemoteEndPoint!;
        }
        catch (SocketException)
        {
            socket.Dispose(); // reset before we looked
            return null;
        }

        if (!SenderAllowlist.TryReadSender(remote.Serialize(), out UInt128 address, out bool v4) || !_allowlist.Allows(address, v4))
        {
            Counters.AddRejected();
            if (Logger is not null && _warnedRejected.Count < MaxRememberedSenders && _warnedRejected.TryAdd(address, true))
            {
                Log.RejectedConnection(Logger, SenderAllowlist.Format(address, v4), Address, _allowlist.Description);
            }

            socket.Dispose();
            return null;
        }

        if (Interlocked.Increment(ref _connections) > _options.MaxConnections)
        {
            Interlocked.Decrement(ref _connections);
            Counters.AddRejected();
            if (Logger is not null)
            {
                Log.TooManyConnections(Logger, SenderAllowlist.Format(address, v4), Address, _options.MaxConnections);
            }

            socket.Dispose();
            return null;
        }

        socket.NoDelay = true;
        return _senders.GetOrAdd(address, static (a, v4) => new LogSender(SenderAllowlist.Format(a, v4)), v4);
    }

    // Reads one connection to its end on the calling thread (a dedicated one, see RunAsync): blocking receives, so
    // the kernel wakes this thread when bytes arrive, with no hop through the socket engine's thread to a pool worker.
    private void Serve(Socket socket, LogSender sender, LogLineHandler onLine, Action onReadEnd, CancellationToken cancellationToken)
    {
        sender.Connected();
        string remote = socket.RemoteEndPoint?.ToString() ?? sender.Address;
        if (Logger is not null)
        {
            Log.SenderConnected(Logger, remote, Address);
        }

        var framer = new SyslogFramer(_options.MaxLineLength);
        var buffer = new ReceiveBuffer(_options.ReadSize);
        string? ended = null;
        // Disposing the socket is what wakes a thread blocked in its receive when the source stops.
        using CancellationTokenRegistration unblock = cancellationToken.UnsafeRegister(static s => ((Socket)s!).Dispose(), socket);
        try
        {
            while (true)
            {
                int read;
                try
                {
                    read = socket.Receive(buffer.Free(), SocketFlags.None);
                }
                catch (Exception e) when (e is ObjectDisposedException || (e is SocketException && cancellationToken.IsCancellationRequested))
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    throw;
                }
                catch (SocketException e)
                {
                    ended = e.Message; // reset by the sender
                    break;
                }

                buffer.Commit(read);
                var unread = new ReadOnlySequence<byte>(buffer.Unread);
                long oversizedBefore = framer.Oversized;
                SequencePosition consumed;
                lock (_deliver)
                {
                    var sink = new Delivery(onLine, Counters, sender);
                    consumed = framer.Frame(unread, final: read == 0, ref sink);
                    onReadEnd();
                }

                for (long i = framer.Oversized - oversizedBefore; i > 0; i--)
                {
                    Counters.AddOversized();
                    sender.AddOversized();
                }

                if (framer.Malformed is { } malformed)
                {
                    Counters.AddMalformed();
                    sender.AddMalformed();
                    if (Logger is not null)
                    {
                        Log.MalformedStream(Logger, remote, Address, malformed);
                    }

                    ended = "malformed";
                    break;
                }

                buffer.Consume((int)unread.Slice(0, consumed).Length);
                if (read == 0)
                {
                    break;
                }
            }
        }
        finally
        {
            socket.Dispose();
            Interlocked.Decrement(ref _connections);
            sender.Disconnected();
            if (Logger is not null && !cancellationToken.IsCancellationRequested)
            {
                Log.SenderDisconnected(Logger, remote, Address, framer.Framing.ToString(), ended ?? "closed by the sender");
            }
        }
    }

    // Hands each message to the handler and counts it; runs under _deliver.
    private readonly struct Delivery(LogLineHandler onLine, LogSourceCounters counters, LogSender sender) : IMessageSink
    {
        public void OnMessage(ReadOnlySpan<byte> message)
        {
            counters.AddLine();
            sender.AddLine(message.Length);
            onLine(message);
        }
    }
}

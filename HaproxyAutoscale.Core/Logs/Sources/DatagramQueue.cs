using System.Collections.Concurrent;

namespace HaproxyAutoscale.Logs;

/// <summary>
/// The queue from a datagram source's receive thread to its handler thread, bounded in bytes (<see cref="DatagramSourceOptions.MaxQueuedBytes"/>): a datagram that would
/// pass the bound is refused instead of queued. Datagrams are copied into buffers that go back and forth between the
/// two threads. One writer thread and one reader thread.
/// </summary>
internal sealed class DatagramQueue(DatagramSourceOptions options) : IDisposable
{
    private const int PooledBufferSize = 2048; // HAProxy's default log line is at most 1024 bytes

    private readonly ConcurrentQueue<QueuedDatagram> _pending = new();
    // Set when datagrams are queued. No spinning before blocking: at 1,000 datagrams/s a spinning wait (SemaphoreSlim
    // yields the core some dozens of times first) cost more CPU than handling the lines.
    private readonly ManualResetEventSlim _available = new(initialState: false, spinCount: 0);
    // Buffers go from the receive loop to the handler loop and back: a free list of our own, because ArrayPool's
    // per-thread caches never see a buffer come back on the thread that rented it and keep allocating.
    private readonly ConcurrentQueue<byte[]> _freeBuffers = new();
    private long _queuedBytes;

    /// <summary>The most bytes ever waiting in the queue (written by the writer thread only).</summary>
    public long PeakQueuedBytes { get; private set; }

    /// <summary>Copies <paramref name="datagram"/> into the queue; <see langword="false"/> when it would pass the bound.</summary>
    public bool TryEnqueue(ReadOnlySpan<byte> datagram)
    {
        if (Interlocked.Read(ref _queuedBytes) + datagram.Length > options.MaxQueuedBytes)
        {
            return false;
        }

        byte[] buffer = datagram.Length > PooledBufferSize ? new byte[datagram.Length]
            : _freeBuffers.TryDequeue(out byte[]? free) ? free
            : new byte[PooledBufferSize];
        datagram.CopyTo(buffer);
        long queued = Interlocked.Add(ref _queuedBytes, datagram.Length);
        PeakQueuedBytes = Math.Max(PeakQueuedBytes, queued);
        _pending.Enqueue(new QueuedDatagram(buffer, datagram.Length)); // the writer signals once per batch
        return true;
    }

    /// <summary>Wakes the reader: the writer calls it once per batch of queued datagrams.</summary>
    public void Signal() => _available.Set();

    /// <summary>Takes the next datagram, or waits a while for one and returns <see langword="false"/> (<paramref name="beforeWait"/> called first).</summary>
    public bool TryTake(out QueuedDatagram datagram, Action beforeWait)
    {
        if (_pending.TryDequeue(out datagram))
        {
            return true;
        }

        // Reset, then look again: a datagram queued in between has set the event again, so none is missed.
        _available.Reset();
        if (_pending.IsEmpty)
        {
            beforeWait();
            // A timed wait instead of Wait(token): registering on the token would allocate on every blocking wait.
            _available.Wait(200);
        }

        return false;
    }

    /// <summary>Gives a handled datagram's bytes back to the bound and its buffer back to the writer.</summary>
    public void Release(QueuedDatagram datagram)
    {
        Interlocked.Add(ref _queuedBytes, -datagram.Length);
        if (datagram.Buffer.Length == PooledBufferSize)
        {
            _freeBuffers.Enqueue(datagram.Buffer);
        }
    }

    public void Dispose() => _available.Dispose();
}

/// <summary>A datagram waiting in a <see cref="DatagramQueue"/>: its bytes are the first <see cref="Length"/> of <see cref="Buffer"/>.</summary>
internal readonly record struct QueuedDatagram(byte[] Buffer, int Length)
{
    public ReadOnlySpan<byte> Bytes => Buffer.AsSpan(0, Length);
}

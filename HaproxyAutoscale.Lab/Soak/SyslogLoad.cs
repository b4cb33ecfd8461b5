using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace HaproxyAutoscale.Lab.Soak;

/// <summary>
/// The soak's bulk volume: httplog lines for the <c>bulk*</c> backends at a steady rate, paced every 10 ms, stamped
/// with the current time, written by the writer it is given (a TCP connection to an HAProxy's <c>log-forward</c>, or the
/// log file). Counts what it wrote and what it could not write; bounded by time and by a token.
/// </summary>
public sealed class SyslogLoad(int linesPerSecond, Func<int, byte[], int> write)
{
    /// <summary>The backends the lines name (each with servers b1 and b2 in haproxy.cfg).</summary>
    public static readonly string[] Backends = ["bulk0", "bulk1", "bulk2", "bulk3"];

    private long _written;
    private long _failed;

    /// <summary>Lines the writer took.</summary>
    public long Written => Interlocked.Read(ref _written);

    /// <summary>Lines the writer refused (a connection down): never sent, so never expected.</summary>
    public long Failed => Interlocked.Read(ref _failed);

    /// <summary>
    /// A block of <paramref name="count"/> lines, octet-counted RFC 5424 frames (<paramref name="octetCounted"/>, what a
    /// ring and log-forward speak) or rsyslog file lines ending in LF.
    /// </summary>
    public static byte[] Lines(int count, bool octetCounted, Random random)
    {
        DateTime now = DateTime.UtcNow;
        string header = octetCounted
            ? now.ToString("'<134>1 'yyyy-MM-dd'T'HH:mm:ss.ffffff'+00:00 - haproxy 7 - - '", CultureInfo.InvariantCulture)
            : now.ToString("MMM dd HH:mm:ss", CultureInfo.InvariantCulture) + " lb1 haproxy[7]: ";
        string accepted = now.ToString("dd/MMM/yyyy:HH:mm:ss.fff", CultureInfo.InvariantCulture);
        var text = new StringBuilder(count * 200);
        for (int i = 0; i < count; i++)
        {
            int tr = random.Next(5, 50);
            string message = string.Create(CultureInfo.InvariantCulture,
                $"{header}127.0.0.1:{random.Next(1024, 65535)} [{accepted}] fe {Backends[random.Next(Backends.Length)]}/b1 0/0/0/{tr}/{tr + 1} 200 512 - - ---- 1/1/0/0/0 0/0 \"GET /bulk HTTP/1.1\"");
            if (octetCounted)
            {
                text.Append(CultureInfo.InvariantCulture, $"{Encoding.ASCII.GetByteCount(message)} {message}");
            }
            else
            {
                text.Append(message).Append('\n');
            }
        }

        return Encoding.ASCII.GetBytes(text.ToString());
    }

    /// <summary>Writes lines at the rate until <paramref name="duration"/> passed or <paramref name="cancellationToken"/> is cancelled.</summary>
    public async Task RunAsync(TimeSpan duration, bool octetCounted, CancellationToken cancellationToken)
    {
        var random = new Random(7);
        var clock = Stopwatch.StartNew();
        long due = 0;
        while (!cancellationToken.IsCancellationRequested && clock.Elapsed < duration)
        {
            long target = (long)(clock.Elapsed.TotalSeconds * linesPerSecond);
            int count = (int)Math.Min(target - due, linesPerSecond); // at most a second's worth after a stall
            if (count > 0)
            {
                due = target;
                int taken = write(count, Lines(count, octetCounted, random));
                Interlocked.Add(ref _written, taken);
                Interlocked.Add(ref _failed, count - taken);
            }

            try
            {
                await Task.Delay(10, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }
}

/// <summary>
/// One TCP connection to an HAProxy's <c>log-forward</c> bind, opened again after a failure or on
/// <see cref="Reconnect"/> (after a reload: the new worker has the listener, the old one finishes and exits).
/// </summary>
public sealed class LogForwardConnection(int port) : IDisposable
{
    private readonly Lock _lock = new();
    private Socket? _socket;

    /// <summary>Sends a block of <paramref name="count"/> frames: all of them, or none when the connection fails (it is opened again next time).</summary>
    public int Send(int count, byte[] frames)
    {
        lock (_lock)
        {
            try
            {
                if (_socket is null)
                {
                    var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { SendTimeout = 5000 };
                    socket.Connect(new IPEndPoint(IPAddress.Loopback, port));
                    _socket = socket;
                }

                _socket.Send(frames);
                return count;
            }
            catch (SocketException)
            {
                _socket?.Dispose();
                _socket = null;
                return 0;
            }
        }
    }

    /// <summary>Closes the connection in order (what was sent is delivered); the next block opens a new one.</summary>
    public void Reconnect()
    {
        lock (_lock)
        {
            if (_socket is not null)
            {
                try
                {
                    _socket.Shutdown(SocketShutdown.Send);
                }
                catch (SocketException)
                {
                    // already reset
                }

                _socket.Dispose();
                _socket = null;
            }
        }
    }

    public void Dispose() => Reconnect();
}

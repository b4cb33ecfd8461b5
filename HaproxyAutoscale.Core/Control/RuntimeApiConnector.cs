using System.Buffers;
using System.Net.Sockets;
using System.Text;

namespace HaproxyAutoscale.Control;

/// <summary>
/// Opens connections to one stats socket, reads the Runtime API's answers from them, and words a failed exchange as a
/// <see cref="HaproxyControlException"/> that names the step that failed. Shared by both ways to talk.
/// </summary>
internal sealed class RuntimeApiConnector(HaproxyEndpoint endpoint, HaproxyControlOptions options)
{
    /// <summary>Makes HAProxy prefix every error with its severity (<c>[3]: …</c>), so errors are told apart from data.</summary>
    public const string SeverityCommand = "set severity-output number";

    private static ReadOnlySpan<byte> PromptBytes => "\n> "u8;

    public string Endpoint => endpoint.Address;

    public async Task<Socket> ConnectAsync(ExchangePhase phase, CancellationToken cancellationToken)
    {
        var socket = endpoint.IsUnix
            ? new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified)
            : new Socket(endpoint.EndPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            phase.Name = "connect";
            using var connectDeadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            connectDeadline.CancelAfter(options.ConnectTimeout);
            phase.IsConnecting = true;
            await socket.ConnectAsync(endpoint.EndPoint, connectDeadline.Token).ConfigureAwait(false);
            phase.IsConnecting = false;
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    // Reads to the end of the stream (prompts: 0, non-interactive) or until that many "\n> " prompts were seen.
    public static async Task<string> ReadAsync(Socket socket, int prompts, CancellationToken cancellationToken)
    {
        var answer = new PooledBuffer();
        try
        {
            int end = await ReadIntoAsync(socket, answer, prompts, cancellationToken).ConfigureAwait(false);
            return Encoding.UTF8.GetString(answer.Bytes[..end]);
        }
        finally
        {
            answer.Dispose();
        }
    }

    /// <summary>
    /// Reads an interactive exchange of <paramref name="prompts"/> commands and returns each command's answer (the text
    /// before its prompt, up to its first empty line). Cut in bytes before decoding ('\n' is never part of a UTF-8
    /// sequence): one string per answer, and the read buffer is pooled (a show stat of 10,000 backends is ~6 MB).
    /// </summary>
    public static async Task<List<string>> ReadAnswersAsync(Socket socket, int prompts, CancellationToken cancellationToken)
    {
        var buffer = new PooledBuffer();
        try
        {
            int end = await ReadIntoAsync(socket, buffer, prompts, cancellationToken).ConfigureAwait(false);
            ReadOnlySpan<byte> rest = buffer.Bytes[..end];
            var answers = new List<string>(prompts);
            while (answers.Count < prompts)
            {
                int prompt = rest.IndexOf(PromptBytes);
                answers.Add(FirstAnswer(prompt < 0 ? rest : rest[..prompt]));
                if (prompt < 0)
                {
                    break;
                }

                rest = rest[(prompt + PromptBytes.Length)..];
            }

            return answers;
        }
        finally
        {
            buffer.Dispose();
        }
    }

    // The first answer of a command's output: its lines up to the first empty one.
    private static string FirstAnswer(ReadOnlySpan<byte> output)
    {
        if (output.IsEmpty || output[0] == (byte)'\n')
        {
            return "";
        }

        int blank = output.IndexOf("\n\n"u8);
        return Encoding.UTF8.GetString(blank >= 0 ? output[..blank] : output[^1] == (byte)'\n' ? output[..^1] : output);
    }

    // Reads until the end of the stream (prompts: 0) or until that many prompts were seen; returns the bytes read.
    private static async Task<int> ReadIntoAsync(Socket socket, PooledBuffer answer, int prompts, CancellationToken cancellationToken)
    {
        int seen = 0;
        while (true)
        {
            Memory<byte> free = answer.Free(16 * 1024);
            int read = await socket.ReceiveAsync(free, SocketFlags.None, cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                return prompts > 0 ? throw new IOException("HAProxy closed the session") : answer.Length;
            }

            // Count prompts in the new bytes, including one that straddles the previous read.
            int from = Math.Max(0, answer.Length - 2);
            answer.Length += read;
            ReadOnlySpan<byte> data = answer.Bytes[..answer.Length];
            for (int i = data[from..].IndexOf(PromptBytes); i >= 0 && prompts > 0; i = data[from..].IndexOf(PromptBytes))
            {
                seen++;
                from += i + PromptBytes.Length;
            }

            if (prompts > 0 && seen >= prompts)
            {
                return answer.Length;
            }
        }
    }

    /// <summary>The error to report for <paramref name="e"/>, or <see langword="null"/> to let it through (the caller's cancellation, a bug).</summary>
    public HaproxyControlException? Translate(Exception e, ExchangePhase phase, string command, CancellationToken cancellationToken) => e switch
    {
        OperationCanceledException when !cancellationToken.IsCancellationRequested => new HaproxyControlException(
            HaproxyErrorKind.Timeout, Endpoint, command,
            $"no answer within {(phase.IsConnecting ? options.ConnectTimeout : options.Timeout).TotalSeconds:0.###} s (while trying to {phase.Name})"),
        SocketException or IOException => new HaproxyControlException(HaproxyErrorKind.ConnectionFailed, Endpoint, command, $"cannot {phase.Name}: {Describe(e, phase)}", e),
        _ => null,
    };

    // The OS words for a missing UNIX socket file ("Cannot assign requested address", from ENOENT) send operators
    // looking for an IP address problem.
    private string Describe(Exception e, ExchangePhase phase) => (e as SocketException)?.SocketErrorCode switch
    {
        SocketError.AddressNotAvailable when phase.IsConnecting && endpoint.IsUnix => "no such socket file",
        SocketError.ConnectionRefused when phase.IsConnecting => "connection refused",
        SocketError.AccessDenied when phase.IsConnecting => "permission denied",
        _ => e.Message,
    };
}

/// <summary>What an exchange was doing, so that a failure can say it.</summary>
internal sealed class ExchangePhase
{
    public string Name { get; set; } = "connect";

    public bool IsConnecting { get; set; }
}

/// <summary>A growable byte buffer rented from the shared pool (a large answer's buffer is reused, not reallocated).</summary>
internal sealed class PooledBuffer : IDisposable
{
    private byte[] _array = ArrayPool<byte>.Shared.Rent(16 * 1024);

    public int Length { get; set; }

    public Span<byte> Bytes => _array;

    /// <summary>Room for at least <paramref name="size"/> more bytes after <see cref="Length"/>.</summary>
    public Memory<byte> Free(int size)
    {
        if (_array.Length - Length < size)
        {
            byte[] larger = ArrayPool<byte>.Shared.Rent(Math.Max(_array.Length * 2, Length + size));
            _array.AsSpan(0, Length).CopyTo(larger);
            ArrayPool<byte>.Shared.Return(_array);
            _array = larger;
        }

        return _array.AsMemory(Length);
    }

    public void Dispose() => ArrayPool<byte>.Shared.Return(_array);
}

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
        using var answer = new MemoryStream();
        byte[] buffer = ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            int seen = 0;
            while (true)
            {
                int read = await socket.ReceiveAsync(buffer, SocketFlags.None, cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    return prompts > 0
                        ? throw new IOException("HAProxy closed the session")
                        : Encoding.UTF8.GetString(answer.GetBuffer(), 0, (int)answer.Length);
                }

                // Count prompts in the new bytes, including one that straddles the previous read.
                int from = (int)Math.Max(0, answer.Length - 2);
                answer.Write(buffer, 0, read);
                ReadOnlySpan<byte> data = answer.GetBuffer().AsSpan(0, (int)answer.Length);
                for (int i = data[from..].IndexOf(PromptBytes); i >= 0 && prompts > 0; i = data[from..].IndexOf(PromptBytes))
                {
                    seen++;
                    from += i + PromptBytes.Length;
                }

                if (prompts > 0 && seen >= prompts)
                {
                    return Encoding.UTF8.GetString(data);
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
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

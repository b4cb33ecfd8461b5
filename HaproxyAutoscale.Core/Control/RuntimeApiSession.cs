using System.Net.Sockets;
using System.Text;

namespace HaproxyAutoscale.Control;

/// <summary>
/// One interactive (<c>prompt</c>) Runtime API session, kept open and used by one exchange at a time. A session HAProxy
/// closed meanwhile (idle timeout, restart), or left on a worker a reload is stopping, is reopened and the command
/// sent once more: every command we send is idempotent.
/// </summary>
internal sealed class RuntimeApiSession(RuntimeApiConnector connector, HaproxyControlOptions options) : IAsyncDisposable
{
    private readonly SemaphoreSlim _lock = new(1, 1);
    private Socket? _socket;

    /// <summary>Sends <paramref name="joined"/> (<paramref name="count"/> commands joined by ';') and returns each command's answer.</summary>
    public Task<List<string>> ExchangeAsync(string joined, int count, CancellationToken cancellationToken) =>
        RunAsync(
            joined,
            (socket, token) => RuntimeApiConnector.ReadAnswersAsync(socket, prompts: count, token), // every answer is followed by its own prompt
            answers => answers.Exists(FromStoppingWorker),
            resendable: () => true,
            cancellationToken);

    /// <summary>
    /// Sends one read command and hands its answer to <paramref name="lines"/> as it is read; returns the answer instead
    /// when it carries a severity prefix (see <see cref="RuntimeApiStream"/>).
    /// </summary>
    public Task<string?> StreamAsync(string command, IAnswerLines lines, CancellationToken cancellationToken)
    {
        var counted = new CountedLines(lines);
        return RunAsync(
            command,
            (socket, token) => RuntimeApiStream.ReadAsync(socket, interactive: true, counted, token),
            prefixed => prefixed is not null && FromStoppingWorker(prefixed),
            resendable: () => !counted.Any, // lines already taken cannot be taken back
            cancellationToken);
    }

    private async Task<T> RunAsync<T>(string joined, Func<Socket, CancellationToken, Task<T>> read, Func<T, bool> fromStoppingWorker, Func<bool> resendable, CancellationToken cancellationToken)
    {
        await _lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            for (int attempt = 0; ; attempt++)
            {
                bool reused = _socket is not null;
                using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                deadline.CancelAfter(options.Timeout);
                var phase = new ExchangePhase();
                try
                {
                    _socket ??= await OpenAsync(phase, deadline.Token).ConfigureAwait(false);
                    phase.Name = "send";
                    await _socket.SendAsync(Encoding.ASCII.GetBytes(joined + "\n"), SocketFlags.None, deadline.Token).ConfigureAwait(false);
                    phase.Name = "read the answer";
                    T answer = await read(_socket, deadline.Token).ConfigureAwait(false);
                    if (reused && attempt == 0 && fromStoppingWorker(answer))
                    {
                        Drop(); // a reload left this session on the old worker: the new one has the socket
                        continue;
                    }

                    return answer;
                }
                catch (Exception e) when (e is SocketException or IOException && reused && attempt == 0 && resendable())
                {
                    Drop();
                }
                catch (Exception e) when (connector.Translate(e, phase, joined, cancellationToken) is { } error)
                {
                    Drop(); // its state is unknown after a timeout or a broken exchange
                    throw error;
                }
                catch
                {
                    Drop(); // an answer's reader failed part-way (or the caller cancelled): the rest is still unread
                    throw;
                }
            }
        }
        finally
        {
            _lock.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _lock.WaitAsync().ConfigureAwait(false);
        try
        {
            Drop();
        }
        finally
        {
            _lock.Release();
        }
    }

    private async Task<Socket> OpenAsync(ExchangePhase phase, CancellationToken cancellationToken)
    {
        Socket socket = await connector.ConnectAsync(phase, cancellationToken).ConfigureAwait(false);
        try
        {
            phase.Name = "start an interactive session";
            foreach (string command in new[] { "prompt", RuntimeApiConnector.SeverityCommand })
            {
                await socket.SendAsync(Encoding.ASCII.GetBytes(command + "\n"), SocketFlags.None, cancellationToken).ConfigureAwait(false);
                await RuntimeApiConnector.ReadAsync(socket, prompts: 1, cancellationToken).ConfigureAwait(false);
            }

            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    // A master-worker reload (SIGUSR2, systemctl reload) does not close the old worker's CLI sessions: a session kept
    // open stays on the stopping worker (show info says Stopping: 1, its proxies answer "Proxy is disabled.") and
    // keeps it alive for as long as it is used.
    private static bool FromStoppingWorker(string answer) =>
        answer.Contains("\nStopping: 1", StringComparison.Ordinal) || answer.Contains("Proxy is disabled.", StringComparison.Ordinal);

    private void Drop()
    {
        _socket?.Dispose();
        _socket = null;
    }

    // Whether any line was handed over.
    private sealed class CountedLines(IAnswerLines inner) : IAnswerLines
    {
        public bool Any { get; private set; }

        public void Take(ReadOnlySpan<char> line)
        {
            Any = true;
            inner.Take(line);
        }

        public void End() => inner.End();
    }
}

using System.Buffers;
using System.Net.Sockets;
using System.Text;

namespace HaproxyAutoscale.Control;

/// <summary>
/// The Runtime API over one stats socket, UNIX or TCP alike. Errors are told apart from data by
/// <c>set severity-output number</c> (<c>[3]: …</c>). Two ways to talk, chosen by <see cref="HaproxyControlOptions.Persistent"/>:
/// one connection per exchange in non-interactive mode (HAProxy closes it after answering), or one interactive
/// <c>prompt</c> session kept open and used by one exchange at a time, reopened when HAProxy closed it.
/// </summary>
internal sealed class SocketHaproxyControl : IHaproxyControl
{
    // HAProxy 2.6 never answers a line longer than bufsize - maxrewrite (15,360 bytes) and keeps the CLI session
    // open forever; stay well below.
    private const int MaxLineLength = 8 * 1024;
    private const string SeverityCommand = "set severity-output number";
    private const string Prompt = "\n> ";

    private static ReadOnlySpan<byte> PromptBytes => "\n> "u8;

    private readonly HaproxyEndpoint _endpoint;
    private readonly HaproxyControlOptions _options;
    private readonly SemaphoreSlim _sessionLock = new(1, 1);
    private Socket? _session;

    public SocketHaproxyControl(HaproxyEndpoint endpoint, HaproxyControlOptions options)
    {
        _endpoint = endpoint;
        _options = options;
    }

    public string Endpoint => _endpoint.Address;

    public async Task<string> ExecuteAsync(string command, CancellationToken cancellationToken = default)
    {
        CommandResult result = (await ExecuteBatchAsync([command], cancellationToken).ConfigureAwait(false))[0];
        return result.Error is { } error ? throw error : result.Answer;
    }

    public async Task<IReadOnlyList<CommandResult>> ExecuteBatchAsync(IReadOnlyList<string> commands, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(commands);
        string joined = string.Join(';', commands);
        foreach (string command in commands)
        {
            // Every ';' or line would be run by HAProxy as one more command; a trailing "<<" starts a payload.
            if (command.Length == 0 || command.AsSpan().IndexOfAny(";\r\n") >= 0 || command.TrimEnd().EndsWith("<<", StringComparison.Ordinal))
            {
                throw new HaproxyControlException(HaproxyErrorKind.InvalidArgument, Endpoint, command, "a command must be one non-empty line without ';' or a trailing '<<' (nothing was sent)");
            }
        }

        if (joined.Length + SeverityCommand.Length + 2 > MaxLineLength)
        {
            throw new HaproxyControlException(HaproxyErrorKind.InvalidArgument, Endpoint, joined, $"the command line is longer than {MaxLineLength} bytes (nothing was sent)");
        }

        List<string> answers = _options.Persistent
            ? await ExchangeInSessionAsync(joined, commands.Count, cancellationToken).ConfigureAwait(false)
            : await ExchangeOnceAsync(joined, cancellationToken).ConfigureAwait(false);

        // HAProxy may omit the last terminator on some errors, never a whole answer.
        if (answers.Count < commands.Count)
        {
            throw new HaproxyControlException(HaproxyErrorKind.UnexpectedAnswer, Endpoint, joined, $"expected {commands.Count} answers, got: {string.Join(" | ", answers)}");
        }

        var results = new CommandResult[commands.Count];
        for (int i = 0; i < commands.Count; i++)
        {
            results[i] = new CommandResult(commands[i], answers[i], ClassifyError(commands[i], answers[i]));
        }

        return results;
    }

    public async ValueTask DisposeAsync()
    {
        await _sessionLock.WaitAsync().ConfigureAwait(false);
        try
        {
            _session?.Dispose();
            _session = null;
        }
        finally
        {
            _sessionLock.Release();
        }
    }

    // Non-interactive: "set severity-output number;cmd1;cmd2\n", then HAProxy answers and closes.
    private async Task<List<string>> ExchangeOnceAsync(string joined, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(_options.Timeout);
        var phase = new Phase();
        try
        {
            using Socket socket = await ConnectAsync(phase, deadline.Token).ConfigureAwait(false);
            phase.Name = "send";
            await socket.SendAsync(Encoding.ASCII.GetBytes($"{SeverityCommand};{joined}\n"), SocketFlags.None, deadline.Token).ConfigureAwait(false);
            phase.Name = "read the answer";
            string response = await ReadAsync(socket, prompts: 0, deadline.Token).ConfigureAwait(false);
            List<string> answers = SplitAnswers(response);
            return answers.Count > 0 ? answers.GetRange(1, answers.Count - 1) : answers; // the first is severity-output's
        }
        catch (Exception e) when (Translate(e, phase, joined, cancellationToken) is { } error)
        {
            throw error;
        }
    }

    // Interactive: one session, one exchange at a time. A session HAProxy closed meanwhile (idle timeout, reload) is
    // reopened and the command sent once more: every command we send is idempotent.
    private async Task<List<string>> ExchangeInSessionAsync(string joined, int count, CancellationToken cancellationToken)
    {
        await _sessionLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            for (int attempt = 0; ; attempt++)
            {
                bool reused = _session is not null;
                using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                deadline.CancelAfter(_options.Timeout);
                var phase = new Phase();
                try
                {
                    _session ??= await OpenSessionAsync(phase, deadline.Token).ConfigureAwait(false);
                    phase.Name = "send";
                    await _session.SendAsync(Encoding.ASCII.GetBytes(joined + "\n"), SocketFlags.None, deadline.Token).ConfigureAwait(false);
                    phase.Name = "read the answer";
                    // In interactive mode every command's answer is followed by its own prompt.
                    string response = await ReadAsync(_session, prompts: count, deadline.Token).ConfigureAwait(false);
                    return [.. response.Split(Prompt).Take(count).Select(answer => SplitAnswers(answer) is [var first, ..] ? first : "")];
                }
                catch (Exception e) when (e is SocketException or IOException && reused && attempt == 0)
                {
                    DropSession();
                }
                catch (Exception e) when (Translate(e, phase, joined, cancellationToken) is { } error)
                {
                    DropSession(); // its state is unknown after a timeout or a broken exchange
                    throw error;
                }
            }
        }
        finally
        {
            _sessionLock.Release();
        }
    }

    private async Task<Socket> OpenSessionAsync(Phase phase, CancellationToken cancellationToken)
    {
        Socket socket = await ConnectAsync(phase, cancellationToken).ConfigureAwait(false);
        try
        {
            phase.Name = "start an interactive session";
            foreach (string command in new[] { "prompt", SeverityCommand })
            {
                await socket.SendAsync(Encoding.ASCII.GetBytes(command + "\n"), SocketFlags.None, cancellationToken).ConfigureAwait(false);
                await ReadAsync(socket, prompts: 1, cancellationToken).ConfigureAwait(false);
            }

            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private async Task<Socket> ConnectAsync(Phase phase, CancellationToken cancellationToken)
    {
        var socket = _endpoint.IsUnix
            ? new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified)
            : new Socket(_endpoint.EndPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            phase.Name = "connect";
            using var connectDeadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            connectDeadline.CancelAfter(_options.ConnectTimeout);
            phase.IsConnecting = true;
            await socket.ConnectAsync(_endpoint.EndPoint, connectDeadline.Token).ConfigureAwait(false);
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
    private static async Task<string> ReadAsync(Socket socket, int prompts, CancellationToken cancellationToken)
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

    private HaproxyControlException? Translate(Exception e, Phase phase, string command, CancellationToken cancellationToken) => e switch
    {
        OperationCanceledException when !cancellationToken.IsCancellationRequested => new HaproxyControlException(
            HaproxyErrorKind.Timeout, Endpoint, command,
            $"no answer within {(phase.IsConnecting ? _options.ConnectTimeout : _options.Timeout).TotalSeconds:0.###} s (while trying to {phase.Name})"),
        SocketException or IOException => new HaproxyControlException(HaproxyErrorKind.ConnectionFailed, Endpoint, command, $"cannot {phase.Name}: {Describe(e, phase)}", e),
        _ => null,
    };

    // The OS words for a missing UNIX socket file ("Cannot assign requested address", from ENOENT) send operators
    // looking for an IP address problem.
    private string Describe(Exception e, Phase phase) => (e as SocketException)?.SocketErrorCode switch
    {
        SocketError.AddressNotAvailable when phase.IsConnecting && _endpoint.IsUnix => "no such socket file",
        SocketError.ConnectionRefused when phase.IsConnecting => "connection refused",
        SocketError.AccessDenied when phase.IsConnecting => "permission denied",
        _ => e.Message,
    };

    private void DropSession()
    {
        _session?.Dispose();
        _session = null;
    }

    private sealed class Phase
    {
        public string Name { get; set; } = "connect";

        public bool IsConnecting { get; set; }
    }

    // Each command's answer ends with an empty line.
    private static List<string> SplitAnswers(string response)
    {
        var answers = new List<string>();
        var current = new StringBuilder();
        foreach (string line in response.Split('\n'))
        {
            if (line.Length == 0)
            {
                answers.Add(current.ToString());
                current.Clear();
            }
            else
            {
                current.Append(current.Length > 0 ? "\n" : "").Append(line);
            }
        }

        if (current.Length > 0)
        {
            answers.Add(current.ToString());
        }

        return answers;
    }

    private HaproxyControlException? ClassifyError(string command, string answer)
    {
        // Errors carry "[0]:" to "[3]:"; "Unknown command" comes as "[6]:"; data is never prefixed.
        if (answer.Length < 5 || answer[0] != '[' || answer[2] != ']' || answer[3] != ':')
        {
            return null;
        }

        string text = answer[4..].Trim();
        char severity = answer[1];
        HaproxyErrorKind? kind = text switch
        {
            _ when text.StartsWith("Unknown command", StringComparison.Ordinal) => HaproxyErrorKind.UnknownCommand,
            _ when severity > '3' => null, // warnings and notices
            "No such backend." or "Can't find backend." => HaproxyErrorKind.UnknownBackend,
            "No such server." => HaproxyErrorKind.UnknownServer,
            _ when text.StartsWith("Permission denied", StringComparison.Ordinal) => HaproxyErrorKind.PermissionDenied,
            _ => HaproxyErrorKind.InvalidArgument,
        };
        return kind is { } k ? new HaproxyControlException(k, Endpoint, command, text.Split('\n')[0]) : null;
    }
}

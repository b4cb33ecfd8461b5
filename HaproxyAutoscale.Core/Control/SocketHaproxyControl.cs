using System.Net.Sockets;
using System.Text;

namespace HaproxyAutoscale.Control;

/// <summary>
/// The Runtime API over one stats socket, UNIX or TCP alike: one connection per exchange in non-interactive mode,
/// every exchange prefixed with <c>set severity-output number</c> so that errors (<c>[3]: …</c>) are told apart from
/// data reliably, the answer read to the end of the stream under a deadline.
/// </summary>
internal sealed class SocketHaproxyControl : IHaproxyControl
{
    // HAProxy 2.6 never answers a line longer than bufsize - maxrewrite (15,360 bytes) and keeps the CLI session
    // open forever; stay well below.
    private const int MaxLineLength = 8 * 1024;
    private const string SeverityPrefix = "set severity-output number";

    private readonly HaproxyEndpoint _endpoint;
    private readonly HaproxyControlOptions _options;

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
            if (command.AsSpan().IndexOfAny(";\r\n") >= 0 || command.Length == 0)
            {
                throw new HaproxyControlException(HaproxyErrorKind.InvalidArgument, Endpoint, command, "a command must be one non-empty line without ';' (nothing was sent)");
            }
        }

        string line = $"{SeverityPrefix};{joined}\n";
        if (line.Length > MaxLineLength)
        {
            throw new HaproxyControlException(HaproxyErrorKind.InvalidArgument, Endpoint, joined, $"the command line is longer than {MaxLineLength} bytes (nothing was sent)");
        }

        string response = await ExchangeAsync(line, joined, cancellationToken).ConfigureAwait(false);
        List<string> answers = SplitAnswers(response);

        // The first answer belongs to "set severity-output"; HAProxy may omit the last terminator on some errors.
        if (answers.Count < commands.Count + 1)
        {
            throw new HaproxyControlException(HaproxyErrorKind.UnexpectedAnswer, Endpoint, joined, $"expected {commands.Count + 1} answers, got: {response.Trim()}");
        }

        var results = new CommandResult[commands.Count];
        for (int i = 0; i < commands.Count; i++)
        {
            string answer = answers[i + 1];
            results[i] = new CommandResult(commands[i], answer, ClassifyError(commands[i], answer));
        }

        return results;
    }

    private async Task<string> ExchangeAsync(string line, string command, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(_options.Timeout);
        using var socket = _endpoint.IsUnix
            ? new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified)
            : new Socket(_endpoint.EndPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        string phase = "connect";
        try
        {
            using (var connectDeadline = CancellationTokenSource.CreateLinkedTokenSource(deadline.Token))
            {
                connectDeadline.CancelAfter(_options.ConnectTimeout);
                await socket.ConnectAsync(_endpoint.EndPoint, connectDeadline.Token).ConfigureAwait(false);
            }

            phase = "send";
            byte[] request = Encoding.ASCII.GetBytes(line);
            await socket.SendAsync(request, SocketFlags.None, deadline.Token).ConfigureAwait(false);

            // Non-interactive mode: HAProxy closes the connection after the last answer.
            phase = "read the answer";
            using var answer = new MemoryStream();
            byte[] buffer = new byte[16 * 1024];
            while (true)
            {
                int read = await socket.ReceiveAsync(buffer, SocketFlags.None, deadline.Token).ConfigureAwait(false);
                if (read == 0)
                {
                    break;
                }

                answer.Write(buffer, 0, read);
            }

            return Encoding.UTF8.GetString(answer.GetBuffer(), 0, (int)answer.Length);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            TimeSpan limit = phase == "connect" ? _options.ConnectTimeout : _options.Timeout;
            throw new HaproxyControlException(HaproxyErrorKind.Timeout, Endpoint, command, $"no answer within {limit.TotalSeconds:0.###} s (while trying to {phase})");
        }
        catch (SocketException e)
        {
            throw new HaproxyControlException(HaproxyErrorKind.ConnectionFailed, Endpoint, command, $"cannot {phase}: {e.Message}", e);
        }
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
            "No such backend." => HaproxyErrorKind.UnknownBackend,
            "No such server." => HaproxyErrorKind.UnknownServer,
            _ when text.StartsWith("Permission denied", StringComparison.Ordinal) => HaproxyErrorKind.PermissionDenied,
            _ => HaproxyErrorKind.InvalidArgument,
        };
        return kind is { } k ? new HaproxyControlException(k, Endpoint, command, text.Split('\n')[0]) : null;
    }
}

using System.Net.Sockets;
using System.Text;

namespace HaproxyAutoscale.Control;

/// <summary>
/// The Runtime API over one stats socket, UNIX or TCP alike. Errors are told apart from data by
/// <c>set severity-output number</c> (<c>[3]: …</c>). Two ways to talk, chosen by <see cref="HaproxyControlOptions.Persistent"/>:
/// one connection per exchange in non-interactive mode (HAProxy closes it after answering), or one interactive
/// <c>prompt</c> session kept open and used by one exchange at a time, reopened when HAProxy closed it.
/// </summary>
internal sealed class SocketHaproxyControl : IHaproxyControl, IAnswerLinesControl
{
    // HAProxy 2.6 never answers a line longer than bufsize - maxrewrite (15,360 bytes) and keeps the CLI session
    // open forever; stay well below.
    private const int MaxLineLength = 8 * 1024;

    private readonly HaproxyControlOptions _options;
    private readonly RuntimeApiConnector _connector;
    private readonly RuntimeApiSession _session;

    public SocketHaproxyControl(HaproxyEndpoint endpoint, HaproxyControlOptions options)
    {
        _options = options;
        _connector = new RuntimeApiConnector(endpoint, options);
        _session = new RuntimeApiSession(_connector, options);
    }

    public string Endpoint => _connector.Endpoint;

    public async Task<string> ExecuteAsync(string command, CancellationToken cancellationToken = default)
    {
        CommandResult result = (await ExecuteBatchAsync([command], cancellationToken).ConfigureAwait(false))[0];
        return result.Error is { } error ? throw error : result.Answer;
    }

    public async Task<IReadOnlyList<CommandResult>> ExecuteBatchAsync(IReadOnlyList<string> commands, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(commands);
        string joined = Checked(commands);
        List<string> answers = _options.Persistent
            ? await _session.ExchangeAsync(joined, commands.Count, cancellationToken).ConfigureAwait(false)
            : await ExchangeOnceAsync(joined, cancellationToken).ConfigureAwait(false);

        // HAProxy may omit the last terminator on some errors, never a whole answer.
        if (answers.Count < commands.Count)
        {
            throw new HaproxyControlException(HaproxyErrorKind.UnexpectedAnswer, Endpoint, joined, $"expected {commands.Count} answers, got: {string.Join(" | ", answers)}");
        }

        var results = new CommandResult[commands.Count];
        for (int i = 0; i < commands.Count; i++)
        {
            results[i] = new CommandResult(commands[i], answers[i], RuntimeApiAnswers.Classify(Endpoint, commands[i], answers[i]));
        }

        return results;
    }

    public async Task ReadLinesAsync(string command, IAnswerLines lines, CancellationToken cancellationToken)
    {
        Checked([command]);
        string? prefixed = _options.Persistent
            ? await _session.StreamAsync(command, lines, cancellationToken).ConfigureAwait(false)
            : await StreamOnceAsync(command, lines, cancellationToken).ConfigureAwait(false);
        if (prefixed is not null)
        {
            // An error answer throws as ExecuteAsync's does; a notice or warning is data.
            AnswerLinesExtensions.TakeAll(lines, RuntimeApiAnswers.Classify(Endpoint, command, prefixed) is { } error ? throw error : prefixed);
        }
    }

    public ValueTask DisposeAsync() => _session.DisposeAsync();

    // The commands joined by ';', once each is known to be one command.
    private string Checked(IReadOnlyList<string> commands)
    {
        string joined = string.Join(';', commands);
        foreach (string command in commands)
        {
            // Every ';' or line would be run by HAProxy as one more command; a trailing "<<" starts a payload.
            if (command.Length == 0 || command.AsSpan().IndexOfAny(";\r\n") >= 0 || command.TrimEnd().EndsWith("<<", StringComparison.Ordinal))
            {
                throw new HaproxyControlException(HaproxyErrorKind.InvalidArgument, Endpoint, command, "a command must be one non-empty line without ';' or a trailing '<<' (nothing was sent)");
            }
        }

        return joined.Length + RuntimeApiConnector.SeverityCommand.Length + 2 > MaxLineLength
            ? throw new HaproxyControlException(HaproxyErrorKind.InvalidArgument, Endpoint, joined, $"the command line is longer than {MaxLineLength} bytes (nothing was sent)")
            : joined;
    }

    // Non-interactive: "set severity-output number;cmd1;cmd2\n", then HAProxy answers and closes.
    private Task<List<string>> ExchangeOnceAsync(string joined, CancellationToken cancellationToken) =>
        OnceAsync(joined, async (socket, token) =>
        {
            List<string> answers = RuntimeApiAnswers.Split(await RuntimeApiConnector.ReadAsync(socket, prompts: 0, token).ConfigureAwait(false));
            return answers.Count > 0 ? answers.GetRange(1, answers.Count - 1) : answers; // the first is severity-output's
        }, cancellationToken);

    private Task<string?> StreamOnceAsync(string command, IAnswerLines lines, CancellationToken cancellationToken) =>
        OnceAsync(command, (socket, token) => RuntimeApiStream.ReadAsync(socket, interactive: false, lines, token), cancellationToken);

    private async Task<T> OnceAsync<T>(string joined, Func<Socket, CancellationToken, Task<T>> read, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(_options.Timeout);
        var phase = new ExchangePhase();
        try
        {
            using Socket socket = await _connector.ConnectAsync(phase, deadline.Token).ConfigureAwait(false);
            phase.Name = "send";
            await socket.SendAsync(Encoding.ASCII.GetBytes($"{RuntimeApiConnector.SeverityCommand};{joined}\n"), SocketFlags.None, deadline.Token).ConfigureAwait(false);
            phase.Name = "read the answer";
            return await read(socket, deadline.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (_connector.Translate(e, phase, joined, cancellationToken) is { } error)
        {
            throw error;
        }
    }
}

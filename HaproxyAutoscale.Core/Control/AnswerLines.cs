namespace HaproxyAutoscale.Control;

/// <summary>
/// Takes a read command's answer one line at a time, as it is read: at 10,000 backends a <c>show stat</c> answer is
/// ~6 MB and a <c>show servers state</c> one ~10 MB, never held whole (see <see cref="IAnswerLinesControl"/>).
/// </summary>
internal interface IAnswerLines
{
    /// <summary>The answer's next non-empty line (the span is valid during the call only).</summary>
    void Take(ReadOnlySpan<char> line);

    /// <summary>The answer ended (it may be empty: a reader that needs a header line throws here).</summary>
    void End();
}

/// <summary>The name a row's span stands for, without a new string; <see langword="null"/> for a row not wanted.</summary>
internal delegate string? RowNames(ReadOnlySpan<char> name);

/// <summary>The name a row's server span stands for in <paramref name="backend"/>, without a new string; <see langword="null"/> for a row not wanted.</summary>
internal delegate string? RowServerNames(string backend, ReadOnlySpan<char> server);

/// <summary>A control that hands a read command's answer over line by line from its read buffer.</summary>
internal interface IAnswerLinesControl
{
    /// <summary>
    /// Runs <paramref name="command"/> (a <c>show</c> command) and hands its answer to <paramref name="lines"/> as it
    /// is read; an error answer throws <see cref="HaproxyControlException"/> as <see cref="IHaproxyControl.ExecuteAsync"/> does.
    /// </summary>
    Task ReadLinesAsync(string command, IAnswerLines lines, CancellationToken cancellationToken);
}

/// <summary>Reading an answer line by line from any control.</summary>
internal static class AnswerLinesExtensions
{
    /// <summary>
    /// Streams the answer when the control can (the socket control, and the dry-run and leader wrappers around it);
    /// any other control's string answer is cut into the same lines.
    /// </summary>
    public static async Task ReadLinesAsync(this IHaproxyControl control, string command, IAnswerLines lines, CancellationToken cancellationToken)
    {
        if (control is IAnswerLinesControl streaming)
        {
            await streaming.ReadLinesAsync(command, lines, cancellationToken).ConfigureAwait(false);
            return;
        }

        await FromAnswerAsync(control, command, lines, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Runs <paramref name="command"/> through <see cref="IHaproxyControl.ExecuteAsync"/> and cuts its answer into lines.</summary>
    public static async Task FromAnswerAsync(IHaproxyControl control, string command, IAnswerLines lines, CancellationToken cancellationToken) =>
        TakeAll(lines, await control.ExecuteAsync(command, cancellationToken).ConfigureAwait(false));

    /// <summary>Hands every non-empty line of <paramref name="answer"/> to <paramref name="lines"/>, then ends it.</summary>
    public static void TakeAll(IAnswerLines lines, string answer)
    {
        ReadOnlySpan<char> rest = answer;
        while (!rest.IsEmpty)
        {
            int newline = rest.IndexOf('\n');
            ReadOnlySpan<char> line = newline < 0 ? rest : rest[..newline];
            if (!line.IsEmpty)
            {
                lines.Take(line);
            }

            rest = newline < 0 ? [] : rest[(newline + 1)..];
        }

        lines.End();
    }
}

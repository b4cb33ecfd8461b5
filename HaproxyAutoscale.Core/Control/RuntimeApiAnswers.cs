namespace HaproxyAutoscale.Control;

/// <summary>Cuts a Runtime API response into each command's answer and tells an error answer from data.</summary>
internal static class RuntimeApiAnswers
{
    /// <summary>The answers in <paramref name="response"/>: each command's answer ends with an empty line.</summary>
    public static List<string> Split(string response)
    {
        // An answer is a run of non-empty lines: the run's own text (a show stat of 10,000 rows is cut once, not per line).
        var answers = new List<string>();
        int run = -1;
        for (int start = 0; ; )
        {
            int newline = response.IndexOf('\n', start);
            int end = newline < 0 ? response.Length : newline;
            if (end == start)
            {
                answers.Add(run < 0 ? "" : response[run..(start - 1)]);
                run = -1;
            }
            else if (run < 0)
            {
                run = start;
            }

            if (newline < 0)
            {
                break;
            }

            start = newline + 1;
        }

        if (run >= 0)
        {
            answers.Add(response[run..]);
        }

        return answers;
    }

    /// <summary>The error <paramref name="answer"/> reports (severity-prefixed, see <see cref="RuntimeApiConnector.SeverityCommand"/>), or <see langword="null"/> for data.</summary>
    public static HaproxyControlException? Classify(string endpoint, string command, string answer)
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
            "No such backend." or "Can't find backend." or "No such proxy." => HaproxyErrorKind.UnknownBackend,
            "No such server." => HaproxyErrorKind.UnknownServer,
            _ when text.StartsWith("Permission denied", StringComparison.Ordinal) => HaproxyErrorKind.PermissionDenied,
            _ => HaproxyErrorKind.InvalidArgument,
        };
        return kind is { } k ? new HaproxyControlException(k, endpoint, command, text.Split('\n')[0]) : null;
    }
}

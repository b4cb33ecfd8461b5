using System.Text;

namespace HaproxyAutoscale.Control;

/// <summary>Cuts a Runtime API response into each command's answer and tells an error answer from data.</summary>
internal static class RuntimeApiAnswers
{
    /// <summary>The answers in <paramref name="response"/>: each command's answer ends with an empty line.</summary>
    public static List<string> Split(string response)
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
            "No such backend." or "Can't find backend." => HaproxyErrorKind.UnknownBackend,
            "No such server." => HaproxyErrorKind.UnknownServer,
            _ when text.StartsWith("Permission denied", StringComparison.Ordinal) => HaproxyErrorKind.PermissionDenied,
            _ => HaproxyErrorKind.InvalidArgument,
        };
        return kind is { } k ? new HaproxyControlException(k, endpoint, command, text.Split('\n')[0]) : null;
    }
}

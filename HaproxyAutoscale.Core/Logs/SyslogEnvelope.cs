namespace HaproxyAutoscale.Logs;

/// <summary>
/// Finds where HAProxy's log body starts inside whatever syslog envelope carried it: RFC3164 over UDP (no host),
/// RFC3164 as rsyslog writes it to a file (no PRI, host present), RFC5424, <c>short</c>/<c>priority</c>,
/// <c>iso</c>/<c>timed</c>, or no envelope at all (<c>raw</c>, <c>log stdout</c>). Detected per line.
/// </summary>
internal static class SyslogEnvelope
{
    /// <summary>Returns the offset of the body, or -1 when the envelope is malformed.</summary>
    public static int FindBody(ReadOnlySpan<byte> line)
    {
        int pos = 0;
        if (line.Length > 2 && line[0] == (byte)'<')
        {
            int close = line[..Math.Min(line.Length, 6)].IndexOf((byte)'>');
            if (close < 2 || !AllDigits(line[1..close]))
            {
                return -1;
            }

            pos = close + 1;
            if (line.Length > pos + 1 && line[pos] == (byte)'1' && line[pos + 1] == (byte)' ')
            {
                return SkipRfc5424Header(line, pos + 2);
            }
        }

        ReadOnlySpan<byte> rest = line[pos..];
        if (IsRfc3164Timestamp(rest))
        {
            return SkipHostAndTag(line, pos + 16);
        }

        if (IsIsoTimestampStart(rest))
        {
            int space = rest.IndexOf((byte)' ');
            return space < 0 ? -1 : SkipHostAndTag(line, pos + space + 1);
        }

        return pos;
    }

    // "1 TIMESTAMP HOST APP PROCID MSGID SD MSG": five space-separated fields, then structured data.
    private static int SkipRfc5424Header(ReadOnlySpan<byte> line, int pos)
    {
        for (int field = 0; field < 5; field++)
        {
            int space = line[pos..].IndexOf((byte)' ');
            if (space < 0)
            {
                return -1;
            }

            pos += space + 1;
        }

        if (pos >= line.Length)
        {
            return -1;
        }

        if (line[pos] == (byte)'-')
        {
            pos++;
        }
        else
        {
            while (pos < line.Length && line[pos] == (byte)'[')
            {
                pos = SkipStructuredDataElement(line, pos);
                if (pos < 0)
                {
                    return -1;
                }
            }
        }

        if (pos >= line.Length || line[pos] != (byte)' ')
        {
            return -1;
        }

        pos++;
        // An RFC5424 MSG may start with a UTF-8 byte order mark.
        if (line[pos..].StartsWith("\xEF\xBB\xBF"u8))
        {
            pos += 3;
        }

        return pos;
    }

    private static int SkipStructuredDataElement(ReadOnlySpan<byte> line, int pos)
    {
        bool inQuotes = false;
        for (int i = pos + 1; i < line.Length; i++)
        {
            byte b = line[i];
            if (b == (byte)'\\')
            {
                i++;
            }
            else if (b == (byte)'"')
            {
                inQuotes = !inQuotes;
            }
            else if (b == (byte)']' && !inQuotes)
            {
                return i + 1;
            }
        }

        return -1;
    }

    // After the timestamp: "tag[pid]: body", "host tag[pid]: body", or directly the body (iso/timed formats).
    private static int SkipHostAndTag(ReadOnlySpan<byte> line, int pos)
    {
        for (int token = 0; token < 2; token++)
        {
            int space = line[pos..].IndexOf((byte)' ');
            if (space <= 0)
            {
                return -1;
            }

            if (line[pos + space - 1] == (byte)':')
            {
                return pos + space + 1;
            }

            if (token == 0 && pos + space + 1 < line.Length && line[pos + space + 1] == (byte)'[')
            {
                return pos; // The token is the client address: no host, no tag.
            }

            pos += space + 1;
        }

        return -1;
    }

    // "Nov 26 15:01:04 " or "Feb  6 15:01:04 ".
    internal static bool IsRfc3164Timestamp(ReadOnlySpan<byte> s) =>
        s.Length > 16
        && IsLetter(s[0]) && IsLetter(s[1]) && IsLetter(s[2]) && s[3] == (byte)' '
        && (s[4] == (byte)' ' || IsDigit(s[4])) && IsDigit(s[5]) && s[6] == (byte)' '
        && IsDigit(s[7]) && IsDigit(s[8]) && s[9] == (byte)':'
        && IsDigit(s[10]) && IsDigit(s[11]) && s[12] == (byte)':'
        && IsDigit(s[13]) && IsDigit(s[14]) && s[15] == (byte)' ';

    // "2026-11-26T15:01:04..."
    private static bool IsIsoTimestampStart(ReadOnlySpan<byte> s) =>
        s.Length > 20
        && IsDigit(s[0]) && IsDigit(s[1]) && IsDigit(s[2]) && IsDigit(s[3]) && s[4] == (byte)'-'
        && IsDigit(s[5]) && IsDigit(s[6]) && s[7] == (byte)'-' && IsDigit(s[8]) && IsDigit(s[9])
        && s[10] == (byte)'T';

    private static bool AllDigits(ReadOnlySpan<byte> s)
    {
        foreach (byte b in s)
        {
            if (!IsDigit(b))
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsDigit(byte b) => (uint)(b - '0') <= 9;

    private static bool IsLetter(byte b) => (uint)((b | 0x20) - 'a') <= 'z' - 'a';
}

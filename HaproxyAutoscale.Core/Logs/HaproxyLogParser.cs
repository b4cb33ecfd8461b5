using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Net;

namespace HaproxyAutoscale.Logs;

/// <summary>
/// Parses HAProxy request log lines (<c>option httplog</c>, <c>option httpslog</c>, <c>option tcplog</c>) inside any
/// of the syslog envelopes HAProxy 2.x writes, detected per line. Works on UTF-8 bytes, allocates nothing per line
/// (names are interned), and never throws on bad input: a line that is not a request log is simply not parsed.
/// </summary>
/// <remarks>An instance keeps a table of the names it has seen; it is not thread-safe, use one per thread.</remarks>
public sealed class HaproxyLogParser
{
    private static readonly SearchValues<byte> NameBytes =
        SearchValues.Create("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_:.-"u8);

    private readonly NameTable _names;
    private readonly byte[] _lastDay = new byte[11];
    private DateTime _lastDayStart;

    /// <summary>Creates a parser with its own name table.</summary>
    public HaproxyLogParser()
        : this(new NameTable())
    {
    }

    internal HaproxyLogParser(NameTable names) => _names = names;

    /// <summary>Parses one log line (with or without its trailing newline).</summary>
    /// <returns><see langword="true"/> when the line is an HTTP or TCP request log line.</returns>
    public bool TryParse(ReadOnlySpan<byte> line, out RequestRecord record)
    {
        record = default;
        line = TrimEnd(line);
        int body = SyslogEnvelope.FindBody(line);
        return body >= 0 && TryParseBody(line[body..], ref record);
    }

    private bool TryParseBody(ReadOnlySpan<byte> s, ref RequestRecord r)
    {
        // client_ip:port
        int space = s.IndexOf((byte)' ');
        if (space <= 0 || !TryParseClient(s[..space], ref r))
        {
            return false;
        }

        // [26/Nov/2026:15:01:04.676] (milliseconds are absent in old formats)
        int pos = space + 1;
        int dateEnd = s.Length > pos + 25 && s[pos + 25] == (byte)']' ? pos + 25 : s.Length > pos + 21 && s[pos + 21] == (byte)']' ? pos + 21 : -1;
        if (dateEnd < 0 || s[pos] != (byte)'[' || !TryParseAcceptDate(s[(pos + 1)..dateEnd], out DateTime acceptDate)
            || s.Length <= dateEnd + 2 || s[dateEnd + 1] != (byte)' ')
        {
            return false;
        }

        r.AcceptDate = acceptDate;
        s = s[(dateEnd + 2)..];

        // frontend[~] backend/server
        space = s.IndexOf((byte)' ');
        if (space <= 0)
        {
            return false;
        }

        ReadOnlySpan<byte> frontend = s[..space];
        if (frontend[^1] == (byte)'~')
        {
            r.IsSsl = true;
            frontend = frontend[..^1];
        }

        s = s[(space + 1)..];
        space = s.IndexOf((byte)' ');
        int slash = space < 0 ? -1 : s[..space].IndexOf((byte)'/');
        if (slash <= 0 || !TryIntern(frontend, out string? frontendName) || !TryIntern(s[..slash], out string? backendName))
        {
            return false;
        }

        ReadOnlySpan<byte> server = s[(slash + 1)..space];
        string? serverName = RequestRecord.NoServerName;
        if (!server.SequenceEqual("<NOSRV>"u8) && !TryIntern(server, out serverName))
        {
            return false;
        }

        (r.Frontend, r.Backend, r.Server) = (frontendName, backendName, serverName);

        // Timers: five for HTTP (TR/Tw/Tc/Tr/Ta), three for TCP (Tw/Tc/Tt).
        pos = space + 1;
        Span<long> t = stackalloc long[5];
        int timerCount = ReadNumbers(s, ref pos, t, out bool totalPartial);
        r.IsTotalTimePartial = totalPartial;
        if (timerCount == 5 && AllInt(t))
        {
            r.Kind = RequestKind.Http;
            (r.RequestTime, r.QueueTime, r.ConnectTime, r.ResponseTime, r.TotalTime) = ((int)t[0], (int)t[1], (int)t[2], (int)t[3], (int)t[4]);
            return TryParseHttpTail(s, pos, ref r);
        }

        if (timerCount == 3 && AllInt(t[..3]))
        {
            r.Kind = RequestKind.Tcp;
            (r.QueueTime, r.ConnectTime, r.TotalTime) = ((int)t[0], (int)t[1], (int)t[2]);
            r.RequestTime = r.ResponseTime = r.StatusCode = RequestRecord.NotLogged;
            return TryParseTcpTail(s, pos, ref r);
        }

        return false;
    }

    // status bytes req_cookie res_cookie termination conns queues [{captures}] "request line" [httpslog fields]
    private static bool TryParseHttpTail(ReadOnlySpan<byte> s, int pos, ref RequestRecord r)
    {
        Span<long> n = stackalloc long[5];
        if (ReadNumbers(s, ref pos, n[..1], out bool statusPlus) != 1 || statusPlus || n[0] is < -1 or > 999)
        {
            return false;
        }

        r.StatusCode = (int)n[0];
        if (!TryReadBytes(s, ref pos, ref r) || !SkipToken(s, ref pos) || !SkipToken(s, ref pos)
            || !TryReadTermination(s, ref pos, 4, ref r) || !TryReadCounters(s, ref pos, ref r) || pos >= s.Length)
        {
            return false;
        }

        // Captures may hold spaces, '|' and braces but never a quote (HAProxy escapes it as #22), so the request
        // line starts at the first quote. A line cut before it is truncated; HAProxy itself may cut the request line.
        return s[pos] == (byte)'"' || (s[pos] == (byte)'{' && s[pos..].Contains((byte)'"'));
    }

    // bytes termination conns queues
    private static bool TryParseTcpTail(ReadOnlySpan<byte> s, int pos, ref RequestRecord r) =>
        TryReadBytes(s, ref pos, ref r) && TryReadTermination(s, ref pos, 2, ref r) && TryReadCounters(s, ref pos, ref r);

    private static bool TryReadBytes(ReadOnlySpan<byte> s, ref int pos, ref RequestRecord r)
    {
        Span<long> bytes = stackalloc long[1];
        if (ReadNumbers(s, ref pos, bytes, out bool partial) != 1 || bytes[0] < 0)
        {
            return false;
        }

        r.BytesRead = bytes[0];
        r.IsBytesReadPartial = partial;
        return true;
    }

    private static bool TryReadTermination(ReadOnlySpan<byte> s, ref int pos, int length, ref RequestRecord r)
    {
        if (s.Length <= pos + length || s[pos + length] != (byte)' ' || s.Slice(pos, length).Contains((byte)' '))
        {
            return false;
        }

        r.TerminationState = new TerminationState(s.Slice(pos, length));
        pos += length + 1;
        return true;
    }

    // actconn/feconn/beconn/srv_conn/retries srv_queue/backend_queue; the queues may end the line (tcplog).
    private static bool TryReadCounters(ReadOnlySpan<byte> s, ref int pos, ref RequestRecord r)
    {
        Span<long> c = stackalloc long[5];
        if (ReadNumbers(s, ref pos, c, out _) != 5 || !AllInt(c))
        {
            return false;
        }

        (r.ActiveConnections, r.FrontendConnections, r.BackendConnections, r.ServerConnections, r.Retries) = ((int)c[0], (int)c[1], (int)c[2], (int)c[3], (int)c[4]);
        if (ReadNumbers(s, ref pos, c[..2], out _, endOfLineAllowed: true) != 2 || !AllInt(c[..2]))
        {
            return false;
        }

        (r.ServerQueue, r.BackendQueue) = ((int)c[0], (int)c[1]);
        return true;
    }

    // Reads "n/n/.../n " (each n: digits, optionally after '+' or '-') starting at pos, leaving pos after the space.
    // Returns how many numbers were read, or -1 when malformed or more than values can hold.
    private static int ReadNumbers(ReadOnlySpan<byte> s, ref int pos, Span<long> values, out bool lastPlus, bool endOfLineAllowed = false)
    {
        lastPlus = false;
        int count = 0;
        int i = pos;
        while (true)
        {
            if (count == values.Length || i >= s.Length)
            {
                return -1;
            }

            bool negative = false;
            lastPlus = false;
            if (s[i] == (byte)'+' || s[i] == (byte)'-')
            {
                lastPlus = s[i] == (byte)'+';
                negative = !lastPlus;
                i++;
            }

            int digitsStart = i;
            long value = 0;
            while (i < s.Length && (uint)(s[i] - '0') <= 9)
            {
                value = (value * 10) + (s[i] - '0');
                i++;
            }

            if (i == digitsStart || i - digitsStart > 18)
            {
                return -1;
            }

            values[count++] = negative ? -value : value;
            if (i == s.Length)
            {
                pos = i;
                return endOfLineAllowed ? count : -1;
            }

            if (s[i] == (byte)' ')
            {
                pos = i + 1;
                return count;
            }

            if (s[i] != (byte)'/')
            {
                return -1;
            }

            i++;
        }
    }

    private static bool AllInt(ReadOnlySpan<long> values)
    {
        foreach (long v in values)
        {
            if (v is < int.MinValue or > int.MaxValue)
            {
                return false;
            }
        }

        return true;
    }

    private static bool SkipToken(ReadOnlySpan<byte> s, ref int pos)
    {
        int space = s[pos..].IndexOf((byte)' ');
        if (space <= 0)
        {
            return false;
        }

        pos += space + 1;
        return true;
    }

    // Known names cost one table probe; a new name is validated against HAProxy's name characters first.
    private bool TryIntern(ReadOnlySpan<byte> name, [NotNullWhen(true)] out string? interned)
    {
        if (_names.TryGet(name, out interned))
        {
            return true;
        }

        if (!IsName(name))
        {
            return false;
        }

        interned = _names.GetOrAdd(name);
        return true;
    }

    // "127.0.0.1:55336", "::1:54321" (IPv6 is logged without brackets), "unix:1".
    private static bool TryParseClient(ReadOnlySpan<byte> client, ref RequestRecord r)
    {
        int colon = client.LastIndexOf((byte)':');
        ReadOnlySpan<byte> portText = client[(colon + 1)..];
        if (colon <= 0 || portText.IsEmpty || portText.Length > 5 || portText.ContainsAnyExceptInRange((byte)'0', (byte)'9'))
        {
            return false;
        }

        int port = 0;
        foreach (byte digit in portText)
        {
            port = (port * 10) + (digit - '0');
        }

        if (port > 65535)
        {
            return false;
        }

        r.ClientPort = port;
        ReadOnlySpan<byte> address = client[..colon];
        if (TryParseIPv4(address, out uint v4))
        {
            r.SetClient(4, v4);
            return true;
        }

        if (address.SequenceEqual("unix"u8))
        {
            r.ClientPort = 0;
            return true;
        }

        return address.Contains((byte)':') && TryParseIPv6(address, ref r);
    }

    private static bool TryParseIPv6(ReadOnlySpan<byte> address, ref RequestRecord r)
    {
        if (address.Length > 45)
        {
            return false;
        }

        Span<char> chars = stackalloc char[45];
        for (int i = 0; i < address.Length; i++)
        {
            chars[i] = (char)address[i];
        }

        // Rare on the hot path; IPAddress has no allocation-free parser for IPv6.
        if (!IPAddress.TryParse(chars[..address.Length], out IPAddress? ip) || ip.AddressFamily != System.Net.Sockets.AddressFamily.InterNetworkV6)
        {
            return false;
        }

        Span<byte> bytes = stackalloc byte[16];
        ip.TryWriteBytes(bytes, out _);
        r.SetClient(6, BinaryPrimitives.ReadUInt128BigEndian(bytes));
        return true;
    }

    private static bool TryParseIPv4(ReadOnlySpan<byte> s, out uint address)
    {
        address = 0;
        int octets = 0;
        int value = -1;
        foreach (byte b in s)
        {
            if (b == (byte)'.')
            {
                if (value < 0 || octets == 3)
                {
                    return false;
                }

                address = (address << 8) | (uint)value;
                octets++;
                value = -1;
            }
            else if ((uint)(b - '0') <= 9)
            {
                value = value < 0 ? b - '0' : (value * 10) + (b - '0');
                if (value > 255)
                {
                    return false;
                }
            }
            else
            {
                return false;
            }
        }

        if (value < 0 || octets != 3)
        {
            return false;
        }

        address = (address << 8) | (uint)value;
        // IPAddress(long) expects network order in memory, i.e. the first octet in the low byte.
        address = BinaryPrimitives.ReverseEndianness(address);
        return true;
    }

    // Consecutive lines nearly always share the day: reuse it and only add the time of day.
    private bool TryParseAcceptDate(ReadOnlySpan<byte> s, out DateTime date)
    {
        if (s.Length >= 20 && s[..11].SequenceEqual(_lastDay) && s[11] == (byte)':' && s[14] == (byte)':' && s[17] == (byte)':'
            && TwoDigits(s, 12, out int hour) && TwoDigits(s, 15, out int minute) && TwoDigits(s, 18, out int second)
            && hour < 24 && minute < 60 && second < 60 && TryParseMilliseconds(s, out int millisecond))
        {
            date = _lastDayStart.AddTicks(((((hour * 60L) + minute) * 60L) + second) * TimeSpan.TicksPerSecond + (millisecond * TimeSpan.TicksPerMillisecond));
            return true;
        }

        if (!TryParseFullDate(s, out date))
        {
            return false;
        }

        s[..11].CopyTo(_lastDay);
        _lastDayStart = date.Date;
        return true;
    }

    private static bool TryParseMilliseconds(ReadOnlySpan<byte> s, out int millisecond)
    {
        millisecond = 0;
        if (s.Length == 20)
        {
            return true;
        }

        if (s.Length != 24 || s[20] != (byte)'.' || !TwoDigits(s, 21, out int tens) || (uint)(s[23] - '0') > 9)
        {
            return false;
        }

        millisecond = (tens * 10) + (s[23] - '0');
        return true;
    }

    // dd/Mmm/yyyy:HH:mm:ss.mmm (the milliseconds are optional in older formats).
    private static bool TryParseFullDate(ReadOnlySpan<byte> s, out DateTime date)
    {
        date = default;
        if ((s.Length != 20 && s.Length != 24) || s[2] != (byte)'/' || s[6] != (byte)'/' || s[11] != (byte)':'
            || s[14] != (byte)':' || s[17] != (byte)':')
        {
            return false;
        }

        int month = Month(s[3], s[4], s[5]);
        if (month == 0
            || !TwoDigits(s, 0, out int day) || !TwoDigits(s, 7, out int centuries) || !TwoDigits(s, 9, out int years)
            || !TwoDigits(s, 12, out int hour) || !TwoDigits(s, 15, out int minute) || !TwoDigits(s, 18, out int second))
        {
            return false;
        }

        if (!TryParseMilliseconds(s, out int millisecond))
        {
            return false;
        }

        int year = (centuries * 100) + years;
        if (year < 1 || day < 1 || day > DateTime.DaysInMonth(year, month) || hour > 23 || minute > 59 || second > 60)
        {
            return false;
        }

        // A leap second is logged as :60; fold it into the next second rather than reject the line.
        date = new DateTime(year, month, day, hour, minute, Math.Min(second, 59), millisecond);
        return true;
    }

    private static bool TwoDigits(ReadOnlySpan<byte> s, int at, out int value)
    {
        uint hi = (uint)(s[at] - '0');
        uint lo = (uint)(s[at + 1] - '0');
        value = (int)((hi * 10) + lo);
        return hi <= 9 && lo <= 9;
    }

    private static int Month(byte a, byte b, byte c) => (a, b, c) switch
    {
        ((byte)'J', (byte)'a', (byte)'n') => 1,
        ((byte)'F', (byte)'e', (byte)'b') => 2,
        ((byte)'M', (byte)'a', (byte)'r') => 3,
        ((byte)'A', (byte)'p', (byte)'r') => 4,
        ((byte)'M', (byte)'a', (byte)'y') => 5,
        ((byte)'J', (byte)'u', (byte)'n') => 6,
        ((byte)'J', (byte)'u', (byte)'l') => 7,
        ((byte)'A', (byte)'u', (byte)'g') => 8,
        ((byte)'S', (byte)'e', (byte)'p') => 9,
        ((byte)'O', (byte)'c', (byte)'t') => 10,
        ((byte)'N', (byte)'o', (byte)'v') => 11,
        ((byte)'D', (byte)'e', (byte)'c') => 12,
        _ => 0,
    };

    private static bool IsName(ReadOnlySpan<byte> name) => !name.IsEmpty && !name.ContainsAnyExcept(NameBytes);

    private static ReadOnlySpan<byte> TrimEnd(ReadOnlySpan<byte> line)
    {
        int end = line.Length;
        while (end > 0 && line[end - 1] is (byte)'\n' or (byte)'\r' or 0)
        {
            end--;
        }

        return line[..end];
    }
}

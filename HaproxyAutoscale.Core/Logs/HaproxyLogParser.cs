using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Text;
using HaproxyAutoscale.Control;

namespace HaproxyAutoscale.Logs;

/// <summary>
/// Parses HAProxy request log lines (<c>option httplog</c>, <c>option httpslog</c>, <c>option tcplog</c>) inside any
/// of the syslog envelopes HAProxy 2.x writes, detected per line. Works on UTF-8 bytes, allocates nothing per line
/// (names are interned), and never throws on bad input: a line that is not a request log is simply not parsed.
/// </summary>
/// <remarks>An instance keeps a table of the names it has seen; it is not thread-safe, use one per thread.</remarks>
public sealed class HaproxyLogParser
{
    private static readonly SearchValues<byte> NameBytes = HaproxyNames.Bytes;

    private readonly NameTable<string> _names;
    // Backend/server tokens as whole ("app/srv1"): one lookup per line for both names and the pair's id.
    private readonly NameTable<ServerPair> _pairs;
    private readonly byte[] _lastDay = new byte[11];
    private DateTime _lastDayStart;

    /// <summary>Creates a parser with its own name table.</summary>
    public HaproxyLogParser()
        : this(NameTable<string>.DefaultCapacity)
    {
    }

    /// <summary>Creates a parser that keeps at most <paramref name="nameCapacity"/> names and backend/server pairs.</summary>
    internal HaproxyLogParser(int nameCapacity) => (_names, _pairs) = (new(nameCapacity), new(nameCapacity));

    /// <summary>
    /// The id of the last parsed line's backend/server pair, unique within this parser (a small number, cheaper to
    /// look up than the two names); -1 when the pair did not fit into its table.
    /// </summary>
    internal int LastPairId { get; private set; }

    /// <summary>
    /// The last parsed line's backend/server pair: the same object each time the pair comes again (while it fits in
    /// its table), so that a reader can keep what it found for the pair in it.
    /// </summary>
    internal ServerPair? LastPair { get; private set; }

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
        int space = TryParseIPv4Client(s, ref r);
        if (space < 0)
        {
            space = s.IndexOf((byte)' ');
            if (space <= 0 || !TryParseOtherClient(s[..space], ref r))
            {
                return false;
            }
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
        if (space < 0)
        {
            return false;
        }

        // The pair's bucket and then the pair are cache misses at thousands of backends: each asked for ahead, and
        // read once the timers (and then the rest of the line) are parsed.
        ReadOnlySpan<byte> pairToken = s[..space];
        _pairs.Prefetch(pairToken);
        if (!TryInternName(frontend, out string? frontendName))
        {
            return false;
        }

        r.Frontend = frontendName;

        // Timers: five for HTTP (TR/Tw/Tc/Tr/Ta), three for TCP (Tw/Tc/Tt).
        pos = space + 1;
        FiveNumbers t = default;
        int timerCount = ReadNumbers(s, ref pos, t, out bool totalPartial);
        r.IsTotalTimePartial = totalPartial;
        if (timerCount is not (5 or 3) || !TryInternPair(pairToken, out ServerPair? pair, out int pairId))
        {
            return false;
        }

        Scaling.CacheHints.Prefetch(pair);
        bool parsed;
        if (timerCount == 5)
        {
            r.Kind = RequestKind.Http;
            (r.RequestTime, r.QueueTime, r.ConnectTime, r.ResponseTime, r.TotalTime) = (t[0], t[1], t[2], t[3], t[4]);
            parsed = TryParseHttpTail(s, pos, ref r);
        }
        else
        {
            r.Kind = RequestKind.Tcp;
            (r.QueueTime, r.ConnectTime, r.TotalTime) = (t[0], t[1], t[2]);
            r.RequestTime = r.ResponseTime = r.StatusCode = RequestRecord.NotLogged;
            parsed = TryParseTcpTail(s, pos, ref r);
        }

        if (parsed)
        {
            (r.Backend, r.Server) = (pair.Backend, pair.Server);
            (LastPairId, LastPair) = (pairId, pair);
        }

        return parsed;
    }

    // status bytes req_cookie res_cookie termination conns queues [{captures}] "request line" [httpslog fields]
    private static bool TryParseHttpTail(ReadOnlySpan<byte> s, int pos, ref RequestRecord r)
    {
        if (!TryReadNumberAndSpace(s, ref pos, out long status, out bool statusPlus) || statusPlus || status is < -1 or > 999)
        {
            return false;
        }

        r.StatusCode = (int)status;
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
        if (!TryReadNumberAndSpace(s, ref pos, out long bytes, out bool partial) || bytes < 0)
        {
            return false;
        }

        r.BytesRead = bytes;
        r.IsBytesReadPartial = partial;
        return true;
    }

    private static bool TryReadTermination(ReadOnlySpan<byte> s, ref int pos, int length, ref RequestRecord r)
    {
        if (s.Length <= pos + length || s[pos + length] != (byte)' ')
        {
            return false;
        }

        ReadOnlySpan<byte> state = s.Slice(pos, length);
        foreach (byte b in state)
        {
            if (b == (byte)' ')
            {
                return false;
            }
        }

        r.TerminationState = new TerminationState(state);
        pos += length + 1;
        return true;
    }

    // actconn/feconn/beconn/srv_conn/retries srv_queue/backend_queue; the queues may end the line (tcplog).
    private static bool TryReadCounters(ReadOnlySpan<byte> s, ref int pos, ref RequestRecord r)
    {
        FiveNumbers c = default;
        if (ReadNumbers(s, ref pos, c, out _) != 5)
        {
            return false;
        }

        (r.ActiveConnections, r.FrontendConnections, r.BackendConnections, r.ServerConnections, r.Retries) = (c[0], c[1], c[2], c[3], c[4]);
        if (ReadNumbers(s, ref pos, ((Span<int>)c)[..2], out _, endOfLineAllowed: true) != 2)
        {
            return false;
        }

        (r.ServerQueue, r.BackendQueue) = (c[0], c[1]);
        return true;
    }

    // Reads "n/n/.../n " (each n an int, see TryReadNumber) starting at pos, leaving pos after the space.
    // Returns how many numbers were read, or -1 when malformed or more than values can hold.
    private static int ReadNumbers(ReadOnlySpan<byte> s, ref int pos, Span<int> values, out bool lastPlus, bool endOfLineAllowed = false)
    {
        lastPlus = false;
        int i = pos;
        for (int count = 0; count < values.Length;)
        {
            if (!TryReadNumber(s, ref i, out long value, out lastPlus) || value is < int.MinValue or > int.MaxValue)
            {
                return -1;
            }

            values[count++] = (int)value;
            if (i == s.Length)
            {
                pos = i;
                return endOfLineAllowed ? count : -1;
            }

            byte next = s[i++];
            if (next == (byte)' ')
            {
                pos = i;
                return count;
            }

            if (next != (byte)'/')
            {
                return -1;
            }
        }

        return -1;
    }

    // A number followed by a space; pos is left after the space.
    private static bool TryReadNumberAndSpace(ReadOnlySpan<byte> s, ref int pos, out long value, out bool plus)
    {
        int i = pos;
        if (!TryReadNumber(s, ref i, out value, out plus) || i == s.Length || s[i] != (byte)' ')
        {
            return false;
        }

        pos = i + 1;
        return true;
    }

    // One number: an optional '+' (logasap, a partial count) or '-' (-1: the phase never happened), then 1 to 18
    // digits; pos is left on the byte after the digits.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool TryReadNumber(ReadOnlySpan<byte> s, ref int pos, out long value, out bool plus)
    {
        value = 0;
        plus = false;
        int i = pos;
        if ((uint)i >= (uint)s.Length)
        {
            return false;
        }

        bool negative = s[i] == (byte)'-';
        if (negative || s[i] == (byte)'+')
        {
            plus = !negative;
            i++;
        }

        if (!TryReadDigits(s, ref i, maxDigits: 18, out long number))
        {
            return false;
        }

        value = negative ? -number : number;
        pos = i;
        return true;
    }

    // 1 to maxDigits (at most 18) decimal digits at pos; pos is left on the byte after them.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool TryReadDigits(ReadOnlySpan<byte> s, ref int pos, int maxDigits, out long value)
    {
        int i = pos;
        // Accumulate in a local: through the out parameter every digit would be a store and a load. (Reading eight
        // digits at once with SWAR arithmetic was measured slower: log numbers are mostly one to three digits.)
        long number = 0;
        uint digit;
        while ((uint)i < (uint)s.Length && (digit = (uint)(s[i] - '0')) <= 9)
        {
            number = (number * 10) + digit;
            i++;
        }

        value = number;
        if (i == pos || i - pos > maxDigits)
        {
            return false;
        }

        pos = i;
        return true;
    }

    private static bool SkipToken(ReadOnlySpan<byte> s, ref int pos)
    {
        if (s.Length > pos + 1 && s[pos] == (byte)'-' && s[pos + 1] == (byte)' ')
        {
            pos += 2; // The usual "-" (no cookie captured), without a search.
            return true;
        }

        int space = s[pos..].IndexOf((byte)' ');
        if (space <= 0)
        {
            return false;
        }

        pos += space + 1;
        return true;
    }

    // Known names cost one table probe; a new name is validated against HAProxy's name characters first.
    private bool TryInternName(ReadOnlySpan<byte> name, [NotNullWhen(true)] out string? interned)
    {
        if (_names.TryGet(name, out interned, out _))
        {
            return true;
        }

        if (!IsName(name))
        {
            return false;
        }

        interned = Encoding.UTF8.GetString(name);
        _names.Add(name, interned); // When the table is full the name is simply not kept.
        return true;
    }

    // "backend/server" or "backend/<NOSRV>".
    private bool TryInternPair(ReadOnlySpan<byte> token, [NotNullWhen(true)] out ServerPair? pair, out int id)
    {
        if (_pairs.TryGet(token, out pair, out id))
        {
            return true;
        }

        int slash = token.IndexOf((byte)'/');
        if (slash <= 0 || !TryInternName(token[..slash], out string? backend))
        {
            return false;
        }

        ReadOnlySpan<byte> server = token[(slash + 1)..];
        string? serverName = RequestRecord.NoServerName;
        if (!server.SequenceEqual("<NOSRV>"u8) && !TryInternName(server, out serverName))
        {
            return false;
        }

        pair = new ServerPair(backend, serverName);
        id = _pairs.Add(token, pair);
        return true;
    }

    // Nearly every client is "a.b.c.d:port ": parsed in one pass. Returns the index of the space after it, or -1 when
    // the client is something else ("::1:54321", as IPv6 is logged without brackets, or "unix:1").
    private static int TryParseIPv4Client(ReadOnlySpan<byte> s, ref RequestRecord r)
    {
        uint address = 0;
        int i = 0;
        for (int octet = 0; octet < 4; octet++)
        {
            if (!TryReadDigits(s, ref i, maxDigits: 3, out long value) || value > 255 || i == s.Length
                || s[i] != (octet < 3 ? (byte)'.' : (byte)':'))
            {
                return -1;
            }

            address = (address << 8) | (uint)value;
            i++;
        }

        if (!TryReadDigits(s, ref i, maxDigits: 5, out long port) || port > 65535 || i == s.Length || s[i] != (byte)' ')
        {
            return -1;
        }

        r.ClientPort = (int)port;
        // IPAddress(long) expects network order in memory, i.e. the first octet in the low byte.
        r.SetClient(4, BinaryPrimitives.ReverseEndianness(address));
        return i;
    }

    // "::1:54321" or "unix:1".
    private static bool TryParseOtherClient(ReadOnlySpan<byte> client, ref RequestRecord r)
    {
        int colon = client.LastIndexOf((byte)':');
        int end = colon + 1;
        if (colon <= 0 || !TryReadDigits(client, ref end, maxDigits: 5, out long port) || end != client.Length || port > 65535)
        {
            return false;
        }

        ReadOnlySpan<byte> address = client[..colon];
        if (address.SequenceEqual("unix"u8))
        {
            r.ClientPort = 0;
            return true;
        }

        r.ClientPort = (int)port;
        if (!address.Contains((byte)':') || !Ipv6Text.TryParse(address, out UInt128 v6))
        {
            return false;
        }

        r.SetClient(6, v6);
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
    internal static bool TryParseFullDate(ReadOnlySpan<byte> s, out DateTime date)
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

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
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

    [InlineArray(5)]
    private struct FiveNumbers
    {
        private int _element;
    }

    internal static bool IsName(ReadOnlySpan<byte> name) => !name.IsEmpty && !name.ContainsAnyExcept(NameBytes);

    internal static ReadOnlySpan<byte> TrimEnd(ReadOnlySpan<byte> line)
    {
        int end = line.Length;
        while (end > 0 && line[end - 1] is (byte)'\n' or (byte)'\r' or 0)
        {
            end--;
        }

        return line[..end];
    }
}

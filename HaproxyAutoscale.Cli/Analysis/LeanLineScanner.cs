using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using HaproxyAutoscale.Logs;

namespace HaproxyAutoscale.Cli.Analysis;

/// <summary>
/// The analyze-only fast path: checks an <c>httplog</c> line in its common shape (IPv4 client, millisecond date,
/// backend/server pair seen before, numbers of at most nine digits without a '+') and reads only the fields
/// <see cref="LogAnalyzer"/> needs. It never rejects a line: whatever it is not sure about, it leaves to the full
/// <see cref="HaproxyLogParser"/>, so analyze's counts (malformed lines included) stay exactly the parser's.
/// </summary>
/// <remarks>
/// Every check here is the parser's check or a stricter one, on the same positions: a line accepted here is a line
/// the parser accepts, with the same values. Not thread-safe; one per analyzer.
/// </remarks>
internal sealed class LeanLineScanner<TValue>
    where TValue : class
{
    // Pairs ("app/srv1") the full parser accepted, with the analyzer's row for each.
    private readonly PairTable<TValue> _pairs;
    // The last day ("26/Nov/2026") the parser's full date check accepted, as its first eight and last four bytes
    // (compared as two words); 0 before the first.
    private ulong _dayHead;
    private uint _dayTail;
    // The last two "host tag[pid]: " after an RFC 3164 timestamp: two, because a reload leaves the old process
    // logging beside the new one for as long as its connections last, their lines interleaved.
    // A hit leaves them in place (swapping the arrays per line cost GC write barriers); a new one replaces the one
    // not hit last.
    private const int HostAndTagCapacity = 64;
    private const int Rfc3164TimestampLength = 16;
    private const int VectorBytes = 16;
    private byte[] _hostAndTag = new byte[HostAndTagCapacity];
    private int _hostAndTagLength;
    private byte[] _previousHostAndTag = new byte[HostAndTagCapacity];
    private int _previousHostAndTagLength;
    private bool _previousHitLast;
    // The last frontend name IsName accepted, zero past its length (length -1 before the first).
    private Vector128<byte> _frontend;
    private int _frontendLength = -1;

    public LeanLineScanner(int capacity) => _pairs = new PairTable<TValue>(capacity);

    /// <summary>Where the last line's pair token was when it was not in the table (for <see cref="AddPair"/>), else length 0.</summary>
    public (int Start, int Length) MissedPair { get; private set; }

    /// <summary>Keeps the pair token of a line the full parser accepted after <see cref="TryScan"/> missed it.</summary>
    public void AddPair(ReadOnlySpan<byte> line, TValue value)
    {
        if (MissedPair.Length > 0)
        {
            _pairs.Add(line.Slice(MissedPair.Start, MissedPair.Length), value);
        }
    }

    /// <summary>
    /// Scans an HTTP line in the common shape; <see langword="false"/> means "not sure", never "malformed". The five
    /// timers are TR/Tw/Tc/Tr/Ta.
    /// </summary>
    public bool TryScan(ReadOnlySpan<byte> line, out TValue? pair, out int status, out Timers timers) =>
        Scan(HaproxyLogParser.TrimEnd(line), bounded: true, out pair, out status, out timers) >= 0;

    /// <summary>
    /// Scans the line at the start of <paramref name="text"/> before its end is known (no search for its newline
    /// yet): returns where the rest of the line begins (its request's quote), from which to search the newline, or
    /// -1 for "not sure" (then the caller finds the line and calls <see cref="TryScan"/>). Every byte it accepts
    /// before that position is checked not to be a newline, so the line it read is the line the newline ends.
    /// Only the syslog envelopes of the last lines (RFC 3164 with the host and tag seen before) are taken here.
    /// </summary>
    public int TryScanUnbounded(ReadOnlySpan<byte> text, out TValue? pair, out int status, out Timers timers) =>
        Scan(text, bounded: false, out pair, out status, out timers);

    private int Scan(ReadOnlySpan<byte> line, bool bounded, out TValue? pair, out int status, out Timers timers)
    {
        pair = null;
        status = 0;
        timers = default;
        MissedPair = default;
        int body = bounded ? FindBody(line) : FindKnownBody(line);
        if (body < 0)
        {
            return -1;
        }

        ReadOnlySpan<byte> s = line[body..];
        int pos = SkipIPv4Client(s);
        if (pos < 0 || !TrySkipDate(s, ref pos))
        {
            return -1;
        }

        // frontend[~] backend/server: both spaces from one vector compare when they are in the next 32 bytes.
        (int frontendEnd, int pairEnd) = NextTwoSpaces(s, pos);
        if (frontendEnd <= pos || pairEnd < 0)
        {
            return -1;
        }

        ReadOnlySpan<byte> frontend = s[pos..frontendEnd];
        if (frontend[^1] == (byte)'~')
        {
            frontend = frontend[..^1];
        }

        if (!IsKnownFrontend(s, pos, frontend.Length))
        {
            if (!HaproxyLogParser.IsName(frontend))
            {
                return -1;
            }

            KeepFrontend(s, pos, frontend.Length);
        }

        pos = frontendEnd + 1;
        int space = pairEnd - pos;
        if (!_pairs.TryGet(s[pos..], space, out pair))
        {
            MissedPair = (body + pos, space);
            return -1;
        }

        pos += space + 1;
        int request = TryReadTimers(s, ref pos, ref timers) ? ReadHttpTail(s, pos, out status) : -1;
        return request < 0 ? -1 : body + request;
    }

    // Whether the frontend name at pos is the last one IsName accepted (names of up to 16 bytes, compared as one vector).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool IsKnownFrontend(ReadOnlySpan<byte> s, int pos, int length) =>
        length == _frontendLength && s.Length - pos >= VectorBytes
        && (Vector128.Create(s.Slice(pos, VectorBytes)) & FirstBytes(length)) == _frontend;

    private void KeepFrontend(ReadOnlySpan<byte> s, int pos, int length)
    {
        if (length <= VectorBytes && s.Length - pos >= VectorBytes)
        {
            _frontend = Vector128.Create(s.Slice(pos, VectorBytes)) & FirstBytes(length);
            _frontendLength = length;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<byte> FirstBytes(int count) => Vector128.LessThan(Vector128<byte>.Indices, Vector128.Create((byte)count));

    // The envelope as the parser finds it, without searching for the host and tag when they are one of the last
    // two lines': after an RFC 3164 timestamp (no PRI), SyslogEnvelope decides from the bytes up to "tag: " alone.
    private int FindBody(ReadOnlySpan<byte> line)
    {
        int known = FindKnownBody(line);
        if (known >= 0)
        {
            return known;
        }

        int body = SyslogEnvelope.FindBody(line);
        int length = body - Rfc3164TimestampLength;
        if (length is > 2 and <= HostAndTagCapacity && line[body - 2] == (byte)':' && line[body - 1] == (byte)' '
            && SyslogEnvelope.IsRfc3164Timestamp(line))
        {
            if (!_previousHitLast)
            {
                (_hostAndTag, _previousHostAndTag) = (_previousHostAndTag, _hostAndTag);
                _previousHostAndTagLength = _hostAndTagLength;
            }

            line[Rfc3164TimestampLength..body].CopyTo(_hostAndTag);
            _hostAndTagLength = length;
            _previousHitLast = false;
        }

        return body;
    }

    // The body after an RFC 3164 timestamp and one of the last two host-and-tags, else -1 (searches nothing, so it
    // also serves lines whose end is not known yet).
    private int FindKnownBody(ReadOnlySpan<byte> text)
    {
        if (!IsRfc3164Timestamp(text))
        {
            return -1;
        }

        ReadOnlySpan<byte> afterTimestamp = text[Rfc3164TimestampLength..];
        if (StartsWith(afterTimestamp, _hostAndTag, _hostAndTagLength))
        {
            _previousHitLast = false;
            return Rfc3164TimestampLength + _hostAndTagLength;
        }

        if (StartsWith(afterTimestamp, _previousHostAndTag, _previousHostAndTagLength))
        {
            _previousHitLast = true;
            return Rfc3164TimestampLength + _previousHostAndTagLength;
        }

        return -1;
    }

    // SyslogEnvelope.IsRfc3164Timestamp ("Nov 26 15:01:04 " or "Feb  6 15:01:04 ") with one vector's compares.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool IsRfc3164Timestamp(ReadOnlySpan<byte> s)
    {
        const uint Letters = 0b111, Spaces = (1 << 3) | (1 << 6) | (1 << 15), Colons = (1 << 9) | (1 << 12);
        const uint DigitsAt = (1 << 5) | (1 << 7) | (1 << 8) | (1 << 10) | (1 << 11) | (1 << 13) | (1 << 14), DayTens = 1 << 4;
        if (!Vector128.IsHardwareAccelerated || s.Length <= Rfc3164TimestampLength)
        {
            return SyslogEnvelope.IsRfc3164Timestamp(s);
        }

        Vector128<byte> v = Vector128.Create(s[..Rfc3164TimestampLength]);
        uint digits = Digits(v).ExtractMostSignificantBits();
        uint spaces = Vector128.Equals(v, Vector128.Create((byte)' ')).ExtractMostSignificantBits();
        uint colons = Vector128.Equals(v, Vector128.Create((byte)':')).ExtractMostSignificantBits();
        uint letters = Vector128.LessThanOrEqual((v | Vector128.Create((byte)0x20)) - Vector128.Create((byte)'a'), Vector128.Create((byte)('z' - 'a'))).ExtractMostSignificantBits();
        return (letters & Letters) == Letters && (spaces & Spaces) == Spaces && (colons & Colons) == Colons
            && (digits & DigitsAt) == DigitsAt && ((digits | spaces) & DayTens) != 0;
    }

    // A host-and-tag of up to 32 bytes compared as two vectors (its first and last 16 bytes), longer ones byte by byte.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool StartsWith(ReadOnlySpan<byte> text, byte[] prefix, int length)
    {
        if (length is < VectorBytes or > 2 * VectorBytes || text.Length < length)
        {
            return length > 0 && text.StartsWith(prefix.AsSpan(0, length));
        }

        return Vector128.Create(text[..VectorBytes]) == Vector128.Create(prefix.AsSpan(0, VectorBytes))
            && Vector128.Create(text.Slice(length - VectorBytes, VectorBytes)) == Vector128.Create(prefix.AsSpan(length - VectorBytes, VectorBytes));
    }

    // "a.b.c.d:port " as the parser reads it; returns the position after the space, or -1. The shape is checked on
    // 32 bytes with vector compares (no loop exit to mispredict per digit); only three-digit octets and five-digit
    // ports need their value compared.
    private static int SkipIPv4Client(ReadOnlySpan<byte> s)
    {
        const int Width = 32;
        if (!Vector128.IsHardwareAccelerated || s.Length < Width)
        {
            return -1;
        }

        Vector128<byte> low = Vector128.Create(s[..16]);
        Vector128<byte> high = Vector128.Create(s.Slice(16, 16));
        uint digits = Mask(Digits(low), Digits(high));
        uint dots = Mask(Vector128.Equals(low, Vector128.Create((byte)'.')), Vector128.Equals(high, Vector128.Create((byte)'.')));
        uint colons = Mask(Vector128.Equals(low, Vector128.Create((byte)':')), Vector128.Equals(high, Vector128.Create((byte)':')));
        uint spaces = Mask(Vector128.Equals(low, Vector128.Create((byte)' ')), Vector128.Equals(high, Vector128.Create((byte)' ')));
        int end = BitOperations.TrailingZeroCount(spaces);
        if (end is < 9 or > 21)
        {
            return -1; // "1.1.1.1:1" to "255.255.255.255:65535"
        }

        uint region = (1u << end) - 1;
        int colon = BitOperations.TrailingZeroCount(colons);
        uint octets = (1u << colon) - 1; // the address part, before the colon
        if ((region & ~(digits | dots | colons)) != 0 || (colons & region) != 1u << colon
            || BitOperations.PopCount(dots & region) != 3 || (dots & ~octets) != 0
            || (digits & 1) == 0 || ((dots | colons | (1u << end)) & ~(digits << 1)) != 0 // no empty number
            || end - colon - 1 > 5)
        {
            return -1;
        }

        uint three = digits & (digits >> 1) & (digits >> 2) & octets;
        if ((three & (digits >> 3)) != 0)
        {
            return -1; // an octet of four digits or more
        }

        for (; three != 0; three &= three - 1)
        {
            int at = BitOperations.TrailingZeroCount(three);
            if (((s[at] - '0') * 100) + ((s[at + 1] - '0') * 10) + (s[at + 2] - '0') > 255)
            {
                return -1;
            }
        }

        int port = colon + 1;
        return end - port == 5
            && ((s[port] - '0') * 10000) + ((s[port + 1] - '0') * 1000) + ((s[port + 2] - '0') * 100) + ((s[port + 3] - '0') * 10) + (s[port + 4] - '0') > 65535
            ? -1 : end + 1;
    }

    // "[26/Nov/2026:15:01:04.676] ": only the millisecond format; the day is checked in full once per day.
    private bool TrySkipDate(ReadOnlySpan<byte> s, ref int pos)
    {
        const int Length = 24;
        if (s.Length <= pos + Length + 3 || s[pos] != (byte)'[' || s[pos + Length + 1] != (byte)']' || s[pos + Length + 2] != (byte)' ')
        {
            return false;
        }

        ReadOnlySpan<byte> date = s.Slice(pos + 1, Length);
        ulong dayHead = MemoryMarshal.Read<ulong>(date);
        uint dayTail = MemoryMarshal.Read<uint>(date[7..]);
        if (dayHead != _dayHead || dayTail != _dayTail)
        {
            if (!HaproxyLogParser.TryParseFullDate(date, out _))
            {
                return false;
            }

            (_dayHead, _dayTail) = (dayHead, dayTail);
        }
        else if (date[11] != (byte)':' || date[14] != (byte)':' || date[17] != (byte)':' || date[20] != (byte)'.'
            || (uint)TwoDigits(date, 12) >= 24 || (uint)TwoDigits(date, 15) >= 60 || (uint)TwoDigits(date, 18) >= 60
            || TwoDigits(date, 21) < 0 || (uint)(date[23] - '0') > 9)
        {
            // The parser would still accept a leap second (:60) through its full check: leave it to the parser.
            return false;
        }

        pos += Length + 3;
        return true;
    }

    // "TR/Tw/Tc/Tr/Ta ": five numbers, each -1 or 1 to 9 digits ('+', longer numbers and TCP lines go to the parser).
    private static bool TryReadTimers(ReadOnlySpan<byte> s, ref int pos, ref Timers timers)
    {
        const int Width = 32;
        if (Vector128.IsHardwareAccelerated && pos >= sizeof(ulong) && s.Length - pos >= Width)
        {
            int end = ShapeOfTimers(s, pos, out uint slashes);
            if (end < 0)
            {
                return end == -1 ? false : TryReadTimersOneByOne(s, ref pos, ref timers);
            }

            // Each number ends at a '/' (or the last one at the space): read it backwards from there. Unrolled, the
            // five reads do not wait for one another.
            int first = pos + BitOperations.TrailingZeroCount(slashes);
            slashes &= slashes - 1;
            int second = pos + BitOperations.TrailingZeroCount(slashes);
            slashes &= slashes - 1;
            int third = pos + BitOperations.TrailingZeroCount(slashes);
            slashes &= slashes - 1;
            int fourth = pos + BitOperations.TrailingZeroCount(slashes);
            timers[0] = NumberBetween(s, pos, first);
            timers[1] = NumberBetween(s, first + 1, second);
            timers[2] = NumberBetween(s, second + 1, third);
            timers[3] = NumberBetween(s, third + 1, fourth);
            timers[4] = NumberBetween(s, fourth + 1, end);
            pos = end + 1;
            return true;
        }

        return TryReadTimersOneByOne(s, ref pos, ref timers);
    }

    // A number of the shape ShapeOfTimers checked: an optional '-', then 1 to 9 digits, from start to stop.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int NumberBetween(ReadOnlySpan<byte> s, int start, int stop)
    {
        bool negative = s[start] == (byte)'-';
        int digits = stop - start - (negative ? 1 : 0);
        int value = digits <= sizeof(ulong) ? EightDigitsEndingAt(s, stop, digits) : ReadNineDigits(s, stop);
        return negative ? -value : value;
    }

    // The shape of "TR/Tw/Tc/Tr/Ta " on the next 32 bytes with vector compares, without a loop exit per digit to
    // mispredict: returns the position of the space after it (and where the slashes are, from pos), -1 for "not this
    // shape", -2 for "longer than 32 bytes".
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int ShapeOfTimers(ReadOnlySpan<byte> s, int pos, out uint slashes)
    {
        slashes = 0;
        Vector128<byte> low = Vector128.Create(s.Slice(pos, 16));
        Vector128<byte> high = Vector128.Create(s.Slice(pos + 16, 16));
        uint spaces = Mask(Vector128.Equals(low, Vector128.Create((byte)' ')), Vector128.Equals(high, Vector128.Create((byte)' ')));
        if (spaces == 0)
        {
            return -2;
        }

        uint digits = Mask(Digits(low), Digits(high));
        slashes = Mask(Vector128.Equals(low, Vector128.Create((byte)'/')), Vector128.Equals(high, Vector128.Create((byte)'/')));
        uint minuses = Mask(Vector128.Equals(low, Vector128.Create((byte)'-')), Vector128.Equals(high, Vector128.Create((byte)'-')));
        int end = BitOperations.TrailingZeroCount(spaces);
        uint region = (1u << end) - 1; // the bytes before the space
        slashes &= region;
        uint starts = (1u | (slashes << 1)) & region; // where each number begins
        uint two = digits & (digits >> 1);
        uint four = two & (two >> 2);
        uint eight = four & (four >> 4);
        return (region & ~(digits | slashes | minuses)) != 0 // only digits, '/' and '-'
            || BitOperations.PopCount(slashes) != 4
            || (minuses & region & ~starts) != 0 // a '-' only as a number's sign
            || ((slashes | (1u << end)) & ~(digits << 1)) != 0 // every number ends with a digit
            || (eight & (two >> 8) & region) != 0 // no number of ten digits or more
            ? -1 : pos + end;
    }

    // 1 to 8 digits ending before `end`, read as one 64-bit word (the bytes before them count as '0').
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int EightDigitsEndingAt(ReadOnlySpan<byte> s, int end, int count)
    {
        const ulong Zeros = 0x3030303030303030;
        ulong word = MemoryMarshal.Read<ulong>(s.Slice(end - sizeof(ulong), sizeof(ulong)));
        ulong digits = ulong.MaxValue << ((sizeof(ulong) - count) * 8); // little-endian: the last bytes are the high ones
        word = ((word & digits) | (Zeros & ~digits)) - Zeros;
        word = (word * 10) + (word >> 8); // pairs of digits
        word = (((word & 0x000000FF000000FF) * (100 + (1000000UL << 32))) + (((word >> 16) & 0x000000FF000000FF) * (1 + (10000UL << 32)))) >> 32;
        return (int)(uint)word;
    }

    private static int ReadNineDigits(ReadOnlySpan<byte> s, int end) =>
        ((s[end - 9] - '0') * 100_000_000) + EightDigitsEndingAt(s, end, sizeof(ulong));

    private static bool TryReadTimersOneByOne(ReadOnlySpan<byte> s, ref int pos, ref Timers timers)
    {
        int i = pos;
        for (int n = 0; n < 5; n++)
        {
            bool negative = (uint)i < (uint)s.Length && s[i] == (byte)'-';
            if (negative)
            {
                i++;
            }

            int value = ReadDigits(s, ref i, 9);
            if (value < 0 || (uint)i >= (uint)s.Length || s[i] != (n < 4 ? (byte)'/' : (byte)' '))
            {
                return false;
            }

            timers[n] = negative ? -value : value;
            i++;
        }

        pos = i;
        return true;
    }

    // status bytes req_cookie res_cookie termination counters, then the request line's quote (or captures before
    // it): returns the position of that quote, or -1. No byte accepted is a newline.
    private static int ReadHttpTail(ReadOnlySpan<byte> s, int pos, out int status)
    {
        // The status: three digits and a space nearly always; else 1 to 3 digits as the parser reads them.
        if (s.Length > pos + 3 && s[pos + 3] == (byte)' ' && TwoDigits(s, pos) >= 0 && (uint)(s[pos + 2] - '0') <= 9)
        {
            status = (TwoDigits(s, pos) * 10) + (s[pos + 2] - '0');
            pos += 3;
        }
        else
        {
            status = ReadDigits(s, ref pos, 3);
            if (status < 0 || (uint)pos >= (uint)s.Length || s[pos] != (byte)' ')
            {
                return -1;
            }
        }

        pos++;
        // Bytes: 1 to 15 digits (the parser takes 18) and a space; only their shape matters here.
        if (!Vector128.IsHardwareAccelerated || s.Length - pos < 16)
        {
            return -1;
        }

        int digits = BitOperations.TrailingZeroCount(~Digits(Vector128.Create(s.Slice(pos, 16))).ExtractMostSignificantBits());
        if (digits is 0 or 16 || s[pos + digits] != (byte)' ')
        {
            return -1;
        }

        pos += digits + 1;
        if (!SkipToken(s, ref pos) || !SkipToken(s, ref pos))
        {
            return -1;
        }

        // Termination state: four bytes without a space (nor a newline), then a space.
        if (s.Length <= pos + 4 || s[pos + 4] != (byte)' '
            || IsSpaceOrNewline(s[pos]) || IsSpaceOrNewline(s[pos + 1]) || IsSpaceOrNewline(s[pos + 2]) || IsSpaceOrNewline(s[pos + 3]))
        {
            return -1;
        }

        pos += 5;
        pos = SkipCounters(s, pos);
        if (pos < 0 || pos >= s.Length)
        {
            return -1;
        }

        if (s[pos] == (byte)'"')
        {
            return pos;
        }

        // Captured headers: their block may hold anything but a newline before the request's quote.
        int quote = s[pos] == (byte)'{' ? s[pos..].IndexOfAny((byte)'"', (byte)'\n') : -1;
        return quote > 0 && s[pos + quote] == (byte)'"' ? pos + quote : -1;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool IsSpaceOrNewline(byte b) => b is (byte)' ' or (byte)'\n';

    // A cookie field: nearly always "- ", checked inline; anything else is searched for its space.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool SkipToken(ReadOnlySpan<byte> s, ref int pos)
    {
        if (s.Length > pos + 1 && s[pos] == (byte)'-' && s[pos + 1] == (byte)' ')
        {
            pos += 2;
            return true;
        }

        return SkipLongToken(s, ref pos);
    }

    private static bool SkipLongToken(ReadOnlySpan<byte> s, ref int pos)
    {
        int space = s[pos..].IndexOfAny((byte)' ', (byte)'\n');
        if (space <= 0 || s[pos + space] != (byte)' ')
        {
            return false;
        }

        pos += space + 1;
        return true;
    }

    // "a/f/b/s/r sq/bq ": seven unsigned numbers of 1 to 9 digits, checked on the next 32 bytes with vector compares where there are that many.
    // Returns the position after the second space, or -1 (then the parser decides).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int SkipCounters(ReadOnlySpan<byte> s, int pos)
    {
        const int Width = 32;
        if (!Vector128.IsHardwareAccelerated || s.Length - pos < Width)
        {
            return -1;
        }

        // Two 16-byte vectors rather than one of 32: Native AOT for x64 targets SSE by default, not AVX2.
        Vector128<byte> low = Vector128.Create(s.Slice(pos, 16));
        Vector128<byte> high = Vector128.Create(s.Slice(pos + 16, 16));
        uint digits = Mask(Digits(low), Digits(high));
        uint slashes = Mask(Vector128.Equals(low, Vector128.Create((byte)'/')), Vector128.Equals(high, Vector128.Create((byte)'/')));
        uint spaces = Mask(Vector128.Equals(low, Vector128.Create((byte)' ')), Vector128.Equals(high, Vector128.Create((byte)' ')));
        int first = BitOperations.TrailingZeroCount(spaces);
        uint rest = spaces & (spaces - 1);
        if (rest == 0)
        {
            return -1;
        }

        int second = BitOperations.TrailingZeroCount(rest);
        uint region = (1u << second) - 1; // bytes before the second space
        uint firstPart = (1u << first) - 1;
        uint separators = (slashes | spaces) & (region | (1u << second));
        if ((region & ~(digits | slashes | (1u << first))) != 0 // only digits and slashes, one space between
            || BitOperations.PopCount(slashes & firstPart) != 4 || BitOperations.PopCount(slashes & region & ~firstPart) != 1
            || (digits & 1) == 0 || (separators & ~(digits << 1)) != 0) // every number has a digit
        {
            return -1;
        }

        // No number of ten digits or more: ten digits in a row.
        uint two = digits & (digits >> 1);
        uint four = two & (two >> 2);
        uint eight = four & (four >> 4);
        return (eight & (two >> 8) & region) != 0 ? -1 : pos + second + 1;
    }

    // The positions of the first two spaces at or after pos (-1 for one not found).
    private static (int First, int Second) NextTwoSpaces(ReadOnlySpan<byte> s, int pos)
    {
        if (Vector128.IsHardwareAccelerated && s.Length - pos >= 32)
        {
            Vector128<byte> space = Vector128.Create((byte)' ');
            uint spaces = Mask(Vector128.Equals(Vector128.Create(s.Slice(pos, 16)), space), Vector128.Equals(Vector128.Create(s.Slice(pos + 16, 16)), space));
            uint rest = spaces & (spaces - 1);
            if (rest != 0)
            {
                return (pos + BitOperations.TrailingZeroCount(spaces), pos + BitOperations.TrailingZeroCount(rest));
            }
        }

        int first = s[pos..].IndexOf((byte)' ');
        if (first < 0)
        {
            return (-1, -1);
        }

        int second = s[(pos + first + 1)..].IndexOf((byte)' ');
        return (pos + first, second < 0 ? -1 : pos + first + 1 + second);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<byte> Digits(Vector128<byte> v) =>
        Vector128.LessThanOrEqual(v - Vector128.Create((byte)'0'), Vector128.Create((byte)9));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint Mask(Vector128<byte> low, Vector128<byte> high) =>
        low.ExtractMostSignificantBits() | (high.ExtractMostSignificantBits() << 16);

    // 1 to maxDigits (≤ 9) digits, or -1 (none, or more than maxDigits); i is left after them.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int ReadDigits(ReadOnlySpan<byte> s, ref int i, int maxDigits)
    {
        int start = i;
        int number = 0;
        uint digit;
        int j = i;
        while ((uint)j < (uint)s.Length && (digit = (uint)(s[j] - '0')) <= 9)
        {
            if (j - start == maxDigits)
            {
                return -1;
            }

            number = (number * 10) + (int)digit;
            j++;
        }

        i = j;
        return j == start ? -1 : number;
    }

    // Two digits as a number, or -1 (compare as uint to reject it with any upper bound).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int TwoDigits(ReadOnlySpan<byte> s, int at)
    {
        uint hi = (uint)(s[at] - '0');
        uint lo = (uint)(s[at + 1] - '0');
        return hi <= 9 && lo <= 9 ? (int)((hi * 10) + lo) : -1;
    }

    /// <summary>The five HTTP timers of a line.</summary>
    [InlineArray(5)]
    public struct Timers
    {
        private int _element;
    }
}

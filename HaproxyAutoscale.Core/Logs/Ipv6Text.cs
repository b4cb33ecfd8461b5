namespace HaproxyAutoscale.Logs;

/// <summary>
/// Parses the text of an IPv6 address as HAProxy logs it (<c>2001:db8::1</c>, <c>::1</c>, <c>::ffff:10.0.0.1</c>)
/// from UTF-8 bytes without allocating: <see cref="System.Net.IPAddress"/> would allocate an object per log line of
/// every IPv6 client.
/// </summary>
internal static class Ipv6Text
{
    /// <summary>Eight 16-bit groups in hex, at most one <c>::</c> for a run of zero groups, optionally ending in IPv4 dotted form (the last two groups).</summary>
    /// <returns>The address, most significant group first, as a big-endian 128-bit number.</returns>
    public static bool TryParse(ReadOnlySpan<byte> s, out UInt128 address)
    {
        address = 0;
        UInt128 head = 0; // groups before "::" (or all of them)
        UInt128 tail = 0; // groups after "::"
        int headCount = 0;
        int tailCount = 0;
        bool compressed = false;
        int i = 0;
        if (s.StartsWith("::"u8))
        {
            compressed = true;
            i = 2;
        }

        while (i < s.Length)
        {
            int groups;
            uint value;
            if (TryReadIPv4(s[i..], out uint v4))
            {
                (groups, value, i) = (2, v4, s.Length);
            }
            else if (TryReadHexGroup(s, ref i, out ushort group))
            {
                (groups, value) = (1, group);
            }
            else
            {
                return false;
            }

            if (headCount + tailCount + groups > 8)
            {
                return false;
            }

            if (compressed)
            {
                tail = (tail << (16 * groups)) | value;
                tailCount += groups;
            }
            else
            {
                head = (head << (16 * groups)) | value;
                headCount += groups;
            }

            if (i == s.Length)
            {
                break;
            }

            // A group is followed by ":" and another group, or by "::" (once), which may end the address.
            if (s[i] != (byte)':' || ++i == s.Length)
            {
                return false;
            }

            if (s[i] == (byte)':')
            {
                if (compressed)
                {
                    return false;
                }

                compressed = true;
                i++;
            }
        }

        // "::" stands for at least one zero group.
        if (compressed ? headCount + tailCount > 7 : headCount != 8)
        {
            return false;
        }

        // The head's groups are the most significant; the tail's the least; zeros in between.
        address = headCount == 0 ? tail : (head << (16 * (8 - headCount))) | tail;
        return true;
    }

    // 1 to 4 hex digits.
    private static bool TryReadHexGroup(ReadOnlySpan<byte> s, ref int pos, out ushort group)
    {
        int value = 0;
        int i = pos;
        while (i < s.Length && i - pos < 4 && HexValue(s[i]) is int digit and >= 0)
        {
            value = (value << 4) | digit;
            i++;
        }

        group = (ushort)value;
        if (i == pos || (i < s.Length && HexValue(s[i]) >= 0))
        {
            return false;
        }

        pos = i;
        return true;
    }

    // The whole rest is "a.b.c.d".
    private static bool TryReadIPv4(ReadOnlySpan<byte> s, out uint address)
    {
        address = 0;
        if (!s.Contains((byte)'.'))
        {
            return false;
        }

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
                (octets, value) = (octets + 1, -1);
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

        address = (address << 8) | (uint)value;
        return octets == 3 && value >= 0;
    }

    private static int HexValue(byte b) => b switch
    {
        >= (byte)'0' and <= (byte)'9' => b - '0',
        >= (byte)'a' and <= (byte)'f' => b - 'a' + 10,
        >= (byte)'A' and <= (byte)'F' => b - 'A' + 10,
        _ => -1,
    };
}

namespace HaproxyAutoscale.Logs;

/// <summary>The <c>MSG-LEN</c> prefix of an octet-counted syslog message (RFC 6587): parsing it and quoting a bad one.</summary>
internal static class OctetCount
{
    /// <summary>RFC 6587's MSG-LEN has no upper bound; ten digits exceed any line HAProxy can log.</summary>
    public const int MaxDigits = 10;

    /// <summary>Parses a length of 1 to <see cref="MaxDigits"/> digits without a leading zero.</summary>
    public static bool TryParse(ReadOnlySpan<byte> digits, out long length)
    {
        length = 0;
        if (digits.IsEmpty || digits.Length > MaxDigits || digits[0] == (byte)'0')
        {
            return false;
        }

        foreach (byte digit in digits)
        {
            if (digit is < (byte)'0' or > (byte)'9')
            {
                return false;
            }

            length = (length * 10) + (digit - '0');
        }

        return true;
    }

    /// <summary>The first bytes of a bad length, printable, for the reason a connection is closed.</summary>
    public static string Printable(ReadOnlySpan<byte> bytes)
    {
        var text = new System.Text.StringBuilder();
        foreach (byte b in bytes[..Math.Min(bytes.Length, 20)])
        {
            text.Append(b is >= 32 and < 127 ? (char)b : '?');
        }

        return bytes.Length > 20 ? text.Append('…').ToString() : text.ToString();
    }
}

using System.Buffers.Text;

namespace HaproxyAutoscale.Scaling;

/// <summary>
/// The wake line the shipped Lua script (<c>haproxy-autoscale lua</c>) writes through the proxy's own log targets
/// while it holds requests for a backend with no usable server: <c>haproxy-autoscale wake backend=NAME held=N</c>.
/// Whatever HAProxy puts before the message (a syslog header of any format, a <c>log-tag</c>, none) is skipped: the
/// marker is searched for, so only lines the request parser did not take pay for it.
/// </summary>
internal static class WakeLine
{
    /// <summary>The most held requests a line may report (the Lua script's count cannot be larger on any real HAProxy).</summary>
    public const int MaxHeld = 1_000_000;

    private static ReadOnlySpan<byte> Marker => "haproxy-autoscale wake backend="u8;

    private static ReadOnlySpan<byte> HeldKey => " held="u8;

    /// <summary>
    /// Whether <paramref name="line"/> is a wake line; if so, the backend's name (a slice of the line) and the number
    /// of requests held. A line with the marker but a malformed rest is not a wake line.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> line, out ReadOnlySpan<byte> backend, out int held)
    {
        backend = default;
        held = 0;
        int at = line.IndexOf(Marker);
        if (at < 0)
        {
            return false;
        }

        ReadOnlySpan<byte> rest = line[(at + Marker.Length)..];
        int end = rest.IndexOf(HeldKey);
        if (end <= 0 || rest[..end].IndexOfAny((byte)' ', (byte)'\t') >= 0)
        {
            return false;
        }

        ReadOnlySpan<byte> number = rest[(end + HeldKey.Length)..];
        if (!Utf8Parser.TryParse(number, out int value, out int consumed) || consumed == 0 || value < 0 || value > MaxHeld
            || (consumed < number.Length && !IsLineEnd(number[consumed..])))
        {
            return false;
        }

        backend = rest[..end];
        held = value;
        return true;
    }

    // After the number: nothing, or what a transport leaves at the end of a line (CR, LF, NUL, spaces).
    private static bool IsLineEnd(ReadOnlySpan<byte> tail) => tail.IndexOfAnyExcept(" \t\r\n\0"u8) < 0;
}

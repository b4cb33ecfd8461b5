using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace HaproxyAutoscale.Logs;

/// <summary>
/// The sender addresses a datagram source accepts, as prefixes precomputed into 128-bit value/mask pairs: a check
/// reads the sender's bytes straight from the <see cref="SocketAddress"/> the socket filled and compares them with
/// each prefix (a few integer operations each, no allocation). IPv4 senders that reach an IPv6 socket as
/// <c>::ffff:a.b.c.d</c> are matched against the IPv4 prefixes.
/// </summary>
internal sealed class SenderAllowlist
{
    // The byte offsets of the address in sockaddr_in and sockaddr_in6, the same on Linux, BSD, macOS and Windows.
    private const int IPv4Offset = 4;
    private const int IPv6Offset = 8;
    private static readonly UInt128 MappedIPv4Prefix = (UInt128)0xFFFF << 32;

    private readonly Prefix[] _prefixes;

    public SenderAllowlist(IEnumerable<IPNetwork> networks)
    {
        IPNetwork[] all = [.. networks];
        _prefixes = [.. all.Select(ToPrefix)];
        Description = string.Join(", ", all.Select(n => n.ToString()));
    }

    /// <summary>The prefixes as configured, for messages: <c>127.0.0.0/8, ::1/128</c>.</summary>
    public string Description { get; }

    /// <summary>The default: loopback only (<c>127.0.0.0/8</c> and <c>::1</c>).</summary>
    public static IPNetwork[] Loopback => [new(new IPAddress([127, 0, 0, 0]), 8), new(IPAddress.IPv6Loopback, 128)];

    /// <summary>Whether the sender in <paramref name="sender"/> (an IPv4 or IPv6 socket address) is allowed.</summary>
    public bool Allows(SocketAddress sender) => TryReadSender(sender, out UInt128 address, out bool v4) && Allows(address, v4);

    /// <summary>Whether <paramref name="address"/> (an IPv6 address, or an IPv4 one as <c>::ffff:a.b.c.d</c>) is allowed.</summary>
    public bool Allows(UInt128 address, bool v4)
    {
        foreach (Prefix prefix in _prefixes)
        {
            if (prefix.V4 == v4 && (address & prefix.Mask) == prefix.Value)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// The sender of <paramref name="socketAddress"/> as a 128-bit number (IPv4 as <c>::ffff:a.b.c.d</c>, flagged by
    /// <paramref name="v4"/>); false for any other family.
    /// </summary>
    public static bool TryReadSender(SocketAddress socketAddress, out UInt128 address, out bool v4) =>
        TryReadSender(socketAddress.Family, socketAddress.Buffer.Span[..socketAddress.Size], out address, out v4);

    /// <summary>The sender in <paramref name="bytes"/>, a <c>sockaddr_in</c> or <c>sockaddr_in6</c> of <paramref name="family"/>.</summary>
    public static bool TryReadSender(AddressFamily family, ReadOnlySpan<byte> bytes, out UInt128 address, out bool v4)
    {
        switch (family)
        {
            case AddressFamily.InterNetwork when bytes.Length >= IPv4Offset + 4:
                address = MappedIPv4Prefix | BinaryPrimitives.ReadUInt32BigEndian(bytes[IPv4Offset..]);
                v4 = true;
                return true;
            case AddressFamily.InterNetworkV6 when bytes.Length >= IPv6Offset + 16:
                address = BinaryPrimitives.ReadUInt128BigEndian(bytes[IPv6Offset..]);
                v4 = address >> 32 == (UInt128)0xFFFF;
                return true;
            default:
                address = default;
                v4 = false;
                return false;
        }
    }

    /// <summary>The sender for messages: <c>127.0.0.2</c>, <c>2001:db8::1</c>.</summary>
    public static string Format(UInt128 address, bool v4)
    {
        if (v4)
        {
            return new IPAddress(BitConverter.IsLittleEndian ? BinaryPrimitives.ReverseEndianness((uint)address) : (uint)address).ToString();
        }

        Span<byte> bytes = stackalloc byte[16];
        BinaryPrimitives.WriteUInt128BigEndian(bytes, address);
        return new IPAddress(bytes).ToString();
    }

    /// <summary>
    /// Reads one entry of <c>logs.allowFrom</c>: an IP address (<c>10.0.0.5</c>, <c>::1</c>) or a CIDR prefix
    /// (<c>10.0.0.0/8</c>, <c>fd00::/8</c>) whose address has no bit set past the prefix length.
    /// </summary>
    public static bool TryParse(string? text, out IPNetwork network, out string? error)
    {
        network = default;
        error = null;
        string value = text ?? "";
        int slash = value.IndexOf('/', StringComparison.Ordinal);
        string addressText = slash < 0 ? value : value[..slash];
        if (addressText.Contains('%', StringComparison.Ordinal) || !IPAddress.TryParse(addressText, out IPAddress? address))
        {
            error = $"'{value}' is not an IP address or a CIDR prefix such as 10.0.0.0/8 or ::1";
            return false;
        }

        int maximum = address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128;
        int length = slash < 0 ? maximum : ParseLength(value.AsSpan(slash + 1), maximum);
        if (length < 0)
        {
            error = $"'{value}': the prefix length must be a number from 0 to {maximum}";
            return false;
        }

        byte[] bytes = address.GetAddressBytes();
        for (int bit = length; bit < bytes.Length * 8; bit++)
        {
            if ((bytes[bit / 8] & (0x80 >> (bit % 8))) != 0)
            {
                Mask(bytes, length);
                error = $"'{value}' has address bits set past the /{length} prefix (did you mean {new IPAddress(bytes)}/{length}?)";
                return false;
            }
        }

        // ::ffff:a.b.c.d is how an IPv4 sender shows on an IPv6 socket: the same as a.b.c.d.
        network = address.IsIPv4MappedToIPv6 && length >= 96 ? new IPNetwork(address.MapToIPv4(), length - 96) : new IPNetwork(address, length);
        return true;
    }

    private static int ParseLength(ReadOnlySpan<char> text, int maximum) =>
        text.Length is > 0 and <= 3 && !text.ContainsAnyExcept("0123456789")
        && int.Parse(text, NumberStyles.None, CultureInfo.InvariantCulture) is int length && length <= maximum ? length : -1;

    private static void Mask(byte[] bytes, int length)
    {
        for (int bit = length; bit < bytes.Length * 8; bit++)
        {
            bytes[bit / 8] &= (byte)~(0x80 >> (bit % 8));
        }
    }

    private static Prefix ToPrefix(IPNetwork network)
    {
        IPAddress address = network.BaseAddress;
        int length = network.PrefixLength;
        if (address.IsIPv4MappedToIPv6 && length >= 96)
        {
            address = address.MapToIPv4();
            length -= 96;
        }

        bool v4 = address.AddressFamily == AddressFamily.InterNetwork;
        Span<byte> bytes = stackalloc byte[16];
        UInt128 value;
        if (v4)
        {
            address.TryWriteBytes(bytes, out _);
            value = MappedIPv4Prefix | BinaryPrimitives.ReadUInt32BigEndian(bytes);
            length += 96;
        }
        else
        {
            address.TryWriteBytes(bytes, out _);
            value = BinaryPrimitives.ReadUInt128BigEndian(bytes);
        }

        UInt128 mask = length == 0 ? UInt128.Zero : UInt128.MaxValue << (128 - length);
        return new Prefix(value & mask, mask, v4);
    }

    private readonly record struct Prefix(UInt128 Value, UInt128 Mask, bool V4);
}

using System.Buffers;
using System.Text;

namespace HaproxyAutoscale.Control;

/// <summary>
/// The characters HAProxy allows in proxy and server names, in one place: the log parser recognises names with them,
/// the Runtime API client refuses to send any other, and configuration rejects names that would be refused.
/// </summary>
internal static class HaproxyNames
{
    /// <summary>The characters, as a message says them.</summary>
    public const string Description = "letters, digits, '_', ':', '.', '-'";

    private const string Characters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_:.-";

    /// <summary>The characters, for text.</summary>
    public static readonly SearchValues<char> Chars = SearchValues.Create(Characters);

    /// <summary>The characters, for UTF-8 log lines.</summary>
    public static readonly SearchValues<byte> Bytes = SearchValues.Create(Encoding.ASCII.GetBytes(Characters));
}

namespace HaproxyAutoscale.Logs;

/// <summary>The line ends senders leave on a syslog message, datagram or framed alike.</summary>
internal static class SyslogTerminators
{
    /// <summary>
    /// <paramref name="message"/> without trailing LF, CR and NUL: a sender may end each message with LF (rsyslog) or
    /// CR LF even inside an octet count or a datagram.
    /// </summary>
    public static ReadOnlySpan<byte> Trim(ReadOnlySpan<byte> message)
    {
        int end = message.Length;
        while (end > 0 && message[end - 1] is (byte)'\n' or (byte)'\r' or 0)
        {
            end--;
        }

        return message[..end];
    }
}

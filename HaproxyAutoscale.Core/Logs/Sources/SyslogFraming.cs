namespace HaproxyAutoscale.Logs;

/// <summary>How the messages of one syslog TCP connection are delimited (RFC 6587).</summary>
internal enum SyslogFraming
{
    /// <summary>Not known yet: too few bytes have arrived to tell.</summary>
    Unknown,

    /// <summary><c>LEN SP MSG</c>, no terminator: HAProxy's ring <c>server … log-proto octet-count</c>, rsyslog <c>TCP_Framing="octet-counted"</c>.</summary>
    OctetCounting,

    /// <summary>Each message ends with LF: HAProxy's ring <c>server</c> by default (<c>log-proto legacy</c>), rsyslog <c>omfwd</c> by default.</summary>
    LineFeed,
}

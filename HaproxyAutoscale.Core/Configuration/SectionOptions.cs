namespace HaproxyAutoscale.Configuration;

/// <summary>The HAProxy instances the autoscaler commands (the <c>haproxy</c> section).</summary>
public sealed class HaproxyOptions
{
    /// <summary>Stats socket endpoints (several = several HAProxy instances, all commanded).</summary>
    public IList<string> Endpoints { get; } = [];

    /// <summary>Deadline of one Runtime API exchange.</summary>
    /// <value>The default is 2 seconds.</value>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(2);
}

/// <summary>Where log lines come from and how far they are trusted (the <c>logs</c> section).</summary>
public sealed class LogOptions
{
    /// <summary>Where log lines come from: <c>udp@HOST:PORT</c>, <c>tcp@HOST:PORT</c>, <c>unix@/path</c>, a file path or <c>-</c>.</summary>
    /// <value>The default is <c>udp@127.0.0.1:5140</c>.</value>
    public string Source { get; set; } = "udp@127.0.0.1:5140";

    /// <summary>
    /// The senders a UDP log source accepts datagrams from: IP addresses (<c>10.0.0.5</c>, <c>::1</c>) or CIDR prefixes
    /// (<c>10.0.0.0/8</c>). A datagram from any other sender is dropped before it is parsed and counted as rejected
    /// (<c>log_lines{outcome="rejected"}</c>; the first one from each sender is logged as event 18), so whoever can
    /// reach the port cannot fake load or idleness. Applies to <c>udp@</c> datagrams and <c>tcp@</c> connections: a <c>unix@</c> socket is
    /// guarded by its file mode, a file or standard input by who may write them. Clear the list before adding your
    /// own entries; <c>0.0.0.0/0</c> and <c>::/0</c> accept every sender.
    /// </summary>
    /// <value>The default is loopback only: <c>127.0.0.0/8</c> and <c>::1</c>.</value>
    public IList<string> AllowFrom { get; } = ["127.0.0.0/8", "::1"];

    /// <summary>The fraction of requests HAProxy logs: 1 without sampling, 0.1 for <c>log … sample 1:10</c>.</summary>
    /// <value>The default is 1.</value>
    public double SampleRatio { get; set; } = 1;

    /// <summary>
    /// Below this log coverage (requests logged ÷ requests HAProxy counted, after <see cref="SampleRatio"/>) while
    /// HAProxy counts traffic, a backend is blind: nothing scales it down until its logs are back.
    /// </summary>
    /// <value>The default is 0.5.</value>
    public double MinCoverage { get; set; } = 0.5;

    /// <summary>What a blind backend may still do: scale up from HAProxy's counters, or hold.</summary>
    /// <value>The default is <see cref="BlindFallback.Stat"/>.</value>
    public BlindFallback Fallback { get; set; } = BlindFallback.Stat;
}

/// <summary>A backend's policy (the <c>policy</c> object): which one, and its own settings.</summary>
public sealed class PolicyOptions
{
    /// <summary>The policy's name in the <see cref="Policies.ScalingPolicyRegistry"/>.</summary>
    /// <value>
    /// The default is <c>concurrency</c> (chosen by measurement: see docs/policies.md); the classic
    /// algorithm is <c>threshold</c>.
    /// </value>
    public string Kind { get; set; } = Policies.ScalingPolicyNames.Concurrency;

    /// <summary>The policy's settings as configured (every key but <c>kind</c>; values as text, read by the policy's factory).</summary>
    public IDictionary<string, string> Settings { get; } = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
}

namespace HaproxyAutoscale.Providers;

/// <summary>
/// How a backend's servers are started and stopped (<c>"provider": {"kind": "exec", "start": […], …}</c>). Without a
/// provider a parked server is only out of HAProxy's rotation; with one, it is stopped after
/// <see cref="KeepWarm"/> in maintenance and started again before it is warmed up and enabled.
/// </summary>
public sealed class ServerProviderOptions
{
    /// <summary>The provider's name in the <see cref="ServerProviderRegistry"/>: <c>exec</c> or one an embedder registered.</summary>
    public string Kind { get; set; } = "";

    /// <summary>
    /// How long a parked server keeps running before it is stopped: a scale-up within this time enables it again
    /// without a cold start. Zero stops it as soon as it is in maintenance.
    /// </summary>
    /// <value>The default is 5 minutes.</value>
    public TimeSpan KeepWarm { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>The deadline of one start, stop or status call; past it the call is cancelled (the exec provider kills the command's process tree).</summary>
    /// <value>The default is 60 seconds.</value>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>The provider's own settings with a single value (text), read by its factory.</summary>
    public IDictionary<string, string> Settings { get; } = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);

    /// <summary>The provider's own settings with a list of values (the exec provider's argument arrays), read by its factory.</summary>
    public IDictionary<string, IList<string>> Lists { get; } = new Dictionary<string, IList<string>>(StringComparer.OrdinalIgnoreCase);
}

/// <summary>
/// Servers the autoscaler adds to a backend at run time (<c>add server</c>) beyond the ones haproxy.cfg declares:
/// slots <c>{prefix}1</c> to <c>{prefix}{max}</c>, each started through the backend's provider, whose start must
/// print the <c>ADDRESS:PORT</c> the server listens on. The backend needs a dynamic load-balancing algorithm
/// (<c>roundrobin</c>, <c>leastconn</c>, <c>random</c>; not <c>static-rr</c> or a hash).
/// </summary>
public sealed class ServerPoolOptions
{
    /// <summary>The slots' name prefix; it must not start any server name of haproxy.cfg's backend.</summary>
    /// <value>The default is <c>auto</c>.</value>
    public string Prefix { get; set; } = "auto";

    /// <summary>How many slots: at most this many servers are added.</summary>
    /// <value>The default is 10.</value>
    public int Max { get; set; } = 10;

    /// <summary>
    /// The <c>server</c> keywords of an added server, e.g. <c>check inter 2s weight 10</c>. Runtime-added servers
    /// ignore <c>default-server</c>, so write here what they need; with <c>check</c> the health check is enabled too.
    /// </summary>
    /// <value>The default is empty.</value>
    public string ServerOptions { get; set; } = "";

    /// <summary>The path requested on the started server (<c>http://ADDRESS:PORT{path}</c>) before it is enabled; none = no warm-up.</summary>
    /// <value>The default is <c>/</c>.</value>
    public string? WarmupPath { get; set; } = "/";
}

using System.Globalization;
using System.Text;

namespace HaproxyAutoscale.Lab;

/// <summary>
/// A haproxy.cfg for app servers on loopback, written once for every rig: <c>global</c> (stats sockets at level
/// admin, log targets, extra lines such as <c>lua-load</c>), rings for TCP log targets, <c>defaults</c> (mode,
/// timeouts, <c>option httplog</c> when something logs), frontends, backends with their servers, and raw sections
/// for whatever a rig needs in particular. <see cref="ToString"/> is the config's text.
/// </summary>
/// <example><code>
/// var config = new HaproxyConfig { StatsSocket = dir.File("admin.sock"), Logs = { HaproxyLogTarget.Udp(logPort) } };
/// config.Frontends.Add(new HaproxyFrontend("fe", frontendPort));
/// config.Backends.Add(new HaproxyBackend("app") { Servers = { new("s1", app.Port) { Weight = 10 } } });
/// </code></example>
public sealed class HaproxyConfig
{
    /// <summary>A UNIX stats socket at level admin (mode 600); the first socket is the one polled for readiness.</summary>
    public string? StatsSocket { get; set; }

    /// <summary>A TCP stats socket on 127.0.0.1 at level admin.</summary>
    public int? StatsPort { get; set; }

    /// <summary>Where HAProxy sends its logs (<c>log … local0</c> lines; a TCP target adds its ring section).</summary>
    public IList<HaproxyLogTarget> Logs { get; } = [];

    /// <summary>More lines of <c>global</c> (<c>lua-load</c>, another stats socket…).</summary>
    public IList<string> Global { get; } = [];

    public string Mode { get; set; } = "http";

    public string ConnectTimeout { get; set; } = "1s";

    public string ClientTimeout { get; set; } = "10s";

    public string ServerTimeout { get; set; } = "10s";

    /// <summary>More lines of <c>defaults</c>.</summary>
    public IList<string> Defaults { get; } = [];

    public IList<HaproxyFrontend> Frontends { get; } = [];

    public IList<HaproxyBackend> Backends { get; } = [];

    /// <summary>Raw sections appended at the end (a <c>listen</c>, another <c>backend</c> written by hand…).</summary>
    public IList<string> Sections { get; } = [];

    /// <summary>
    /// The usual rig: an admin socket at <paramref name="statsSocket"/>, logs to <paramref name="logs"/>, frontend
    /// <c>fe</c> on 127.0.0.1:<paramref name="frontendPort"/> sending everything to <paramref name="backend"/>.
    /// </summary>
    public static HaproxyConfig ForApps(string statsSocket, int frontendPort, HaproxyBackend backend, params IEnumerable<HaproxyLogTarget> logs)
    {
        ArgumentNullException.ThrowIfNull(backend);
        var config = new HaproxyConfig { StatsSocket = statsSocket };
        foreach (HaproxyLogTarget log in logs)
        {
            config.Logs.Add(log);
        }

        config.Frontends.Add(new HaproxyFrontend("fe", frontendPort) { DefaultBackend = backend.Name });
        config.Backends.Add(backend);
        return config;
    }

    /// <summary>The stats socket the launcher polls until it answers: <see cref="StatsSocket"/>, else the TCP one.</summary>
    public string? ReadySocket => StatsSocket ?? (StatsPort is { } port ? string.Create(CultureInfo.InvariantCulture, $"ipv4@127.0.0.1:{port}") : null);

    /// <summary>The config's text.</summary>
    public override string ToString()
    {
        var text = new StringBuilder("global\n");
        if (StatsSocket is not null)
        {
            text.Append(CultureInfo.InvariantCulture, $"    stats socket {StatsSocket} mode 600 level admin\n");
        }

        if (StatsPort is { } statsPort)
        {
            text.Append(CultureInfo.InvariantCulture, $"    stats socket ipv4@127.0.0.1:{statsPort} level admin\n");
        }

        for (int i = 0; i < Logs.Count; i++)
        {
            text.Append(CultureInfo.InvariantCulture, $"    log {Logs[i].Address(i)} local0\n");
        }

        AppendLines(text, Global);
        for (int i = 0; i < Logs.Count; i++)
        {
            Logs[i].AppendRing(text, i);
        }

        text.Append(CultureInfo.InvariantCulture, $"defaults\n    mode {Mode}\n");
        if (Logs.Count > 0)
        {
            text.Append("    log global\n    option httplog\n");
        }

        text.Append(CultureInfo.InvariantCulture, $"    timeout connect {ConnectTimeout}\n    timeout client {ClientTimeout}\n    timeout server {ServerTimeout}\n");
        AppendLines(text, Defaults);
        foreach (HaproxyFrontend frontend in Frontends)
        {
            text.Append(CultureInfo.InvariantCulture, $"frontend {frontend.Name}\n    bind 127.0.0.1:{frontend.Port}\n");
            AppendLines(text, frontend.Lines);
            text.Append(CultureInfo.InvariantCulture, $"    default_backend {frontend.DefaultBackend}\n");
        }

        foreach (HaproxyBackend backend in Backends)
        {
            text.Append(CultureInfo.InvariantCulture, $"backend {backend.Name}\n");
            if (backend.Balance is not null)
            {
                text.Append(CultureInfo.InvariantCulture, $"    balance {backend.Balance}\n");
            }

            AppendLines(text, backend.Lines);
            foreach (HaproxyServer server in backend.Servers)
            {
                text.Append("    ").Append(server).Append('\n');
            }
        }

        foreach (string section in Sections)
        {
            text.Append(section.EndsWith('\n') ? section : section + "\n");
        }

        return text.ToString();
    }

    private static void AppendLines(StringBuilder text, IEnumerable<string> lines)
    {
        foreach (string line in lines)
        {
            text.Append("    ").Append(line).Append('\n');
        }
    }
}

/// <summary>Where HAProxy sends its logs: a UDP port, a UNIX datagram socket, or a TCP port through a ring.</summary>
public sealed class HaproxyLogTarget
{
    private HaproxyLogTarget(string kind, string where)
    {
        Kind = kind;
        Where = where;
    }

    /// <summary><c>udp</c>, <c>unix</c> or <c>tcp</c>.</summary>
    public string Kind { get; }

    /// <summary>The port or the socket's path.</summary>
    public string Where { get; }

    /// <summary>For a TCP target: the ring's forwarding server's options (<c>log-proto octet-count</c>…).</summary>
    public string ServerOptions { get; init; } = "";

    /// <summary>For a TCP target: the ring's name (default <c>ring0</c>, <c>ring1</c>… by position).</summary>
    public string? RingName { get; init; }

    /// <summary>For a TCP target: the ring's message format.</summary>
    public string RingFormat { get; init; } = "rfc5424";

    /// <summary>For a TCP target: the ring's size in bytes (what it holds while its reader lags; older messages are overwritten).</summary>
    public int RingSize { get; init; } = 1_048_576;

    /// <summary>Datagrams to 127.0.0.1:<paramref name="port"/>.</summary>
    public static HaproxyLogTarget Udp(int port) => new("udp", port.ToString(CultureInfo.InvariantCulture));

    /// <summary>Datagrams to the UNIX socket at <paramref name="path"/>.</summary>
    public static HaproxyLogTarget UnixDatagram(string path) => new("unix", path);

    /// <summary>A stream to 127.0.0.1:<paramref name="port"/>, through a ring section (<paramref name="ring"/>; default <c>ring0</c>… by position).</summary>
    public static HaproxyLogTarget Tcp(int port, string serverOptions = "", string? ring = null, int ringSize = 1_048_576) =>
        new("tcp", port.ToString(CultureInfo.InvariantCulture)) { ServerOptions = serverOptions, RingName = ring, RingSize = ringSize };

    internal string Address(int index) => Kind switch
    {
        "udp" => $"127.0.0.1:{Where}",
        "unix" => Where,
        _ => $"ring@{Ring(index)}",
    };

    internal void AppendRing(StringBuilder text, int index)
    {
        if (Kind == "tcp")
        {
            text.Append(CultureInfo.InvariantCulture, $"""
                ring {Ring(index)}
                    description "request logs to the autoscaler"
                    format {RingFormat}
                    maxlen 4096
                    size {RingSize}
                    timeout connect 5s
                    timeout server 10s
                    server autoscaler 127.0.0.1:{Where} {ServerOptions}

                """);
        }
    }

    private string Ring(int index) => RingName ?? string.Create(CultureInfo.InvariantCulture, $"ring{index}");
}

/// <summary>A frontend on 127.0.0.1:<paramref name="port"/> sending to <see cref="DefaultBackend"/>.</summary>
public sealed class HaproxyFrontend(string name, int port)
{
    public string Name { get; } = name;

    public int Port { get; } = port;

    public string DefaultBackend { get; init; } = "app";

    /// <summary>More lines of the section.</summary>
    public IList<string> Lines { get; init; } = [];
}

/// <summary>A backend and its servers (<c>balance roundrobin</c> unless told otherwise; null: no balance line).</summary>
public sealed class HaproxyBackend(string name)
{
    public string Name { get; } = name;

    public string? Balance { get; init; } = "roundrobin";

    /// <summary>More lines of the section, before the servers (<c>retries 0</c>, <c>timeout queue 30s</c>…).</summary>
    public IList<string> Lines { get; init; } = [];

    public IList<HaproxyServer> Servers { get; init; } = [];

    /// <summary>
    /// Backend <paramref name="name"/> with a server per app on 127.0.0.1: the first in service, the others
    /// <c>disabled</c> (for the autoscaler to enable), each with <paramref name="weight"/> and <paramref name="options"/>.
    /// </summary>
    public static HaproxyBackend FirstUp(string name, IEnumerable<(string Server, int Port)> apps, int? weight = 10, string options = "") => new(name)
    {
        Servers = [.. apps.Select((app, i) => new HaproxyServer(app.Server, app.Port) { Weight = weight, Disabled = i > 0, Options = options })],
    };
}

/// <summary>A <c>server</c> line: a name, an address, and its weight, <c>disabled</c>, <c>check</c> and other options.</summary>
public sealed class HaproxyServer(string name, string address)
{
    /// <summary>A server at 127.0.0.1:<paramref name="port"/>.</summary>
    public HaproxyServer(string name, int port)
        : this(name, string.Create(CultureInfo.InvariantCulture, $"127.0.0.1:{port}"))
    {
    }

    public string Name { get; } = name;

    public string Address { get; } = address;

    public int? Weight { get; init; }

    /// <summary>Starts in maintenance (<c>disabled</c>): the autoscaler enables it.</summary>
    public bool Disabled { get; init; }

    /// <summary>Health checks (<c>check</c>).</summary>
    public bool Check { get; init; }

    /// <summary>More options, as written after the address (<c>maxconn 8</c>…).</summary>
    public string Options { get; init; } = "";

    public override string ToString()
    {
        var line = new StringBuilder($"server {Name} {Address}");
        if (Options.Length > 0)
        {
            line.Append(' ').Append(Options);
        }

        if (Weight is { } weight)
        {
            line.Append(CultureInfo.InvariantCulture, $" weight {weight}");
        }

        if (Check)
        {
            line.Append(" check");
        }

        if (Disabled)
        {
            line.Append(" disabled");
        }

        return line.ToString();
    }
}

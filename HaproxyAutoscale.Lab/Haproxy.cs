using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace HaproxyAutoscale.Lab;

/// <summary>
/// A real <c>haproxy</c> process (<see cref="HaproxyBinary.Path"/>) running a generated config in a temp folder, on
/// loopback only: started in the foreground (<c>-db</c>), ready once its stats socket answers <c>show info</c>
/// (polled with a deadline), killed by its PID on stop or dispose. A failure to start names HAProxy's own output.
/// </summary>
public sealed class Haproxy : IAsyncDisposable
{
    /// <summary>How long HAProxy may take to answer on its stats socket.</summary>
    public static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(10);

    /// <summary>HTTP defaults with short timeouts, for hand-written configs.</summary>
    public const string HttpDefaults = """
        defaults
            mode http
            timeout connect 1s
            timeout client 5s
            timeout server 5s

        """;

    private readonly StringBuilder _output = new();
    private Process? _process;
    private TempDirectory? _ownDirectory;

    private Haproxy(string directory, string config, string? readySocket)
    {
        Directory = directory;
        Config = config;
        ConfigPath = System.IO.Path.Combine(directory, "haproxy.cfg");
        ReadySocket = readySocket;
    }

    /// <summary>The folder of the config (and of its sockets).</summary>
    public string Directory { get; }

    /// <summary>The config's text.</summary>
    public string Config { get; }

    public string ConfigPath { get; }

    /// <summary>The stats socket polled for readiness (a UNIX path or <c>ipv4@127.0.0.1:port</c>), if any.</summary>
    public string? ReadySocket { get; }

    /// <summary>The running process's id (0 when stopped).</summary>
    public int Pid => _process?.Id ?? 0;

    /// <summary>What HAProxy wrote on its standard output and error so far.</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>
    /// Starts HAProxy from <paramref name="config"/> in a temp folder of its own, deleted on dispose (<c>{dir}</c> in the
    /// config stands for it, e.g. <c>StatsSocket = "{dir}/admin.sock"</c>); ready once its first stats socket answers.
    /// </summary>
    public static async Task<Haproxy> StartAsync(HaproxyConfig config, CancellationToken cancellationToken = default)
    {
        var directory = new TempDirectory();
        try
        {
            Haproxy haproxy = await StartAsync(config, directory, cancellationToken).ConfigureAwait(false);
            haproxy._ownDirectory = directory;
            return haproxy;
        }
        catch
        {
            directory.Dispose();
            throw;
        }
    }

    /// <summary>Writes <paramref name="config"/> into <paramref name="directory"/> and starts HAProxy; ready once its first stats socket answers.</summary>
    public static Task<Haproxy> StartAsync(HaproxyConfig config, TempDirectory directory, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(config);
        return StartAsync(config.ToString(), directory, config.ReadySocket, cancellationToken);
    }

    /// <summary>
    /// Writes <paramref name="config"/> (with <c>{dir}</c> replaced by the temp folder) and starts HAProxy; with
    /// <paramref name="waitForSocket"/>, ready once that stats socket answers.
    /// </summary>
    public static async Task<Haproxy> StartAsync(string config, TempDirectory directory, string? waitForSocket = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(directory);
        var haproxy = new Haproxy(directory.Path, config.Replace("{dir}", directory.Path, StringComparison.Ordinal), waitForSocket?.Replace("{dir}", directory.Path, StringComparison.Ordinal));
        await File.WriteAllTextAsync(haproxy.ConfigPath, haproxy.Config.EndsWith('\n') ? haproxy.Config : haproxy.Config + "\n", cancellationToken).ConfigureAwait(false);
        await haproxy.StartAsync(haproxy.ReadySocket, cancellationToken).ConfigureAwait(false);
        return haproxy;
    }

    /// <summary>
    /// Starts HAProxy with an admin socket at <c>{dir}/admin.sock</c> (plus <paramref name="moreGlobal"/> lines),
    /// <see cref="HttpDefaults"/> and <paramref name="sections"/>; ready once <paramref name="lastSocket"/> (default: the admin socket) answers.
    /// </summary>
    public static Task<Haproxy> StartWithAdminSocketAsync(string sections, TempDirectory directory, string moreGlobal = "", string? lastSocket = null)
    {
        ArgumentNullException.ThrowIfNull(directory);
        return StartAsync("global\n    stats socket {dir}/admin.sock mode 600 level admin\n" + moreGlobal + "\n" + HttpDefaults + sections, directory, lastSocket ?? directory.File("admin.sock"));
    }

    /// <summary>Starts (again) from the written config; with <paramref name="waitForSocket"/>, until that stats socket answers.</summary>
    public async Task StartAsync(string? waitForSocket, CancellationToken cancellationToken = default)
    {
        var start = new ProcessStartInfo(HaproxyBinary.Require())
        {
            ArgumentList = { "-db", "-f", ConfigPath },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        Process process = Process.Start(start) ?? throw new InvalidOperationException($"{start.FileName} did not start");
        _process = process;
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        if (waitForSocket is not null
            && !await Poll.TryUntilAsync(() => process.HasExited || Answers(waitForSocket), StartTimeout, cancellationToken).ConfigureAwait(false))
        {
            await StopAsync().ConfigureAwait(false);
            throw new InvalidOperationException($"haproxy's stats socket {waitForSocket} did not answer within {StartTimeout.TotalSeconds:0} s: {Output}");
        }

        if (process.HasExited)
        {
            await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false); // the output read to its end
            throw new InvalidOperationException($"haproxy exited with {process.ExitCode}: {Output}");
        }
    }

    /// <summary>Starts again from the same config after <see cref="StopAsync"/>: a new process, ready once its stats socket answers.</summary>
    public Task RestartAsync(CancellationToken cancellationToken = default) => StartAsync(ReadySocket, cancellationToken);

    /// <summary>Kills the process (SIGKILL by its PID) and waits for it to exit.</summary>
    public async Task StopAsync()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync().ConfigureAwait(false);
        }

        _process?.Dispose();
        _process = null;
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        _ownDirectory?.Dispose();
    }

    /// <summary>Waits until a TCP port on 127.0.0.1 accepts connections; fails with HAProxy's output if it exited.</summary>
    public Task WaitForPortAsync(int port) => Poll.UntilAsync(
        () =>
        {
            if (_process is null || _process.HasExited)
            {
                throw new InvalidOperationException($"haproxy exited: {Output}");
            }

            try
            {
                using var client = new TcpClient();
                client.Connect(IPAddress.Loopback, port);
                return true;
            }
            catch (SocketException)
            {
                return false;
            }
        },
        StartTimeout,
        string.Create(CultureInfo.InvariantCulture, $"127.0.0.1:{port} to accept connections"));

    /// <summary>Whether the stats socket at <paramref name="endpoint"/> (a UNIX path or <c>ipv4@host:port</c>) answers <c>show info</c>.</summary>
    public static bool Answers(string endpoint)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        EndPoint target;
        if (endpoint.StartsWith("ipv4@", StringComparison.Ordinal) && IPEndPoint.TryParse(endpoint["ipv4@".Length..], out IPEndPoint? tcp))
        {
            target = tcp;
        }
        else if (File.Exists(endpoint))
        {
            target = new UnixDomainSocketEndPoint(endpoint);
        }
        else
        {
            return false;
        }

        try
        {
            using var socket = new Socket(target.AddressFamily, SocketType.Stream, target is UnixDomainSocketEndPoint ? ProtocolType.Unspecified : ProtocolType.Tcp)
            {
                ReceiveTimeout = 1000,
                SendTimeout = 1000,
            };
            socket.Connect(target);
            socket.Send("show info\n"u8);
            byte[] answer = new byte[64];
            int read = socket.Receive(answer);
            return read > 0 && answer.AsSpan(0, read).StartsWith("Name:"u8);
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private void Append(string? line)
    {
        if (line is not null)
        {
            lock (_output)
            {
                _output.AppendLine(line);
            }
        }
    }
}

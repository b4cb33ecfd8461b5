using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace HaproxyAutoscale.Tests.Infrastructure;

/// <summary>
/// A real <c>haproxy</c> process (<c>HPA_HAPROXY</c>, else from PATH) running a generated config in its own temp folder, on loopback only.
/// Stopped by PID on dispose. A test that needs HAProxy fails with a clear message when it is not installed.
/// </summary>
internal sealed class Haproxy : IAsyncDisposable
{
    private Process? _process;
    private readonly StringBuilder _output = new();

    private Haproxy(string directory, string config)
    {
        Directory = directory;
        Config = config;
        ConfigPath = Path.Combine(directory, "haproxy.cfg");
    }

    public string Directory { get; }

    public string Config { get; private set; }

    public string ConfigPath { get; }

    public int Pid => _process?.Id ?? 0;

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

    /// <summary>Writes <paramref name="config"/> (with <c>{dir}</c> replaced by the temp folder) and starts HAProxy.</summary>
    public static async Task<Haproxy> StartAsync(string config, TempDirectory directory, string? waitForSocket = null)
    {
        var haproxy = new Haproxy(directory.Path, config.Replace("{dir}", directory.Path, StringComparison.Ordinal));
        await haproxy.StartAsync(waitForSocket);
        return haproxy;
    }

    public static string ExecutablePath { get; } = FindExecutable();

    /// <summary>HTTP defaults with short timeouts, for generated configs.</summary>
    public const string HttpDefaults = """
        defaults
            mode http
            timeout connect 1s
            timeout client 5s
            timeout server 5s

        """;

    /// <summary>
    /// Starts HAProxy with an admin socket at <c>{dir}/admin.sock</c> (plus <paramref name="moreGlobal"/> lines),
    /// <see cref="HttpDefaults"/> and <paramref name="backends"/>; waits for <paramref name="lastSocket"/> (default: the admin socket).
    /// </summary>
    public static Task<Haproxy> StartWithAdminSocketAsync(string backends, TempDirectory directory, string moreGlobal = "", string? lastSocket = null) =>
        StartAsync("global\n    stats socket {dir}/admin.sock mode 600 level admin\n" + moreGlobal + "\n" + HttpDefaults + backends, directory, lastSocket ?? directory.File("admin.sock"));

    public async Task StartAsync(string? waitForSocket = null)
    {
        await File.WriteAllTextAsync(ConfigPath, Config.EndsWith('\n') ? Config : Config + "\n");
        var start = new ProcessStartInfo(ExecutablePath)
        {
            ArgumentList = { "-db", "-f", ConfigPath },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        _process = Process.Start(start) ?? throw new InvalidOperationException("haproxy did not start");
        _process.OutputDataReceived += (_, e) => Append(e.Data);
        _process.ErrorDataReceived += (_, e) => Append(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();

        if (waitForSocket is not null)
        {
            await Poll.UntilAsync(() => File.Exists(waitForSocket) || _process.HasExited, TimeSpan.FromSeconds(10), "haproxy's stats socket to appear");
        }

        if (_process.HasExited)
        {
            throw new InvalidOperationException($"haproxy exited with {_process.ExitCode}: {Output}");
        }
    }

    /// <summary>Kills the process (SIGKILL by PID) and waits for it to exit.</summary>
    public async Task StopAsync()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process?.Dispose();
        _process = null;
    }

    public async ValueTask DisposeAsync() => await StopAsync();

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
        TimeSpan.FromSeconds(10),
        $"127.0.0.1:{port} to accept connections");

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
        }
    }

    // HPA_HAPROXY picks another build (CI runs the HAProxy tests again against 3.0, see .ci/test).
    private static string FindExecutable()
    {
        if (Environment.GetEnvironmentVariable("HPA_HAPROXY") is { Length: > 0 } chosen)
        {
            return File.Exists(chosen) ? chosen : throw new InvalidOperationException($"HPA_HAPROXY={chosen}: no such file");
        }

        foreach (string dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Append("/usr/sbin").Append("/usr/local/sbin"))
        {
            string candidate = Path.Combine(dir, "haproxy");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new InvalidOperationException("haproxy is not installed (not on PATH nor in /usr/sbin): run 'apt-get install -y haproxy' or '.ci/test', which installs it.");
    }
}

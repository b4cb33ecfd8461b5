using System.Diagnostics;
using System.Text;

namespace HaproxyAutoscale.Tests.Infrastructure;

/// <summary>The CLI as a separate process (<c>dotnet haproxy-autoscale.dll …</c>), stopped by PID on dispose.</summary>
internal sealed class CliProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();

    private CliProcess(string[] args, IReadOnlyDictionary<string, string?>? environment = null, string? launcher = null)
    {
        var start = new ProcessStartInfo(launcher ?? "dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (launcher is not null)
        {
            start.ArgumentList.Add("dotnet"); // e.g. nohup, which execs it: the PID stays the CLI's
        }

        foreach ((string name, string? value) in environment ?? new Dictionary<string, string?>())
        {
            start.Environment[name] = value;
        }

        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "haproxy-autoscale.dll"));
        foreach (string arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        _process = Process.Start(start) ?? throw new InvalidOperationException("the CLI did not start");
        _process.OutputDataReceived += (_, e) => Append(e.Data, _stdout);
        _process.ErrorDataReceived += (_, e) => Append(e.Data, _stderr);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    /// <summary>Standard output and error interleaved, as far as read.</summary>
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

    public bool HasExited => _process.HasExited;

    public int Pid => _process.Id;

    public static CliProcess Start(params string[] args) => new(args);

    /// <summary>Starts the CLI with these environment variables set (null: unset) on top of the test's.</summary>
    public static CliProcess Start(IReadOnlyDictionary<string, string?> environment, params string[] args) => new(args, environment);

    /// <summary>Starts the CLI through a launcher that execs its arguments (<c>nohup</c>).</summary>
    public static CliProcess StartUnder(string launcher, params string[] args) => new(args, launcher: launcher);

    /// <summary>SIGTERM, by PID (systemd's stop); waits up to 10 s for the exit and returns its code.</summary>
    public async Task<int> TerminateAsync()
    {
        using (Process kill = Process.Start(new ProcessStartInfo("kill") { ArgumentList = { "-TERM", Pid.ToString(System.Globalization.CultureInfo.InvariantCulture) }, UseShellExecute = false })!)
        {
            await kill.WaitForExitAsync();
        }

        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await _process.WaitForExitAsync(deadline.Token);
        return _process.ExitCode;
    }

    /// <summary>Waits until the output contains <paramref name="text"/>; fails at once, with the output, if the process exits first.</summary>
    public Task WaitForAsync(string text, string what) => Poll.UntilAsync(
        () => Output.Contains(text, StringComparison.Ordinal) || (_process.HasExited ? throw new InvalidOperationException($"the process exited with {_process.ExitCode}: {Output}") : false),
        TimeSpan.FromSeconds(20),
        what).ContinueWith(t => t.IsFaulted ? throw new TimeoutException($"{t.Exception!.InnerException!.Message}; output:\n{Output}") : t, TaskScheduler.Default).Unwrap();

    /// <summary>SIGKILL, by PID (with any child process), and waits for the exit.</summary>
    public async Task KillAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        await _process.WaitForExitAsync(CancellationToken.None);
    }

    /// <summary>Runs a short command to its end (30 s at most); returns exit code, stdout and stderr.</summary>
    public static async Task<(int ExitCode, string Output, string Error)> RunAsync(params string[] args)
    {
        await using var cli = new CliProcess(args);
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await cli._process.WaitForExitAsync(deadline.Token); // also waits for both streams to end
        lock (cli._output)
        {
            return (cli._process.ExitCode, cli._stdout.ToString(), cli._stderr.ToString());
        }
    }

    private void Append(string? line, StringBuilder stream)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
            stream.AppendLine(line);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        _process.Dispose();
    }
}

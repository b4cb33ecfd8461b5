using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using HaproxyAutoscale.Control;
using Microsoft.Extensions.Logging;

namespace HaproxyAutoscale.Providers;

/// <summary>
/// The <c>exec</c> provider: runs a program with an argument array (never through a shell) to start, stop or ask
/// the status of a server, e.g. <c>["systemctl", "start", "app@{server}"]</c>. <c>{backend}</c> and <c>{server}</c>
/// are replaced inside each argument by the names, which only hold HAProxy's name characters, so no argument can
/// become two. Exit code 0 is success; for <c>status</c> 0 is running, 3 stopped (systemd and LSB) and any other
/// unknown. The last line of the start command's standard output, if it reads <c>ADDRESS:PORT</c>, is where the
/// server listens. Output is logged (bounded), never executed. On the deadline the command's whole process tree is killed.
/// </summary>
internal sealed partial class ExecServerProvider : IServerProvider
{
    private const int MaxOutputBytes = 4 * 1024;

    private readonly IReadOnlyList<string> _start;
    private readonly IReadOnlyList<string> _stop;
    private readonly IReadOnlyList<string>? _status;
    private readonly string? _workingDirectory;
    private readonly ILogger _logger;

    public ExecServerProvider(IReadOnlyList<string> start, IReadOnlyList<string> stop, IReadOnlyList<string>? status, string? workingDirectory, ILogger logger)
    {
        _start = start;
        _stop = stop;
        _status = status;
        _workingDirectory = workingDirectory;
        _logger = logger;
    }

    /// <summary><c>start</c>, <c>stop</c> (argument arrays, required), <c>status</c> (optional), <c>workingDirectory</c>.</summary>
    public static IServerProvider Create(ServerProviderSettings settings)
    {
        IReadOnlyList<string>? start = Command(settings, "start", required: true);
        IReadOnlyList<string>? stop = Command(settings, "stop", required: true);
        IReadOnlyList<string>? status = Command(settings, "status", required: false);
        string? directory = settings.GetString("workingDirectory");
        if (directory is not null && !Path.IsPathRooted(directory))
        {
            settings.AddError("workingDirectory", "expected an absolute path");
        }

        return new ExecServerProvider(start ?? [], stop ?? [], status, directory, settings.Loggers.CreateLogger("HaproxyAutoscale.Providers.Exec"));
    }

    public async Task<ServerStartResult> StartAsync(ServerProviderTarget target, CancellationToken cancellationToken)
    {
        Outcome outcome = await RunAsync(target, "start", _start, cancellationToken).ConfigureAwait(false);
        if (outcome.ExitCode != 0)
        {
            throw Failure(target, "start", outcome);
        }

        string? last = outcome.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault();
        return new ServerStartResult(last is not null && ServerAddress.TryParse(last, out _, out _) ? last : null);
    }

    public async Task StopAsync(ServerProviderTarget target, CancellationToken cancellationToken)
    {
        Outcome outcome = await RunAsync(target, "stop", _stop, cancellationToken).ConfigureAwait(false);
        if (outcome.ExitCode != 0)
        {
            throw Failure(target, "stop", outcome);
        }
    }

    public async Task<ServerRunState> GetStatusAsync(ServerProviderTarget target, CancellationToken cancellationToken)
    {
        if (_status is null)
        {
            return ServerRunState.Unknown;
        }

        Outcome outcome = await RunAsync(target, "status", _status, cancellationToken).ConfigureAwait(false);
        return outcome.ExitCode switch
        {
            0 => ServerRunState.Running,
            3 => ServerRunState.Stopped,
            _ => ServerRunState.Unknown,
        };
    }

    private static IReadOnlyList<string>? Command(ServerProviderSettings settings, string key, bool required)
    {
        IReadOnlyList<string>? arguments = settings.GetList(key, required);
        if (arguments is null)
        {
            return null;
        }

        if (arguments.Count == 0 || string.IsNullOrWhiteSpace(arguments[0]))
        {
            settings.AddError(key, "expected the program and its arguments, e.g. [\"systemctl\", \"start\", \"app@{server}\"]");
        }
        else if (arguments.Any(a => a is null || a.Contains('\0', StringComparison.Ordinal)))
        {
            settings.AddError(key, "an argument is null or holds a NUL character");
        }

        return arguments;
    }

    private static ServerProviderException Failure(ServerProviderTarget target, string operation, Outcome outcome) =>
        new(ServerProviderErrorKind.Failed, target, operation,
            string.Create(CultureInfo.InvariantCulture, $"'{outcome.Program}' exited with {outcome.ExitCode}{(outcome.Errors.Length > 0 ? ": " + OneLine(outcome.Errors) : "")}"));

    private async Task<Outcome> RunAsync(ServerProviderTarget target, string operation, IReadOnlyList<string> command, CancellationToken cancellationToken)
    {
        if (!HaproxyControlExtensions.IsValidName(target.Backend) || !HaproxyControlExtensions.IsValidName(target.Server))
        {
            throw new ServerProviderException(ServerProviderErrorKind.InvalidArgument, target, operation, $"names hold only {HaproxyNames.Description} (nothing was run)");
        }

        var info = new ProcessStartInfo(Substitute(command[0], target))
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = _workingDirectory ?? "",
        };
        foreach (string argument in command.Skip(1))
        {
            info.ArgumentList.Add(Substitute(argument, target));
        }

        using var process = new Process { StartInfo = info };
        try
        {
            process.Start();
        }
        catch (Exception e) when (e is Win32Exception or InvalidOperationException)
        {
            throw new ServerProviderException(ServerProviderErrorKind.NotFound, target, operation, $"cannot run '{info.FileName}': {e.Message}", e);
        }

        long started = Stopwatch.GetTimestamp();
        process.StandardInput.Close();
        // Disposing the Process does not close the redirected streams: without these their pipes stay open until a
        // full GC finalizes them (the soak saw two descriptors more per command, for minutes).
        using Stream standardOutput = process.StandardOutput.BaseStream;
        using Stream standardError = process.StandardError.BaseStream;

        // Read both streams ourselves, bounded: a program that leaves a child holding them open (a daemon started
        // with '&') must not keep us waiting for their end, only for the program's exit.
        var output = new BoundedText(MaxOutputBytes);
        var errors = new BoundedText(MaxOutputBytes);
        using var readers = new CancellationTokenSource();
        Task reading = Task.WhenAll(
            output.ReadAsync(standardOutput, readers.Token),
            errors.ReadAsync(standardError, readers.Token));
        try
        {
            await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            Kill(process);
            await readers.CancelAsync().ConfigureAwait(false);
            throw new ServerProviderException(ServerProviderErrorKind.Timeout, target, operation,
                string.Create(CultureInfo.InvariantCulture, $"'{info.FileName}' did not finish in {Stopwatch.GetElapsedTime(started).TotalSeconds:0.#} s: killed with its child processes"));
        }

        // What the program wrote before it exited is in the pipes now; a child that keeps them open gets a moment.
        await Task.WhenAny(reading, Task.Delay(TimeSpan.FromMilliseconds(200), CancellationToken.None)).ConfigureAwait(false);
        await readers.CancelAsync().ConfigureAwait(false);
        var outcome = new Outcome(info.FileName, process.ExitCode, output.Text, errors.Text);
        // A command that did what was asked and printed nothing says nothing the server's own line (started, stopped,
        // adopted) does not: debug, so a fleet's start (a status question per parked server) does not flood the journal.
        bool quiet = outcome.Output.Length == 0 && outcome.Errors.Length == 0 && (outcome.ExitCode == 0 || (operation == "status" && outcome.ExitCode == 3));
        CommandRan(_logger, quiet ? LogLevel.Debug : LogLevel.Information, target.Backend, target.Server, operation, info.FileName, outcome.ExitCode,
            (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds, OneLine(outcome.Output), OneLine(outcome.Errors));
        return outcome;
    }

    private static void Kill(Process process)
    {
        try
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit(1000); // reaped, not left a zombie
        }
        catch (Exception e) when (e is InvalidOperationException or Win32Exception or NotSupportedException)
        {
            // it exited meanwhile
        }
    }

    // Names were checked against HAProxy's name characters: they carry no separator, quote or newline.
    private static string Substitute(string argument, ServerProviderTarget target) => argument
        .Replace("{backend}", target.Backend, StringComparison.Ordinal)
        .Replace("{server}", target.Server, StringComparison.Ordinal);

    private static string OneLine(string text) => text.Trim().Replace("\r", "", StringComparison.Ordinal).Replace('\n', '|');

    [LoggerMessage(EventId = Scaling.AutoscaleEventIds.ProviderCommand,
        Message = "{Backend}/{Server}: {Operation}: '{Program}' exited with {ExitCode} after {DurationMs} ms; output: {Output}; errors: {Errors}")]
    private static partial void CommandRan(ILogger logger, LogLevel level, string backend, string server, string operation, string program, int exitCode, long durationMs, string output, string errors);

    private sealed record Outcome(string Program, int ExitCode, string Output, string Errors);

    // The first bytes of a stream (the rest is read and dropped, so the writer never blocks on a full pipe).
    private sealed class BoundedText(int limit)
    {
        private readonly MemoryStream _kept = new();
        private bool _truncated;

        public string Text
        {
            get
            {
                lock (_kept)
                {
                    string text = Encoding.UTF8.GetString(_kept.GetBuffer(), 0, (int)_kept.Length);
                    return _truncated ? text + " […]" : text;
                }
            }
        }

        public async Task ReadAsync(Stream stream, CancellationToken cancellationToken)
        {
            byte[] buffer = new byte[4096];
            try
            {
                int read;
                while ((read = await stream.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
                {
                    lock (_kept)
                    {
                        int keep = (int)Math.Min(read, limit - _kept.Length);
                        _kept.Write(buffer, 0, keep);
                        _truncated |= keep < read;
                    }
                }
            }
            catch (Exception e) when (e is OperationCanceledException or IOException or ObjectDisposedException)
            {
                // the command ended; what was read is kept
            }
        }
    }
}

/// <summary>A server address as a provider reports it: <c>HOST:PORT</c> or <c>[IPv6]:PORT</c>.</summary>
internal static class ServerAddress
{
    /// <summary>Whether <paramref name="text"/> is an address HAProxy's <c>add server</c> takes, split into host and port.</summary>
    public static bool TryParse(string text, out string host, out int port)
    {
        host = "";
        port = 0;
        int colon = text.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(text.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out port) || port is < 1 or > 65535)
        {
            return false;
        }

        string candidate = text[..colon];
        if (candidate.StartsWith('[') && candidate.EndsWith(']'))
        {
            candidate = candidate[1..^1];
            if (!System.Net.IPAddress.TryParse(candidate, out System.Net.IPAddress? v6) || v6.AddressFamily != System.Net.Sockets.AddressFamily.InterNetworkV6)
            {
                return false;
            }
        }
        else if (Uri.CheckHostName(candidate) is not (UriHostNameType.IPv4 or UriHostNameType.Dns))
        {
            return false;
        }

        host = candidate;
        return true;
    }
}

using System.Diagnostics;
using System.IO.Compression;
using System.Text;
using HaproxyAutoscale.Tests.Infrastructure;

namespace HaproxyAutoscale.Tests.Cli.LogFiles;

/// <summary>
/// What users hand <c>analyze</c> and <c>replay</c>: pipes, FIFOs, process substitutions, gzip files, several files,
/// bad paths. Each input must give exactly the output of the same lines in one plain file, run as a real process.
/// </summary>
public sealed class LogInputTests
{
    private const string ReplayConfig = """
        {
          "evaluationInterval": "1s",
          "backends": {
            "app1backend": {
              "window": { "kind": "count", "size": 15, "statistic": "mean" },
              "policy": { "kind": "threshold", "thresholdMs": 800, "breaches": 3, "idleScaleDown": "5m" },
              "servers": { "s1": { "alwaysUp": true }, "s2": {}, "s3": {} }
            }
          }
        }
        """;

    private static readonly string CliDll = Path.Combine(AppContext.BaseDirectory, "haproxy-autoscale.dll");

    [Fact]
    public async Task Analyze_ProcessSubstitutionOfZcat_SameAsThePlainFile()
    {
        using var dir = new TempDirectory();
        string plain = WriteMixedLog(dir.File("haproxy.log"), 3_000);
        string gz = Gzip(plain, dir.File("haproxy.log.1.gz"));
        string expected = await AnalyzeJsonAsync(plain);

        var (exitCode, output, error) = await ShellAsync("hpa analyze <(zcat \"$1\") --json", gz);

        exitCode.Should().Be(0, error);
        error.Should().BeEmpty();
        output.Should().Be(expected);
        expected.Should().StartWith("""{"lines":3003,"parsed":3000,"unparsed":3,""");
    }

    [Fact]
    public async Task Analyze_Fifo_StreamedAndSameAsThePlainFile()
    {
        using var dir = new TempDirectory();
        string plain = WriteMixedLog(dir.File("haproxy.log"), 3_000);
        string expected = await AnalyzeJsonAsync(plain);
        await using var fifo = await FifoFeeder.StartAsync(dir.File("log.fifo"), plain);

        var (exitCode, output, error) = await ShellAsync("hpa analyze \"$1\" --json", fifo.Path);

        exitCode.Should().Be(0, error);
        output.Should().Be(expected);
    }

    [Fact]
    public async Task Analyze_StandardInput_PlainOrGzip_SameAsThePlainFile()
    {
        using var dir = new TempDirectory();
        string plain = WriteMixedLog(dir.File("haproxy.log"), 3_000);
        string gz = Gzip(plain, dir.File("haproxy.log.1.gz"));
        string expected = await AnalyzeJsonAsync(plain);

        (await ShellAsync("hpa analyze - --json < \"$1\"", plain)).Should().Be((0, expected, ""));
        (await ShellAsync("cat \"$1\" | hpa analyze - --json", gz)).Should().Be((0, expected, ""), "gzip is recognized on a pipe too");
    }

    [Fact]
    public async Task Analyze_GzipFile_ByItsMagicBytes_SameAsThePlainFile()
    {
        using var dir = new TempDirectory();
        string plain = WriteMixedLog(dir.File("haproxy.log"), 3_000);
        string expected = await AnalyzeJsonAsync(plain);
        string gz = Gzip(plain, dir.File("haproxy.log.2.gz"));
        string gzWithoutExtension = Gzip(plain, dir.File("haproxy.log.2"));

        (await CliRunner.RunAsync("analyze", gz, "--json")).Should().Be((0, expected, ""));
        (await CliRunner.RunAsync("analyze", gzWithoutExtension, "--json")).Should().Be((0, expected, ""));
    }

    [Fact]
    public async Task Analyze_SeveralFiles_PlainSplitAndGzip_MergedAsOneLog()
    {
        // The first part is over 1 MB, so it is split across cores; the others are read whole.
        using var dir = new TempDirectory();
        string whole = WriteMixedLog(dir.File("whole.log"), 12_000);
        string[] lines = File.ReadAllLines(whole);
        int third = lines.Length / 3;
        File.WriteAllLines(dir.File("haproxy.log"), lines[..(2 * third)]);
        File.WriteAllLines(dir.File("haproxy.log.1"), lines[(2 * third)..^100]);
        File.WriteAllLines(dir.File("haproxy.log.2"), lines[^100..]);
        Gzip(dir.File("haproxy.log.2"), dir.File("haproxy.log.2.gz"));
        File.Delete(dir.File("haproxy.log.2"));
        new FileInfo(dir.File("haproxy.log")).Length.Should().BeGreaterThan(1024 * 1024);
        string expected = await AnalyzeJsonAsync(whole);
        File.Delete(whole);

        // As the shell expands haproxy.log*.
        var (exitCode, output, error) = await ShellAsync("cd \"$1\" && hpa analyze haproxy.log* --json", dir.Path);

        exitCode.Should().Be(0, error);
        output.Should().Be(expected);
        expected.Should().StartWith("""{"lines":12003,"parsed":12000,""");
    }

    [Fact]
    public async Task Replay_RotatedFilesInGlobOrder_ReplayedOldestFirst_SameAsOneFile()
    {
        using var dir = new TempDirectory();
        string config = dir.File("config.json");
        await File.WriteAllTextAsync(config, ReplayConfig);
        string whole = dir.File("whole.log");
        await using (var writer = new StreamWriter(whole))
        {
            // Slow, silent, slow again, then fast: scale-ups and scale-downs spread over all three files.
            LogGenerator.WritePhases(writer, new DateTime(2026, 11, 26, 15, 0, 0), "app1backend", "s1",
                (TimeSpan.FromMinutes(2), 5, 50), (TimeSpan.FromMinutes(1), 5, 1500), (TimeSpan.FromMinutes(7), 0, 0),
                (TimeSpan.FromMinutes(1), 5, 1500), (TimeSpan.FromMinutes(8), 5, 50));
        }

        var (exitCode, expected, error) = await CliRunner.RunAsync("replay", whole, "--config", config);
        exitCode.Should().Be(0, error);
        expected.Split('\n').Count(l => l.Contains("app1backend  ", StringComparison.Ordinal)).Should().BeGreaterThanOrEqualTo(4);

        // Rotated at 15:02:30 (inside the first slow minute) and at 15:10:30; the oldest is compressed.
        string[] lines = File.ReadAllLines(whole);
        int first = Array.FindIndex(lines, l => l.Contains("15:02:30.000]", StringComparison.Ordinal));
        int second = Array.FindIndex(lines, l => l.Contains("15:10:30.000]", StringComparison.Ordinal));
        File.WriteAllLines(dir.File("haproxy.log.2"), lines[..first]);
        File.WriteAllLines(dir.File("haproxy.log.1"), lines[first..second]);
        File.WriteAllLines(dir.File("haproxy.log"), lines[second..]);
        Gzip(dir.File("haproxy.log.2"), dir.File("haproxy.log.2.gz"));
        File.Delete(dir.File("haproxy.log.2"));
        File.Delete(whole);

        var (globExitCode, output, globError) = await ShellAsync("cd \"$1\" && hpa replay haproxy.log* --config \"$2\"", dir.Path, config);

        globExitCode.Should().Be(0, globError);
        output.Should().Be(expected);
    }

    [Fact]
    public async Task Replay_Fifo_SameAsThePlainFile()
    {
        using var dir = new TempDirectory();
        string config = dir.File("config.json");
        await File.WriteAllTextAsync(config, ReplayConfig);
        string plain = dir.File("haproxy.log");
        await using (var writer = new StreamWriter(plain))
        {
            LogGenerator.WritePhases(writer, new DateTime(2026, 11, 26, 15, 0, 0), "app1backend", "s1", (TimeSpan.FromSeconds(30), 10, 1000));
        }

        var (_, expected, _) = await CliRunner.RunAsync("replay", plain, "--config", config);
        expected.Should().Contain("up    s2");
        await using var fifo = await FifoFeeder.StartAsync(dir.File("log.fifo"), plain);

        var (exitCode, output, error) = await ShellAsync("hpa replay \"$1\" --config \"$2\"", fifo.Path, config);

        exitCode.Should().Be(0, error);
        output.Should().Be(expected);
    }

    [Fact]
    public async Task AnalyzeAndReplay_BadPaths_OneLineSayingWhatIsWrong_Exit1()
    {
        using var dir = new TempDirectory();
        string config = dir.File("config.json");
        await File.WriteAllTextAsync(config, ReplayConfig);
        string plain = WriteMixedLog(dir.File("haproxy.log"), 500);
        string gz = Gzip(plain, dir.File("good.gz"));
        byte[] compressed = File.ReadAllBytes(gz);
        File.Copy(plain, dir.File("plain.gz"));
        File.WriteAllBytes(dir.File("truncated.gz"), compressed[..(compressed.Length / 2)]);
        File.WriteAllBytes(dir.File("header-only.gz"), compressed[..10]);
        byte[] corrupt = (byte[])compressed.Clone();
        for (int i = 20; i < 60; i++)
        {
            corrupt[i] ^= 0x5a;
        }

        File.WriteAllBytes(dir.File("corrupt.gz"), corrupt);
        Directory.CreateDirectory(dir.File("logs"));

        (string Path, string Message)[] cases =
        [
            (dir.File("missing.log"), $"{dir.File("missing.log")}: no such file"),
            (dir.File("logs"), $"{dir.File("logs")}: is a directory"),
            (dir.File("plain.gz"), $"{dir.File("plain.gz")}: not a gzip file (it does not start with the gzip header)"),
            (dir.File("truncated.gz"), $"{dir.File("truncated.gz")}: truncated gzip file (the decompressed size does not match its trailer)"),
            (dir.File("header-only.gz"), $"{dir.File("header-only.gz")}: truncated gzip file (10 bytes)"),
            (dir.File("corrupt.gz"), $"{dir.File("corrupt.gz")}: corrupt gzip data ("),
        ];
        foreach ((string path, string message) in cases)
        {
            foreach (string[] args in new[] { new[] { "analyze", path }, ["replay", path, "--config", config], ["analyze", plain, path] })
            {
                var (exitCode, _, error) = await ShellAsync("hpa \"$@\"", args);
                exitCode.Should().Be(1, $"{string.Join(' ', args)}: {error}");
                error.Split('\n', StringSplitOptions.RemoveEmptyEntries).Should().ContainSingle(string.Join(' ', args))
                    .Which.Should().StartWith("error: " + message);
            }
        }

        // A bad path fails before anything is read or printed, wherever it is in the list.
        (await CliRunner.RunAsync("replay", plain, dir.File("missing.log"), "--config", config)).Should()
            .Be((1, "", $"error: {dir.File("missing.log")}: no such file\n"));
    }

    [Fact]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public async Task Analyze_UnreadableFile_PermissionDenied()
    {
        Assert.SkipWhen(Environment.IsPrivilegedProcess, "root reads any file");
        using var dir = new TempDirectory();
        string path = WriteMixedLog(dir.File("haproxy.log"), 10);
        File.SetUnixFileMode(path, UnixFileMode.None);

        (await CliRunner.RunAsync("analyze", path)).Should().Be((1, "", $"error: {path}: permission denied\n"));
    }

    // HAProxy request lines with a few junk lines among them (not parsed, but counted).
    private static string WriteMixedLog(string path, int requests)
    {
        var text = new StringWriter();
        LogGenerator.Write(text, requests);
        var lines = text.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).ToList();
        lines.Insert(0, "kernel: not a request line");
        lines.Insert(lines.Count / 2, "rsyslogd: restarted");
        lines.Add("haproxy[1]: Proxy fe_http started.");
        File.WriteAllText(path, string.Join('\n', lines) + "\n", Encoding.ASCII);
        return path;
    }

    private static string Gzip(string source, string destination)
    {
        using (FileStream input = File.OpenRead(source))
        using (var output = new GZipStream(File.Create(destination), CompressionLevel.Fastest))
        {
            input.CopyTo(output);
        }

        return destination;
    }

    private static async Task<string> AnalyzeJsonAsync(string plainFile)
    {
        var (exitCode, output, error) = await CliRunner.RunAsync("analyze", plainFile, "--json");
        exitCode.Should().Be(0, error);
        return output;
    }

    // Runs a bash script in which `hpa` is the CLI as a process; the arguments are $1, $2….
    private static async Task<(int ExitCode, string Output, string Error)> ShellAsync(string script, params string[] args)
    {
        var start = new ProcessStartInfo("bash")
        {
            ArgumentList = { "-c", $"hpa() {{ dotnet \"$HPA_DLL\" \"$@\"; }}\n{script}", "bash" },
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (string arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["HPA_DLL"] = CliDll;
        using Process process = Process.Start(start)!;
        process.StandardInput.Close();
        Task<string> output = process.StandardOutput.ReadToEndAsync();
        Task<string> error = process.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"'{script}' did not end within 60 s");
        }

        return (process.ExitCode, (await output).ReplaceLineEndings("\n"), await error);
    }

    /// <summary>A FIFO a `cat` process writes a file into, as `cat file > fifo` in a shell; stopped on dispose.</summary>
    private sealed class FifoFeeder : IAsyncDisposable
    {
        private readonly Process _writer;

        private FifoFeeder(string path, Process writer) => (Path, _writer) = (path, writer);

        public string Path { get; }

        public static async Task<FifoFeeder> StartAsync(string path, string contentFile)
        {
            using (Process mkfifo = Process.Start("mkfifo", [path])!)
            {
                await mkfifo.WaitForExitAsync();
                mkfifo.ExitCode.Should().Be(0);
            }

            // The writer blocks in open() until a reader opens the FIFO.
            Process writer = Process.Start(new ProcessStartInfo("bash") { ArgumentList = { "-c", "cat \"$1\" > \"$2\"", "bash", contentFile, path } })!;
            return new FifoFeeder(path, writer);
        }

        public async ValueTask DisposeAsync()
        {
            if (!_writer.HasExited)
            {
                _writer.Kill(entireProcessTree: true);
            }

            await _writer.WaitForExitAsync();
            _writer.Dispose();
        }
    }
}

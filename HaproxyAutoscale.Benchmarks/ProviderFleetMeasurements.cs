using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text;
using HaproxyAutoscale.Lab;

namespace HaproxyAutoscale.Benchmarks;

/// <summary>
/// A fleet with a provider starting up (issue 22): the 10,000-backend rig's HAProxy (<c>B</c> backends of 8 servers,
/// s2–s8 parked) and the daemon with an <c>exec</c> provider on every backend whose <c>status</c> command reports every
/// server running, so each parked server is adopted as kept warm and stopped after <c>keepWarm</c>. Started as systemd
/// starts it (<c>NOTIFY_SOCKET</c>, a datagram socket here), it reports the time to <c>READY=1</c> (systemd's default
/// start timeout is 90 s), how many status commands ran by then, the most provider processes running at once, the
/// time until every parked server was stopped after <c>keepWarm</c>, and how many lines the daemon wrote.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")] // /proc, and the provider's shell scripts
public static class ProviderFleetMeasurements
{
    public static async Task RunAsync(string cli, int backends, int keepWarmSeconds)
    {
        using var directory = new TempDirectory();
        await using Haproxy haproxy = await ScaleMeasurements.StartHaproxyAsync(backends, directory);
        string statusLog = directory.File("status.log"), stopLog = directory.File("stop.log");
        string status = Script(directory, "status.sh", $"echo \"$1/$2\" >> {statusLog}\nexit 0");
        string stop = Script(directory, "stop.sh", $"echo \"$1/$2\" >> {stopLog}");
        string provider = $$""", "provider": { "kind": "exec", "start": ["true"], "stop": ["{{stop}}", "{backend}", "{server}"], "status": ["{{status}}", "{backend}", "{server}"], "keepWarm": "{{keepWarmSeconds}}s", "timeout": "60s" }""";
        string configPath = directory.File("config.json");
        await File.WriteAllTextAsync(configPath,
            ScaleMeasurements.DaemonConfig(directory.File("admin.sock"), DaemonMeasurements.FreeTcpPort(), backends, provider));

        string notifyPath = directory.File("notify.sock");
        using var notify = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        notify.Bind(new UnixDomainSocketEndPoint(notifyPath));
        ProcessStartInfo start = cli.EndsWith(".dll", StringComparison.Ordinal) ? new("dotnet") { ArgumentList = { cli } } : new(cli);
        start.ArgumentList.Add("run");
        start.ArgumentList.Add("--config");
        start.ArgumentList.Add(configPath);
        start.Environment["NOTIFY_SOCKET"] = notifyPath;
        start.RedirectStandardOutput = start.RedirectStandardError = true;
        long lines = 0;
        var clock = Stopwatch.StartNew();
        using var daemon = Process.Start(start)!;
        daemon.OutputDataReceived += (_, e) => { if (e.Data is not null) { Interlocked.Increment(ref lines); } };
        daemon.ErrorDataReceived += (_, e) => { if (e.Data is { } line) { Console.Error.WriteLine(line); } };
        daemon.BeginOutputReadLine();
        daemon.BeginErrorReadLine();
        int parked = backends * 7;
        try
        {
            var children = new ChildCount(daemon.Id);
            double? ready = await ReadyAsync(notify, clock, children, TimeSpan.FromMinutes(10));
            int statusAtReady = Count(statusLog);
            int peakAtStart = children.Peak;
            long linesAtReady = Interlocked.Read(ref lines);
            children.Peak = 0;
            var stops = Stopwatch.StartNew();
            while (Count(stopLog) < parked && stops.Elapsed < TimeSpan.FromSeconds(keepWarmSeconds + 600))
            {
                children.Sample();
                await Task.Delay(50);
            }

            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{backends} backends ({parked:N0} parked servers, keepWarm {keepWarmSeconds} s): READY after {(ready is { } r ? $"{r:0.0} s" : "none in 10 min")}, {statusAtReady:N0} status commands by then ({Count(statusLog):N0} in all), at most {peakAtStart} provider processes at once; {Count(stopLog):N0} stop commands {stops.Elapsed.TotalSeconds:0.0} s after READY, at most {children.Peak} at once; daemon lines: {linesAtReady:N0} by READY, {Interlocked.Read(ref lines):N0} in all; RSS at most {children.PeakRssKb / 1024.0:0} MB"));
        }
        finally
        {
            if (!daemon.HasExited)
            {
                Process.Start("kill", ["-TERM", daemon.Id.ToString(CultureInfo.InvariantCulture)])!.WaitForExit();
            }

            await daemon.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        }
    }

    private static string Script(TempDirectory directory, string name, string body)
    {
        string path = directory.File(name);
        File.WriteAllText(path, "#!/bin/sh\n" + body + "\n");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return path;
    }

    private static int Count(string path) => File.Exists(path) ? File.ReadLines(path).Count() : 0;

    // Seconds from the daemon's start to READY=1 on the notify socket (null: not within the limit), sampling the
    // daemon's children meanwhile.
    private static async Task<double?> ReadyAsync(Socket notify, Stopwatch clock, ChildCount children, TimeSpan limit)
    {
        byte[] buffer = new byte[4096];
        Task<int> receive = notify.ReceiveAsync(buffer, SocketFlags.None);
        while (clock.Elapsed < limit)
        {
            if (await Task.WhenAny(receive, Task.Delay(50)) == receive)
            {
                if (Encoding.UTF8.GetString(buffer, 0, receive.Result).Split('\n').Contains("READY=1"))
                {
                    return clock.Elapsed.TotalSeconds;
                }

                receive = notify.ReceiveAsync(buffer, SocketFlags.None);
            }

            children.Sample();
        }

        return null;
    }

    // The daemon's running children (the provider's commands), from /proc, and the most seen at once; its largest RSS.
    private sealed class ChildCount(int parent)
    {
        public int Peak { get; set; }

        public long PeakRssKb { get; private set; }

        public void Sample()
        {
            PeakRssKb = Math.Max(PeakRssKb, DaemonMeasurements.CpuAndRss(parent).RssKb);
            int count = 0;
            foreach (string dir in Directory.EnumerateDirectories("/proc"))
            {
                try
                {
                    string stat = File.ReadAllText(Path.Combine(dir, "stat"));
                    string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                    count += fields[1] == parent.ToString(CultureInfo.InvariantCulture) ? 1 : 0; // state, ppid, …
                }
                catch (IOException)
                {
                    // gone meanwhile
                }
                catch (UnauthorizedAccessException)
                {
                }
            }

            Peak = Math.Max(Peak, count);
        }
    }
}

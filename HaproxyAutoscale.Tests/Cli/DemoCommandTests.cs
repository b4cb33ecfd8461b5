using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using HaproxyAutoscale.Cli.Demo;
using HaproxyAutoscale.Tests.Infrastructure;

namespace HaproxyAutoscale.Tests.Cli;

[Trait("Category", "Haproxy")]
public sealed class DemoCommandTests
{
    [Fact]
    public async Task Demo_20SecondsAtSpeed4_ScalesUpUnderTheRampAndBackDown_WithoutFailedRequests()
    {
        _ = HaproxyBinary.Require(); // fails with a clear message when HAProxy is missing
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var (exitCode, output, error) = await CliRunner.RunAsync("demo", "--duration", "20s", "--speed", "4");
        clock.Stop();
        exitCode.Should().Be(0, error);
        output.Should().Contain("Load ramps up to 16 clients and back to none over 20s.")
            .And.Contain("The demo's clock runs 4 times faster: it takes 5s");
        output.Should().Contain("What the autoscaler did:");
        output.Should().MatchRegex(@"app: decided up s2: (panic: )?in-flight [\d.]+ over \S+ \(target 3 per server\)", "the demo runs the default policy, concurrency");
        output.Should().MatchRegex(@"app/s2: up done in \d+ ms");
        output.Should().MatchRegex(@"app: decided down s\d: no request for");
        output.Should().MatchRegex(@"Requests: \d+ ok, 0 failed");
        output.Should().Contain("Cold starts paid by users: 0");
        output.Should().Contain("app/s2: started through the demo provider");
        output.Should().MatchRegex(@"processes [1-4]/4 \(pid [\d ]+\)  s1:active +s2:");
        output.Should().MatchRegex(@"App-process-seconds: \d+ with app processes started and stopped on demand \([1-9]\d* starts\), \d+ with all 4 up: \d+ % saved\.");

        // The second backend slept at zero behind the Lua hold until the burst woke it; every held request got a 200.
        output.Should().MatchRegex(@"clients +\d+ .*  lazy: zero", "the live line shows the backend at zero before the burst");
        output.Should().MatchRegex(@"lazy: woken at zero by \d+ request\(s\) HAProxy holds: starting z1");
        output.Should().MatchRegex(@"lazy: awake: z1 took traffic \d+ ms after the wake line");
        output.Should().MatchRegex(@"Scale to zero \(lazy\): a burst of 20 requests at \+\d+\.\ds found it at zero and was held by HAProxy: 20 answered 200, 0 failed; first answer after \d+ ms");
        output.Should().MatchRegex(@"lazy: decided down z1: no request for").And.MatchRegex(@"Scale to zero \(lazy\): back at zero at \+\d+\.\ds", "idle again, it goes back to zero");

        // The apps were real processes, children of this one (the demo ran in-process), and every one is gone.
        Match processes = Regex.Match(output, @"App processes: (\d+) started and stopped: (.*); 0 left running\.");
        processes.Success.Should().BeTrue(output);
        (string Server, int Pid)[] started = [.. Regex.Matches(processes.Groups[2].Value, @"(s\d) pid (\d+) ran").Select(m => (m.Groups[1].Value, int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture)))];
        started.Should().HaveCount(int.Parse(processes.Groups[1].Value, CultureInfo.InvariantCulture)).And.Contain(a => a.Server == "s1").And.Contain(a => a.Server == "s2");
        started.Select(a => a.Pid).Should().OnlyHaveUniqueItems().And.NotContain(Environment.ProcessId);
        int[] shownLive = [.. Regex.Matches(output, @"\(pid ([\d ]+)\)").SelectMany(m => m.Groups[1].Value.Split(' ', StringSplitOptions.RemoveEmptyEntries)).Select(int.Parse).Distinct()];
        shownLive.Should().BeSubsetOf(started.Select(a => a.Pid)).And.HaveCountGreaterThanOrEqualTo(2);
        ChildDemoApps().Should().BeEmpty("every app process is stopped and reaped when the demo ends");
        started.Should().OnlyContain(a => !IsDemoApp(a.Pid), "no app process is left running");
        Directory.Exists(Path.Combine(Path.GetTempPath(), $"haproxy-autoscale-demo-{Environment.ProcessId}")).Should().BeFalse("the demo cleans up after itself");

        // A live line about once a second of the demo's clock, up to its 20 s and the end of the ramp, in far less real time.
        string[] live = [.. Regex.Matches(output, @"^\s+(\d+)s  clients\s+(\d+) ", RegexOptions.Multiline).Select(m => m.Value)];
        live.Should().HaveCountGreaterThanOrEqualTo(15);
        live[^1].Should().MatchRegex(@"^\s+(19|2\d)s  clients  0 $");
        clock.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(15));
    }

    [Fact]
    public async Task DemoApp_ServesTheDemoApp_AndExitsWhenItsInputEnds()
    {
        // The kernel closes the app's standard input when the demo that started it dies: the app must not outlive it.
        IReadOnlyList<string> self = DemoAppCommand.SelfInvocation();
        int port = Ports.FreeTcp();
        var info = new ProcessStartInfo(self[0]) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string argument in self.Skip(1).Concat(["demo-app", "--name", "s9", "--port", port.ToString(CultureInfo.InvariantCulture), "--cold-start-ms", "0"]))
        {
            info.ArgumentList.Add(argument);
        }

        using Process app = Process.Start(info)!;
        try
        {
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            (await app.StandardOutput.ReadLineAsync(deadline.Token)).Should().Be($"listening 127.0.0.1:{port}");
            using var http = new HttpClient();
            (await http.GetStringAsync(new Uri($"http://127.0.0.1:{port}/page"), deadline.Token)).Should().Be("s9 served /page\n");

            app.StandardInput.Close();
            await app.WaitForExitAsync(deadline.Token);
            app.ExitCode.Should().Be(0);
            (await app.StandardOutput.ReadToEndAsync(deadline.Token)).Trim().Should().Be("served 1 cold-users 0 cold-warmups 0");
        }
        finally
        {
            if (!app.HasExited)
            {
                app.Kill();
                await app.WaitForExitAsync(CancellationToken.None);
            }
        }
    }

    [Theory]
    [InlineData("--duration", "soon", "--duration: 'soon' is not a duration from 10s to 1h")]
    [InlineData("--speed", "0.5", "--speed: '0.5' is not a number from 1 to 10")]
    [InlineData("--speed", "fast", "--speed: 'fast' is not a number from 1 to 10")]
    public async Task Demo_BadOption_IsAUsageError(string option, string value, string message)
    {
        var (exitCode, _, error) = await CliRunner.RunAsync("demo", option, value);
        exitCode.Should().Be(2);
        error.Should().Contain(message);
    }

    [Fact]
    public async Task Demo_Help_DoesNotShowTheTestsSpeedOption()
    {
        var (exitCode, output, _) = await CliRunner.RunAsync("demo", "--help");
        exitCode.Should().Be(0);
        output.Should().Contain("--duration").And.NotContain("--speed");
    }

    // This process's children that run the demo's app (the tests run the demo in-process, so its apps are ours).
    private static int[] ChildDemoApps() =>
        [.. Directory.EnumerateDirectories("/proc").Select(d => int.TryParse(Path.GetFileName(d), out int pid) ? pid : 0)
            .Where(pid => pid > 0 && IsDemoApp(pid) && ParentOf(pid) == Environment.ProcessId)];

    private static bool IsDemoApp(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/cmdline").Split('\0').Contains(DemoAppCommand.Name);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false; // gone
        }
    }

    private static int ParentOf(int pid)
    {
        try
        {
            string stat = File.ReadAllText($"/proc/{pid}/stat");
            return int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1], CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return 0;
        }
    }
}

using System.Text.RegularExpressions;
using HaproxyAutoscale.Tests.Infrastructure;

namespace HaproxyAutoscale.Tests.Cli;

public sealed class DemoCommandTests
{
    [Fact]
    public async Task Demo_20SecondsAtSpeed4_ScalesUpUnderTheRampAndBackDown_WithoutFailedRequests()
    {
        _ = Haproxy.ExecutablePath; // fails with a clear message when HAProxy is missing
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var (exitCode, output, error) = await CliRunner.RunAsync("demo", "--duration", "20s", "--speed", "4");
        clock.Stop();
        exitCode.Should().Be(0, error);
        output.Should().Contain("Load ramps up to 16 clients and back to none over 20s.")
            .And.Contain("The demo's clock runs 4 times faster: it takes 5s");
        output.Should().Contain("What the autoscaler did:");
        output.Should().MatchRegex(@"app: decided up s2: .* > 150 ms on 3 consecutive evaluations");
        output.Should().MatchRegex(@"app/s2: up done in \d+ ms");
        output.Should().MatchRegex(@"app: decided down s\d: no request for");
        output.Should().MatchRegex(@"Requests: \d+ ok, 0 failed");
        output.Should().Contain("Cold starts paid by users: 0");
        output.Should().Contain("app/s2: started through the demo provider");
        output.Should().MatchRegex(@"apps [1-4]/4  s1:active +s2:");
        output.Should().MatchRegex(@"App-seconds: \d+ with apps started and stopped on demand \([1-9]\d* starts\), \d+ with all 4 up: \d+ % saved\.");
        Directory.Exists(Path.Combine(Path.GetTempPath(), $"haproxy-autoscale-demo-{Environment.ProcessId}")).Should().BeFalse("the demo cleans up after itself");

        // A live line about once a second of the demo's clock, up to its 20 s and the end of the ramp, in far less real time.
        string[] live = [.. Regex.Matches(output, @"^\s+(\d+)s  clients\s+(\d+) ", RegexOptions.Multiline).Select(m => m.Value)];
        live.Should().HaveCountGreaterThanOrEqualTo(15);
        live[^1].Should().MatchRegex(@"^\s+(19|2\d)s  clients  0 $");
        clock.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(15));
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
}

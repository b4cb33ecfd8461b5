using HaproxyAutoscale.Tests.Infrastructure;

namespace HaproxyAutoscale.Tests.Cli;

public sealed class DemoCommandTests
{
    [Fact]
    public async Task Demo_20Seconds_ScalesUpUnderTheRampAndBackDown_WithoutFailedRequests()
    {
        _ = Haproxy.ExecutablePath; // fails with a clear message when HAProxy is missing
        var (exitCode, output, error) = await CliRunner.RunAsync("demo", "--duration", "20s");
        exitCode.Should().Be(0, error);
        output.Should().Contain("What the autoscaler did:");
        output.Should().MatchRegex(@"app: decided up s2: .* > 150 ms on 3 consecutive evaluations");
        output.Should().MatchRegex(@"app/s2: up done in \d+ ms");
        output.Should().MatchRegex(@"app: decided down s\d: no request for");
        output.Should().MatchRegex(@"Requests: \d+ ok, 0 failed");
        output.Should().Contain("Cold starts paid by users: 0");
        Directory.Exists(Path.Combine(Path.GetTempPath(), $"haproxy-autoscale-demo-{Environment.ProcessId}")).Should().BeFalse("the demo cleans up after itself");
    }

    [Fact]
    public async Task Demo_BadDuration_IsAUsageError()
    {
        var (exitCode, _, error) = await CliRunner.RunAsync("demo", "--duration", "soon");
        exitCode.Should().Be(2);
        error.Should().Contain("--duration: 'soon' is not a duration from 10s to 1h");
    }
}

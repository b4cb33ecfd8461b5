using System.Text.Json;
using HaproxyAutoscale.Cli.Admin;
using HaproxyAutoscale.Cli.Commands;
using HaproxyAutoscale.Scaling;
using HaproxyAutoscale.Windows;

namespace HaproxyAutoscale.Tests.Cli;

/// <summary>Scale to zero in <c>/status</c>, <c>explain</c> and <c>status</c>: zero, and waking (since when, how many held).</summary>
public sealed class ZeroStatusTests
{
    private static readonly DateTimeOffset Since = new(2026, 11, 26, 15, 0, 1, 250, TimeSpan.Zero);

    [Fact]
    public void Status_Zero_Waking_Neither()
    {
        using JsonDocument status = JsonDocument.Parse(AdminJson.Status(
        [
            Snapshot("zero") with { AtZero = true },
            Snapshot("waking") with { Waking = new BackendWaking(Since, 50) },
            Snapshot("up"),
        ]));
        JsonElement[] backends = [.. status.RootElement.GetProperty("backends").EnumerateArray()];
        (backends[0].GetProperty("zero").GetBoolean(), backends[0].GetProperty("waking").ValueKind).Should().Be((true, JsonValueKind.Null));
        backends[1].GetProperty("zero").GetBoolean().Should().BeFalse();
        backends[1].GetProperty("waking").GetRawText().Should().Be("""{"since":"2026-11-26T15:00:01.250Z","held":50}""");
        (backends[2].GetProperty("zero").GetBoolean(), backends[2].GetProperty("waking").ValueKind).Should().Be((false, JsonValueKind.Null));

        AutoscalerView view = AutoscalerView.From(backends);
        view.Backends["zero"].ZeroText.Should().Be("zero (no active server, by choice: HAProxy holds the next request and wakes it)");
        view.Backends["waking"].ZeroText.Should().Be("waking since 2026-11-26T15:00:01.250Z, 50 request(s) held by HAProxy");
        view.Backends["up"].ZeroText.Should().BeNull();

        Explain(backends[0]).Should().Contain("zero: yes (no active server, by choice: HAProxy holds the next request and wakes it)\n");
        Explain(backends[1]).Should().Contain("zero: waking since 2026-11-26T15:00:01.250Z, 50 request(s) held by HAProxy\n");
        Explain(backends[2]).Should().Contain("paused: no\nzero: no\nserver s1: parked\n");
    }

    [Fact]
    public void AutoscalerView_StatusOfAnOlderDaemon_NotZero()
    {
        using JsonDocument old = JsonDocument.Parse("""
            [{"backend":"app","servers":[{"server":"s1","role":"active"}],"paused":false,"pausedUntil":null,"coverage":null}]
            """);
        AutoscaledBackend app = AutoscalerView.From([.. old.RootElement.EnumerateArray()]).Backends["app"];
        (app.Zero, app.Waking, app.ZeroText).Should().Be((false, ((string, int)?)null, (string?)null));
    }

    private static BackendSnapshot Snapshot(string name) =>
        new(name, WindowValue.Empty, [new ServerSnapshot("s1", ServerLifecycleState.Parked, null, Since)]);

    private static string Explain(JsonElement backend)
    {
        using var text = new StringWriter { NewLine = "\n" };
        AdminCommands.WriteExplanation(text, backend);
        return text.ToString();
    }
}

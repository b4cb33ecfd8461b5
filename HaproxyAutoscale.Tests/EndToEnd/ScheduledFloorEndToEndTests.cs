using System.Globalization;
using System.Text.RegularExpressions;
using HaproxyAutoscale.Configuration;
using HaproxyAutoscale.Scaling;

namespace HaproxyAutoscale.Tests.EndToEnd;

/// <summary>
/// A scheduled floor against a real HAProxy: with no traffic at all, a floor in force warms up and enables servers up
/// to its <c>minActive</c> (pre-warming before users arrive), and the idle rule does not drain them below it.
/// </summary>
[Trait("Category", "Haproxy")]
public sealed class ScheduledFloorEndToEndTests
{
    [Fact]
    public async Task ScheduledFloor_InForceWithoutTraffic_EnablesServersUpToItAndKeepsThemDespiteIdle()
    {
        await using AutoscaleRig rig = await AutoscaleRig.StartAsync(backend =>
            backend.Schedule.Add(new ScheduledFloorOptions { Cron = "* * * * *", For = TimeSpan.FromMinutes(10), MinActive = 3 }));

        // Every minute starts a 10-minute floor of three: in force from the first evaluation on.
        await rig.WaitForStatusAsync("s2", s => s != "MAINT", "enabled by the floor");
        await rig.WaitForStatusAsync("s3", s => s != "MAINT", "enabled by the floor");
        rig.Logs.Should().Contain(l => l.EventId == AutoscaleEventIds.Decision && l.Message.StartsWith("app: decided up ", StringComparison.Ordinal)
            && l.Message.Contains("scheduled floor of 3 ('* * * * *' UTC, until ", StringComparison.Ordinal));

        // No request comes: the idle rule (idleScaleDown 2s) would drain them, the floor holds them up.
        await Poll.UntilAsync(() => rig.Logs.Any(l => l.EventId == AutoscaleEventIds.Hold && HeldAtTheFloorAfterIdle(l.Message) >= 4), TimeSpan.FromSeconds(20),
            "the idle rule to ask for a scale-down for 2 s past idleScaleDown, held at the floor");
        rig.Logs.Should().NotContain(l => l.EventId == AutoscaleEventIds.ActionCompleted && l.Message.Contains(": down done", StringComparison.Ordinal));
        (await rig.StatusOfAsync("s2")).Should().NotBe("MAINT");
        (await rig.StatusOfAsync("s3")).Should().NotBe("MAINT");
    }

    // "app: hold: no request for 4.2s, but already at the minimum of 3 active" → 4.2; anything else → 0.
    private static double HeldAtTheFloorAfterIdle(string message)
    {
        Match match = Regex.Match(message, @"^app: hold: no request for ([0-9.]+)s, but already at the minimum of 3 active$");
        return match.Success ? double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture) : 0;
    }
}

using HaproxyAutoscale.Configuration;
using HaproxyAutoscale.Scaling;
using Microsoft.Extensions.Logging;

namespace HaproxyAutoscale.Tests.EndToEnd;

/// <summary>How a start's adoption of HAProxy's state is logged when there are many servers (a fleet's start must not flood the journal).</summary>
[Trait("Category", "Haproxy")]
public sealed class AdoptionLogTests
{
    [Fact]
    public async Task Start_MoreServersThanLoggedOneByOne_TheRestAtDebugAndOneSummary()
    {
        // "app" (s1 up, s2 and s3 disabled) and six more backends like it: 21 servers, 7 active and 14 parked.
        string[] more = [.. Enumerable.Range(0, 6).Select(i => $"more{i}")];
        await using AutoscaleRig rig = await AutoscaleRig.StartAsync(
            configureOptions: options =>
            {
                foreach (string name in more)
                {
                    options.Backends.Add(new BackendOptions { Name = name, Servers = { new ServerOptions { Name = "s1", AlwaysUp = true }, new ServerOptions { Name = "s2" }, new ServerOptions { Name = "s3" } } });
                }
            },
            configureHaproxy: (config, rig) =>
            {
                foreach (string name in more)
                {
                    config.Backends.Add(HaproxyBackend.FirstUp(name, [("s1", rig.Apps[0].Port), ("s2", rig.Apps[1].Port), ("s3", rig.Apps[2].Port)]));
                }
            });

        await Poll.UntilAsync(() => rig.Logs.Any(l => l.EventId == AutoscaleEventIds.AdoptedMany), TimeSpan.FromSeconds(10), "the adoption's summary");
        var adopted = rig.Logs.Where(l => l.EventId == AutoscaleEventIds.Adopted).ToList();
        adopted.Should().HaveCount(21, "every server still has its line");
        adopted.Take(Adoptions.LoggedEach).Should().OnlyContain(l => l.Level == LogLevel.Information);
        adopted.Skip(Adoptions.LoggedEach).Should().OnlyContain(l => l.Level == LogLevel.Debug);
        adopted.Should().Contain(l => l.Message == $"more5/s3: adopted as parked from HAProxy's state on {rig.Endpoint}");
        rig.Logs.Where(l => l.EventId == AutoscaleEventIds.AdoptedMany).Select(l => (l.Level, l.Message)).Should().Equal(
            (LogLevel.Information, $"Adopted 21 servers from HAProxy's state on {rig.Endpoint}: 7 active, 14 parked (the first 20 logged one by one, the rest at debug level)"));
    }

    [Fact]
    public async Task Start_FewServers_ALineEachAndNoSummary()
    {
        await using AutoscaleRig rig = await AutoscaleRig.StartAsync();

        await Poll.UntilAsync(() => rig.Logs.Count(l => l.EventId == AutoscaleEventIds.Adopted) == 3, TimeSpan.FromSeconds(10), "s1, s2 and s3 adopted");
        await Poll.UntilAsync(() => rig.Logs.Any(l => l.EventId == AutoscaleEventIds.Decision || l.EventId == AutoscaleEventIds.Hold), TimeSpan.FromSeconds(10), "a pass after the adoption");
        rig.Logs.Where(l => l.EventId == AutoscaleEventIds.Adopted).Should().OnlyContain(l => l.Level == LogLevel.Information);
        rig.Logs.Should().NotContain(l => l.EventId == AutoscaleEventIds.AdoptedMany);
    }
}

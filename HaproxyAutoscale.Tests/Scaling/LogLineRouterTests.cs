using System.Text;
using HaproxyAutoscale.Configuration;
using HaproxyAutoscale.Hosting;
using HaproxyAutoscale.Logs;
using HaproxyAutoscale.Scaling;
using Microsoft.Extensions.Time.Testing;

namespace HaproxyAutoscale.Tests.Scaling;

/// <summary>The reader's path for lines: held per read, handed to their backends together.</summary>
public sealed class LogLineRouterTests
{
    [Fact]
    public async Task Route_HoldsTheLinesUntilTheReadEnds_ThenEachReachesItsBackend()
    {
        await using Autoscaler autoscaler = DryRun("be0", "be1", "be2");
        LogLineRouter router = autoscaler.CreateLineRouter();

        router.Route(Line("be0")).Should().BeTrue();
        router.Route(Line("be2")).Should().BeTrue();
        router.Route(Line("be0")).Should().BeTrue();
        router.Route(Line("other")).Should().BeTrue("a request line of a backend not autoscaled is parsed, then ignored");
        router.Route("not a request line"u8).Should().BeFalse();
        Logged(autoscaler).Should().Equal([0, 0, 0], "nothing reaches a backend before the read ends");

        router.Flush();
        Logged(autoscaler).Should().Equal([2, 0, 1]);
        router.Flush();
        Logged(autoscaler).Should().Equal([2, 0, 1], "a record is handed on once");
    }

    [Fact]
    public async Task Route_AFullBatch_IsHandedOnWithoutWaitingForTheReadsEnd()
    {
        await using Autoscaler autoscaler = DryRun("be0", "be1");
        LogLineRouter router = autoscaler.CreateLineRouter();

        for (int i = 0; i < LogLineRouter.BatchLines + 3; i++)
        {
            router.Route(Line(i % 2 == 0 ? "be0" : "be1"));
        }

        Logged(autoscaler).Sum().Should().Be(LogLineRouter.BatchLines, "a long read is handed on in batches");
        router.Flush();
        Logged(autoscaler).Should().Equal([(LogLineRouter.BatchLines / 2) + 2, (LogLineRouter.BatchLines / 2) + 1]);
    }

    private static Autoscaler DryRun(params string[] backends)
    {
        string json = $$"""{ "haproxy": { "endpoints": ["/nonexistent/admin.sock"] }, "backends": { {{string.Join(",", backends.Select(b => $$""" "{{b}}": { "servers": { "s1": { "alwaysUp": true }, "s2": {} } }"""))}} } }""";
        AutoscaleOptions options = AutoscaleConfiguration.Parse(json).Options!;
        return new AutoscalerBuilder(options).UseTimeProvider(new FakeTimeProvider(new DateTimeOffset(2026, 12, 7, 9, 0, 0, TimeSpan.Zero)))
            .UseLogSource(new StreamLogSource(Stream.Null, "-", ownsStream: false, 4096)).DryRun().Build();
    }

    private static long[] Logged(Autoscaler autoscaler) => [.. autoscaler.Backends.Select(b => b.Decider.LoggedRequests)];

    private static byte[] Line(string backend) => Encoding.ASCII.GetBytes(
        $"<134>1 2026-12-07T09:00:00.000000+00:00 - haproxy 1 - - 127.0.0.1:40000 [07/Dec/2026:09:00:00.000] fe_http {backend}/s1 0/0/0/20/20 200 512 - - ---- 1/1/0/0/0 0/0 \"GET / HTTP/1.1\"");
}

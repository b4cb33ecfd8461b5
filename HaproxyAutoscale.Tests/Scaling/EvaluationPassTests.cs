using System.Text;
using HaproxyAutoscale.Configuration;
using HaproxyAutoscale.Hosting;
using HaproxyAutoscale.Logs;
using HaproxyAutoscale.Policies;
using HaproxyAutoscale.Scaling;
using Microsoft.Extensions.Time.Testing;

namespace HaproxyAutoscale.Tests.Scaling;

/// <summary>The evaluation pass at thousands of backends, where it is shared across the cores in chunks.</summary>
public sealed class EvaluationPassTests
{
    private const int Backends = 2 * Autoscaler.PassChunk + (Autoscaler.PassChunk / 2); // three chunks of the pass, the last one short
    private static readonly int[] Busy = [0, Autoscaler.PassChunk - 1, Autoscaler.PassChunk, Backends - 1]; // both ends of the first chunk, the last backend

    [Fact]
    public async Task EvaluatePass_ThousandsOfBackends_EvaluatesEveryBackendOnceAndScalesEachBusyOne()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 12, 7, 7, 0, 0, TimeSpan.Zero));
        var json = new StringBuilder("""{ "haproxy": { "endpoints": ["/nonexistent/admin.sock"] }, "backends": {""");
        for (int b = 0; b < Backends; b++)
        {
            json.Append(b == 0 ? "" : ",").Append($$""" "be{{b:D4}}": { "servers": { "s1": { "alwaysUp": true }, "s2": {}, "s3": {} } }""");
        }

        AutoscaleOptions options = AutoscaleConfiguration.Parse(json.Append("} }").ToString()).Options!;
        await using Autoscaler autoscaler = new AutoscalerBuilder(options).UseTimeProvider(time)
            .UseLogSource(new StreamLogSource(Stream.Null, "-", ownsStream: false, 4096)).DryRun().Build();
        IReadOnlyList<ScaledBackend> backends = autoscaler.Backends;

        // Two passes of 2 s requests, 200 a second, on the busy backends: in-flight ~400 against a target of 4 per server.
        for (int pass = 1; pass <= 2; pass++)
        {
            time.Advance(TimeSpan.FromSeconds(1));
            foreach (int b in Busy)
            {
                for (int i = 0; i < 200; i++)
                {
                    lock (backends[b].Gate)
                    {
                        backends[b].Decider.OnRecord(Request($"be{b:D4}", totalMs: 2_000));
                    }
                }
            }

            autoscaler.EvaluatePass(CancellationToken.None);
            backends.Where(b => b.LastDecision?.Time != time.GetUtcNow()).Select(b => b.Name).Should().BeEmpty("every backend is evaluated in every pass");
        }

        backends.Where(b => b.LastDecision!.Action == ScalingAction.Up || b.Servers.Roles.Any(r => r.Role == ServerRole.Warming || (r.Role == ServerRole.Active && r.Server != "s1")))
            .Select(b => b.Name).Should().Equal(Busy.Select(b => $"be{b:D4}"), "only the busy backends scale up, each of them");
    }

    private static RequestRecord Request(string backend, int totalMs) => new()
    {
        Kind = RequestKind.Http,
        Backend = backend,
        Server = "s1",
        StatusCode = 200,
        QueueTime = 0,
        ConnectTime = 0,
        ResponseTime = totalMs,
        TotalTime = totalMs,
    };
}

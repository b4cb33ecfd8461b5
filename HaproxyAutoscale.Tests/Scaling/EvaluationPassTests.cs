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
        var parser = new HaproxyLogParser();

        // Two passes of 2 s requests, 200 a second, on the busy backends: in-flight ~400 against a target of 4 per server.
        for (int pass = 1; pass <= 2; pass++)
        {
            time.Advance(TimeSpan.FromSeconds(1));
            foreach (int b in Busy)
            {
                RequestRecord request = Request(parser, b);
                for (int i = 0; i < 200; i++)
                {
                    lock (backends[b].Gate)
                    {
                        backends[b].Decider.OnRecord(request);
                    }
                }
            }

            autoscaler.EvaluatePass(CancellationToken.None);
            backends.Where(b => b.LastDecision?.Time != time.GetUtcNow()).Select(b => b.Name).Should().BeEmpty("every backend is evaluated in every pass");
        }

        backends.Where(b => b.LastDecision!.Action == ScalingAction.Up || b.Servers.Roles.Any(r => r.Role == ServerRole.Warming || (r.Role == ServerRole.Active && r.Server != "s1")))
            .Select(b => b.Name).Should().Equal(Busy.Select(b => $"be{b:D4}"), "only the busy backends scale up, each of them");
    }

    // An httplog line of a 2 s request on the backend's s1, parsed as the daemon parses it.
    private static RequestRecord Request(HaproxyLogParser parser, int backend)
    {
        string line = $"<134>1 2026-12-07T07:00:00.000000+00:00 - haproxy 1 - - 127.0.0.1:40000 [07/Dec/2026:07:00:00.000] fe_http be{backend:D4}/s1 0/0/0/2000/2000 200 512 - - ---- 1/1/0/0/0 0/0 \"GET / HTTP/1.1\"";
        parser.TryParse(Encoding.ASCII.GetBytes(line), out RequestRecord record).Should().BeTrue(line);
        return record;
    }
}

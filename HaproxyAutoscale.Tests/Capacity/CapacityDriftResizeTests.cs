using HaproxyAutoscale.Capacity;
using HaproxyAutoscale.Configuration;
using HaproxyAutoscale.Logs;
using HaproxyAutoscale.Policies;
using HaproxyAutoscale.Scaling;
using HaproxyAutoscale.Windows;
using Microsoft.Extensions.Time.Testing;

namespace HaproxyAutoscale.Tests.Capacity;

/// <summary>
/// Model drift end to end, on the daemon's decider and a fake clock: the app's service time doubles mid-run, the
/// capacity learned from the backend's own records follows, and the default sizing adds servers because of it.
/// </summary>
public sealed class CapacityDriftResizeTests
{
    private static readonly DateTimeOffset Start = new(2026, 12, 6, 15, 0, 0, TimeSpan.Zero);

    [Fact]
    public void ServiceTimeDoublesMidRun_LearnedCapacityFollows_BackendGrowsWithoutAnOperator()
    {
        (List<int> active, LearnedCapacity before, LearnedCapacity after) = Run("learned");

        after.DriftedAt.Should().NotBeNull();
        after.ServiceMeanMs.Should().BeApproximately(2 * before.ServiceMeanMs, 0.15 * 2 * before.ServiceMeanMs);
        after.PerServerAtSlo.Should().BeLessThan(0.6 * before.PerServerAtSlo);
        active.Take(300).Should().OnlyContain(a => a == 1, "60 requests/s are one server's worth at 40 ms");
        active[^1].Should().BeGreaterThan(1, "at 80 ms the same arrivals need more than one server");
        active.FindIndex(a => a > 1).Should().BeLessThan(300 + 150, "the model follows within the drift check's minute and a refresh");
    }

    [Fact]
    public void ServiceTimeDoublesMidRun_SizedByInFlightOnly_TheSameTargetKeepsOneServer()
    {
        // The control: in-flight (about 3.5, then 7) stays under the target of 16, so the growth above is the learned capacity's.
        (List<int> active, _, _) = Run("in-flight");

        active.Should().OnlyContain(a => a == 1);
    }

    // 60 requests/s for 5 minutes at a 40 ms median, then 3 minutes at 80 ms; a decision every second, servers up at once.
    private static (List<int> Active, LearnedCapacity Before, LearnedCapacity After) Run(string sizing)
    {
        var time = new FakeTimeProvider(Start);
        var options = new BackendOptions { Name = "app", Policy = { Kind = ScalingPolicyNames.Concurrency }, SettleTime = TimeSpan.Zero, Slo = { P95 = TimeSpan.FromMilliseconds(400) } };
        options.Policy.Settings["targetInFlight"] = "16";
        options.Policy.Settings["sizing"] = sizing;
        options.Servers.Add(new ServerOptions { Name = "s1", AlwaysUp = true });
        foreach (string name in new[] { "s2", "s3", "s4", "s5", "s6" })
        {
            options.Servers.Add(new ServerOptions { Name = name });
        }

        ScaledBackend backend = ScaledBackend.Create(options, new ScalingPolicyRegistry(), new ResponseTimeWindowRegistry(), time);
        backend.Servers.Set("s1", ServerLifecycleState.Active);
        var random = new Random(3);
        var active = new List<int>();
        LearnedCapacity? before = null;
        for (int second = 0; second < 480; second++)
        {
            string[] serving = [.. backend.Servers.Roles.Where(r => r.Role == ServerRole.Active).Select(r => r.Server)];
            for (int i = 0; i < 60; i++)
            {
                RequestRecord record = CapacityLearnerTests.Record(random, workers: 4, second < 300 ? 40 : 80, concurrency: random.Next(1, 9));
                record.Server = serving[i % serving.Length];
                backend.Decider.OnRecord(record);
            }

            time.Advance(TimeSpan.FromSeconds(1));
            ScalingPlan plan = backend.Decider.Decide();
            Actuator.Claim(backend, plan);
            foreach (string server in plan.Servers)
            {
                backend.Servers.Set(server, plan.Decision.Action == ScalingAction.Up ? ServerLifecycleState.Active : ServerLifecycleState.Parked);
            }

            active.Add(backend.Servers.Capacity);
            before = second == 299 ? backend.Decider.Capacity.Current : before;
        }

        return (active, before!, backend.Decider.Capacity.Current!);
    }
}

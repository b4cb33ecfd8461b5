using HaproxyAutoscale.Capacity;
using HaproxyAutoscale.Logs;
using HaproxyAutoscale.Simulation;

namespace HaproxyAutoscale.Tests.Capacity;

public sealed class CapacityLearnerTests
{
    private static readonly DateTimeOffset Start = new(2026, 12, 6, 12, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData(2.0)]
    [InlineData(4.0)]
    [InlineData(6.5)]
    public void Refresh_ProcessorSharingRecords_SameWorkersAndServiceTimeAsTheLogFit(double workers)
    {
        var learner = new CapacityLearner(Start, slo: null);
        var fitter = new ServerModelFitter();
        var random = new Random(7);
        for (int i = 0; i < 50_000; i++)
        {
            RequestRecord record = Record(random, workers, serviceMedianMs: 40, concurrency: random.Next(1, 13));
            learner.Add(record);
            fitter.Add(record);
        }

        learner.Refresh(Start + TimeSpan.FromSeconds(10));

        BackendModel fitted = fitter.Fit().Model.Find("app")!;
        LearnedCapacity learned = learner.Current!;
        learned.Workers.Should().BeApproximately(fitted.Workers, fitted.Workers * 0.05).And.BeApproximately(workers, workers * 0.1);
        learned.Saturated.Should().BeTrue();
        learned.ServiceP95Ms.Should().BeApproximately(fitted.ServiceTimeQuantilesMs[95], fitted.ServiceTimeQuantilesMs[95] * 0.1);
        learned.ServiceMeanMs.Should().BeApproximately(40 * Math.Exp(0.125), 2, "a log-normal's mean is its median × e^(σ²/2)");
        learned.Confident.Should().BeTrue();
        learned.Basis.Should().Contain("grow past");
    }

    [Fact]
    public void Refresh_ConfidenceRule_EnoughRequestsAloneAndAtEnoughConcurrencies()
    {
        var random = new Random(1);
        LearnedCapacity Learn(int requests, int maxConcurrency)
        {
            var learner = new CapacityLearner(Start, slo: null);
            for (int i = 0; i < requests; i++)
            {
                learner.Add(Record(random, workers: 100, serviceMedianMs: 40, concurrency: 1 + (i % maxConcurrency)));
            }

            learner.Refresh(Start + TimeSpan.FromSeconds(10));
            return learner.Current!;
        }

        Learn(60, 1).Should().Match<LearnedCapacity>(c => !c.Confident && c.Basis.EndsWith("requests alone on their server, 100 wanted", StringComparison.Ordinal));
        Learn(300, 2).Should().Match<LearnedCapacity>(c => !c.Confident && c.Basis.StartsWith("response times at only 2 concurrencies", StringComparison.Ordinal));

        LearnedCapacity calm = Learn(600, 3);
        calm.Confident.Should().BeTrue();
        calm.Saturated.Should().BeFalse("response times never grew");
        calm.Workers.Should().Be(3, "unsaturated, the workers are the highest concurrency seen often enough: a lower bound");
        calm.Basis.Should().Contain("never saturated, so at least 3 workers");
    }

    [Fact]
    public void Refresh_ServiceTimeDoublesMidRun_ModelFollowsWithinTwoMinutesAndCapacityHalves()
    {
        var learner = new CapacityLearner(Start, slo: TimeSpan.FromMilliseconds(400));
        var random = new Random(5);
        DateTimeOffset now = Start;
        DateTimeOffset doubled = Start + TimeSpan.FromMinutes(15);
        LearnedCapacity? before = null;
        for (; now < doubled + TimeSpan.FromMinutes(2); now += TimeSpan.FromSeconds(1))
        {
            double median = now < doubled ? 40 : 80;
            for (int i = 0; i < 50; i++)
            {
                learner.Add(Record(random, workers: 4, median, concurrency: random.Next(1, 9)));
            }

            learner.Refresh(now);
            if (now < doubled)
            {
                learner.Current?.DriftedAt.Should().BeNull("noise is no drift");
                before = learner.Current;
            }
        }

        LearnedCapacity after = learner.Current!;
        before!.Confident.Should().BeTrue();
        after.DriftedAt.Should().BeOnOrAfter(doubled + TimeSpan.FromMinutes(1)).And.BeOnOrBefore(doubled + TimeSpan.FromSeconds(100));
        after.Drift.Should().MatchRegex(@"^service time 4\d(\.\d)? ms → (8|9)\d(\.\d)? ms$");
        after.ServiceMeanMs.Should().BeApproximately(2 * before.ServiceMeanMs, 0.1 * 2 * before.ServiceMeanMs);
        after.Workers.Should().BeApproximately(4, 0.5);
        after.PerServerAtSlo.Should().BeLessThan(0.6 * before.PerServerAtSlo, "a server of twice the service time takes about half the requests");
    }

    [Fact]
    public void Add_TenThousandRecords_AllocatesNothing()
    {
        var learner = new CapacityLearner(Start, slo: null);
        var random = new Random(2);
        RequestRecord[] records = [.. Enumerable.Range(0, 10_000).Select(_ => Record(random, 4, 40, random.Next(1, 40)))];
        var warmUp = new CapacityLearner(Start, slo: null);
        foreach (RequestRecord record in records)
        {
            warmUp.Add(record); // every path once first: a type's first use on this thread (its statics) is not the learner's
        }

        learner.Add(records[0]);

        long before = GC.GetAllocatedBytesForCurrentThread();
        foreach (RequestRecord record in records)
        {
            learner.Add(record);
        }

        (GC.GetAllocatedBytesForCurrentThread() - before).Should().Be(0);
    }

    [Fact]
    public void ServerThroughput_TwoWorkersOf40Ms_BelowSaturationAndRisingWithTheSlo()
    {
        (double at200, bool reachable) = ServerThroughput.AtSlo(workers: 2, serviceMeanMs: 40, serviceP95Ms: 60, sloMs: 200);
        (double at100, _) = ServerThroughput.AtSlo(2, 40, 60, 100);
        (double unreachable, bool met) = ServerThroughput.AtSlo(2, 40, 60, 50);

        reachable.Should().BeTrue();
        at200.Should().BeInRange(30, 40, "2 workers of 40 ms saturate at 50 req/s; a p95 of 200 ms leaves 140 ms of queueing at most");
        at100.Should().BeLessThan(at200);
        met.Should().BeFalse();
        unreachable.Should().BeApproximately(25, 1e-9, "an SLO the service time alone misses is sized at half the workers busy");
    }

    // A request on a processor-sharing server: log-normal service (σ 0.5), slowed by concurrency / workers beyond them.
    internal static RequestRecord Record(Random random, double workers, double serviceMedianMs, int concurrency)
    {
        double u1 = 1 - random.NextDouble(), u2 = random.NextDouble();
        double normal = Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
        double service = serviceMedianMs * Math.Exp(0.5 * normal);
        int tr = (int)Math.Round(service * Math.Max(1, concurrency / workers));
        return new RequestRecord
        {
            Kind = RequestKind.Http,
            Backend = "app",
            Server = "s1",
            StatusCode = 200,
            ServerConnections = concurrency - 1,
            QueueTime = 0,
            ConnectTime = 0,
            ResponseTime = tr,
            TotalTime = tr,
        };
    }
}

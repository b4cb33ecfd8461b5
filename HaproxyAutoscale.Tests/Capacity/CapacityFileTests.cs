using HaproxyAutoscale.Capacity;

namespace HaproxyAutoscale.Tests.Capacity;

public sealed class CapacityFileTests
{
    private static readonly DateTimeOffset Start = new(2026, 12, 6, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Save_ThenLoad_SameModelAndNoTemporaryFileLeft()
    {
        using var dir = new TempDirectory();
        var learner = new CapacityLearner(Start, slo: null);
        var random = new Random(3);
        for (int i = 0; i < 5_000; i++)
        {
            learner.Add(CapacityLearnerTests.Record(random, workers: 3, serviceMedianMs: 25, concurrency: random.Next(1, 9)));
        }

        learner.Refresh(Start + TimeSpan.FromSeconds(10));
        string path = CapacityFile.PathOf(dir.Path, "app");

        CapacityFile.Save(path, "app", learner.Tally, learner.Current, Start);
        CapacityTally? loaded = CapacityFile.Load(path, out string? problem);

        problem.Should().BeNull();
        var restarted = new CapacityLearner(Start, slo: null);
        restarted.Restore(loaded!, Start + TimeSpan.FromMinutes(1));
        restarted.Current.Should().BeEquivalentTo(learner.Current, o => o.Excluding(c => c!.Updated));
        Directory.GetFiles(dir.Path).Should().Equal(path);
        File.ReadAllText(path).Should().Contain("\"workers\": 3");
    }

    [Fact]
    public void Load_DamagedOrMissingFile_NullWithTheReason()
    {
        using var dir = new TempDirectory();
        string path = CapacityFile.PathOf(dir.Path, "app");

        CapacityFile.Load(path, out string? missing).Should().BeNull();
        missing.Should().BeNull("no file: nothing learned yet, nothing wrong");

        File.WriteAllText(path, "{\"version\": 1, \"tally\": {\"counts\": [1, 2");
        CapacityFile.Load(path, out string? damaged).Should().BeNull();
        damaged.Should().NotBeNullOrEmpty();
    }

    [Fact]
    public void PathOf_NameWithCharactersAFileNameShouldNotHold_Escaped()
    {
        CapacityFile.PathOf("/var/lib/haproxy-autoscale", "api:v2/../x").Should().Be("/var/lib/haproxy-autoscale/api%3Av2%2F..%2Fx.capacity.json");
    }
}

using HaproxyAutoscale.Cli;

namespace HaproxyAutoscale.Tests.Cli;

/// <summary>The run command's memory helpers: the GC trace's line (a diagnostic) and the young collections between passes.</summary>
public sealed class MemoryDiagnosticsTests
{
    private const long MB = 1024 * 1024;

    [Fact]
    public void MemoryTrace_Line_SaysTheRssAndWhatTheGcHolds()
    {
        string line = MemoryTrace.Line(1.5);

        line.Should().StartWith("gc-trace t 1.5 s rss ").And.Contain(" heap ").And.Contain(" committed ").And.Contain(" counts ");
    }

    [Fact]
    public void YoungCollections_AfterAPass_CollectsGeneration0OnceEnoughWasAllocatedSinceTheLastCollection()
    {
        var young = new YoungCollections.Ledger();

        young.Due(lastCollection: 7, gen1After: MB, allocated: 100 * MB).Should().BeNull("counted from the collection seen");
        young.Due(7, MB, 100 * MB + YoungCollections.Gen0Spent - 1).Should().BeNull();
        young.Due(7, MB, 100 * MB + YoungCollections.Gen0Spent).Should().Be(0);
        young.Due(8, MB, 102 * MB).Should().BeNull("a collection came: counted again from it");
        young.Due(8, MB, 102 * MB + YoungCollections.Gen0Spent).Should().Be(0);
    }

    [Fact]
    public void YoungCollections_AfterAPass_CollectsGeneration1WhenACollectionLeftTooMuchInIt()
    {
        var young = new YoungCollections.Ledger();

        young.Due(lastCollection: 3, gen1After: YoungCollections.Gen1Bound + 1, allocated: 10 * MB).Should().Be(1);
        young.Due(3, YoungCollections.Gen1Bound + 1, 10 * MB).Should().BeNull("once per collection");
        young.Due(4, YoungCollections.Gen1Bound, 11 * MB).Should().BeNull("at the bound, not above it");
    }

    [Fact]
    public async Task YoungCollections_Stopped_Ends()
    {
        using var stopping = new CancellationTokenSource();
        DateTimeOffset? lastPass = null;
        Task young = YoungCollections.RunAsync(() => lastPass, stopping.Token);
        lastPass = DateTimeOffset.UtcNow; // a pass: its check runs, whatever it decides

        await stopping.CancelAsync();

        await young.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
        young.IsCompletedSuccessfully.Should().BeTrue();
    }
}

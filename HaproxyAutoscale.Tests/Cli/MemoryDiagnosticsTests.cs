using HaproxyAutoscale.Cli;

namespace HaproxyAutoscale.Tests.Cli;

/// <summary>The run command's memory helpers: the GC trace's line (a diagnostic) and the generation 1 cap's loop.</summary>
public sealed class MemoryDiagnosticsTests
{
    [Fact]
    public void MemoryTrace_Line_SaysTheRssAndWhatTheGcHolds()
    {
        string line = MemoryTrace.Line(1.5);

        line.Should().StartWith("gc-trace t 1.5 s rss ").And.Contain(" heap ").And.Contain(" committed ").And.Contain(" counts ");
    }

    [Fact]
    public async Task YoungGarbageCap_Stopped_Ends()
    {
        using var stopping = new CancellationTokenSource();
        Task cap = YoungGarbageCap.RunAsync(stopping.Token);

        await stopping.CancelAsync();

        await cap.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
        cap.IsCompletedSuccessfully.Should().BeTrue();
    }
}

using HaproxyAutoscale.Tests.Infrastructure;

namespace HaproxyAutoscale.Tests.EndToEnd;

/// <summary>
/// The autoscaler (the CLI's <c>run</c>) killed with SIGKILL while a process it started serves, then started again:
/// it adopts the running process instead of starting a second one, and stops it when it is no longer needed.
/// </summary>
[Trait("Category", "Haproxy")]
public sealed class ProviderRestartEndToEndTests
{
    [Fact]
    public async Task AutoscalerKilledWhileAProcessServes_RestartAdoptsIt_NoSecondStart()
    {
        await using ProviderRig rig = await ProviderRig.StartAsync(keepWarm: TimeSpan.FromSeconds(1));
        string config = rig.WriteConfig();

        await using (CliProcess first = CliProcess.Start("run", "--config", config))
        {
            await first.WaitForAsync("Autoscaling 1 backend(s)", "the first autoscaler to start");
            using var slow = new CancellationTokenSource();
            Task load = rig.LoadAsync("/slow", 4, TimeSpan.FromSeconds(60), slow.Token);
            await rig.WaitAsync(async () => await rig.StatusOfAsync("s2") is { } status && !status.StartsWith("MAINT", StringComparison.Ordinal), "s2 started and enabled", seconds: 45);
            await slow.CancelAsync();
            await load;
            await first.KillAsync();
        }

        int pid = rig.Apps.PidOf("s2") ?? throw new InvalidOperationException("s2 does not run");
        rig.Apps.Starts("s2").Should().Be(1);

        await using CliProcess second = CliProcess.Start("run", "--config", config);
        await second.WaitForAsync("app/s2: adopted as active", "the second autoscaler to adopt s2 from HAProxy's state");

        // More load: s2 serves already, nothing is started twice.
        using (var slow = new CancellationTokenSource())
        {
            Task load = rig.LoadAsync("/slow", 4, TimeSpan.FromSeconds(3), slow.Token);
            await load;
        }

        rig.Apps.Starts("s2").Should().Be(1, "the running process was adopted, not duplicated");
        rig.Apps.PidOf("s2").Should().Be(pid);

        // The second autoscaler owns it: once not needed it is drained, kept warm for 1 s and stopped.
        using (var fast = new CancellationTokenSource())
        {
            Task load = rig.LoadAsync("/fast", 2, TimeSpan.FromSeconds(60), fast.Token);
            await rig.WaitAsync(() => rig.Apps.PidOf("s2") is null, "s2 stopped by the second autoscaler", seconds: 45);
            await fast.CancelAsync();
            await load;
        }

        (await rig.StatusOfAsync("s2")).Should().StartWith("MAINT");
        await second.WaitForAsync("app/s2: stopped through the exec provider", "the stop to be logged");
        second.Output.Should().NotContain("app/s2: stop: 'bash' exited", "a stop that succeeded silently is a debug line: the line above says it");
        rig.Failed.Should().Be(0);
    }
}

using HaproxyAutoscale.Control;
using HaproxyAutoscale.Lab.Soak;

namespace HaproxyAutoscale.Tests.Control;

/// <summary>
/// The kept-open Runtime API session across a master-worker reload (SIGUSR2 to the master, what <c>systemctl reload</c>
/// does under <c>haproxy -Ws</c>): HAProxy does not close the old worker's CLI sessions, so the client must leave it.
/// </summary>
[Trait("Category", "Haproxy")]
public sealed class MasterWorkerReloadTests
{
    [Fact]
    public async Task PersistentSession_AfterMasterWorkerReload_FollowsTheNewWorkerAndLetsTheOldOneExit()
    {
        using var dir = new TempDirectory();
        await using Haproxy haproxy = await Haproxy.StartWithAdminSocketAsync(
            "backend app\n    server s1 127.0.0.1:1 weight 10\n    server s2 127.0.0.1:2 weight 10 disabled\n", dir, "    master-worker");
        await using IHaproxyControl control = HaproxyControl.Create(dir.File("admin.sock"));
        IHaproxyControl oneShot = HaproxyControl.Create(dir.File("admin.sock"), new HaproxyControlOptions { Persistent = false });
        int oldWorker = (await control.ShowInfoAsync()).Pid;

        // The worker answers before the master handles signals: a SIGUSR2 sent earlier is lost (seen in CI even after
        // "Loading success"), so it is sent again every 3 s until a new worker answers. More reloads change nothing
        // below: the first worker must be left and must exit.
        await Poll.UntilAsync(() => haproxy.Output.Contains("Loading success", StringComparison.Ordinal), TimeSpan.FromSeconds(10), "the master to be ready");
        DateTime signalled = DateTime.MinValue;
        await Poll.UntilAsync(async () =>
        {
            if (await WorkerAsync(oneShot) is int worker && worker != oldWorker)
            {
                return true;
            }

            if (DateTime.UtcNow - signalled > TimeSpan.FromSeconds(3))
            {
                SoakDaemon.SendSignal("USR2", haproxy.Pid);
                signalled = DateTime.UtcNow;
            }

            return false;
        }, TimeSpan.FromSeconds(30), "the new worker");

        (await control.ShowInfoAsync()).Pid.Should().NotBe(oldWorker, "the session left the worker the reload is stopping");
        await control.EnableServerAsync("app", "s2"); // the old worker would answer "Proxy is disabled."
        (await oneShot.ShowServersStateAsync("app")).Single(s => s.Server == "s2").AdminState.Should().Be(ServerAdminState.Ready);
        await Poll.UntilAsync(() => !File.Exists($"/proc/{oldWorker}/stat"), TimeSpan.FromSeconds(10), "the old worker to exit (no session keeps it)");
    }

    private static async Task<int?> WorkerAsync(IHaproxyControl control)
    {
        try
        {
            return (await control.ShowInfoAsync()).Pid;
        }
        catch (HaproxyControlException)
        {
            return null; // the socket is being taken over
        }
    }
}

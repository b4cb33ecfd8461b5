using System.Diagnostics;
using System.Globalization;
using HaproxyAutoscale.Scaling;
using HaproxyAutoscale.Tests.Infrastructure;

namespace HaproxyAutoscale.Tests.HighAvailability;

/// <summary>
/// Active/standby on a real 3-member etcd cluster (issue 15, item 4): two autoscaler processes, one real HAProxy,
/// real apps, a lease TTL of 2 s. Timing-sensitive (leases), so the class runs alone.
/// </summary>
[Collection(nameof(ActiveStandbyTests))]
[Trait("Category", "Haproxy")]
public sealed class ActiveStandbyTests(ITestOutputHelper output)
{
    private static readonly string UpS2 = "decided up s2";

    [Fact]
    public async Task KillLeader_DuringLoadStep_StandbyEnablesServerWithinLeaseTtlPlusTwoSeconds()
    {
        await using HaRig rig = await HaRig.StartAsync(s2ColdStart: TimeSpan.FromSeconds(1));
        await rig.ReportingOutputsAsync(output, async () =>
        {
            (string leaderName, CliProcess leader) = rig.Leader;
            (string standbyName, CliProcess standby) = rig.Other(leaderName);
            await rig.UnderLoadAsync(async () =>
            {
                // The leader decides during the load step and starts warming s2 up: kill -9 it then.
                await leader.WaitForAsync(UpS2, "the leader to decide up s2");
                await leader.KillAsync();
                var sinceKill = Stopwatch.StartNew();
                (await rig.StatusOfAsync("s2")).Should().Be("MAINT", "the leader was killed before it enabled s2");

                await Poll.UntilAsync(() => rig.StatusOfAsync("s2").GetAwaiter().GetResult() != "MAINT", TimeSpan.FromSeconds(15), "the standby to enable s2");
                TimeSpan takeover = sinceKill.Elapsed;
                output.WriteLine($"s2 enabled by the standby {takeover.TotalMilliseconds:0} ms after kill -9 of the leader (lease TTL {HaRig.LeaseTtl.TotalSeconds:0} s)");
                takeover.Should().BeLessThan(HaRig.LeaseTtl + TimeSpan.FromSeconds(2));

                // The standby decided in shadow before, and acted under a newer epoch once it led.
                standby.Output.Should().Contain($"HaproxyAutoscale[{AutoscaleEventIds.StandbyDecision}] app: standby decided up s2");
                // HAProxy's state can change before the daemon's log line of the command has come through its output pipe.
                await Poll.UntilAsync(() => HaRig.CommandsOf(standbyName, standby.Output).Any(c => c.Command == "set server app/s2 state ready"), TimeSpan.FromSeconds(5), "the standby's enable command in its log");
                HaRig.CommandsOf(leaderName, leader.Output).Should().BeEmpty("the killed leader never got to send");
                rig.ShouldNeverHaveHadTwoLeaders();
            });
        });
    }

    [Fact]
    public async Task StopLeader_MidAction_ResumedLeaderHasSteppedDownAndSendsNothingStale()
    {
        // s2's warm-up takes 1.5 s: the leader is stopped (SIGSTOP, a hung process) in the middle of its action.
        await using HaRig rig = await HaRig.StartAsync(s2ColdStart: TimeSpan.FromSeconds(1.5));
        await rig.ReportingOutputsAsync(output, async () =>
        {
            (string leaderName, CliProcess leader) = rig.Leader;
            (string standbyName, CliProcess standby) = rig.Other(leaderName);
            await rig.UnderLoadAsync(async () =>
            {
                await leader.WaitForAsync(UpS2, "the leader to decide up s2");
                await HaRig.SignalAsync(leader.Pid, "STOP");
                DateTime stoppedAt = DateTime.Now;
                var sinceStop = Stopwatch.StartNew();
                HaRig.CommandsOf(leaderName, leader.Output).Should().BeEmpty("the leader is stopped while it warms s2 up, before any command");

                // The standby takes over once the hung leader's lease expired in etcd, and enables s2.
                await Poll.UntilAsync(() => rig.StatusOfAsync("s2").GetAwaiter().GetResult() != "MAINT", TimeSpan.FromSeconds(15), "the standby to enable s2");
                await Poll.UntilAsync(() => HaRig.CommandsOf(standbyName, standby.Output).Any(c => c.Command == "set server app/s2 state ready"), TimeSpan.FromSeconds(5), "the standby's enable command in its log");
                output.WriteLine($"s2 enabled by the standby {sinceStop.ElapsedMilliseconds} ms after SIGSTOP of the leader");

                // Resumed, the old leader finishes its warm-up and reaches its first command: refused, nothing sent.
                await HaRig.SignalAsync(leader.Pid, "CONT");
                await leader.WaitForAsync($"HaproxyAutoscale[{AutoscaleEventIds.NotLeaderRefused}]", "the resumed leader's stale command to be refused");
                await leader.WaitForAsync($"HaproxyAutoscale[{AutoscaleEventIds.SteppedDown}]", "the resumed leader to step down");
                await leader.WaitForAsync($"HaproxyAutoscale[{AutoscaleEventIds.StandingBy}]", "the resumed leader to stand by");

                // Let it evaluate five times as a standby under load (each evaluation is logged): still nothing from it.
                await Poll.UntilAsync(() => HaRig.EvaluationsAfter(leader.Output, AutoscaleEventIds.StandingBy) >= 5, TimeSpan.FromSeconds(10), "the resumed leader to evaluate five times as a standby");
                HaRig.CommandsOf(leaderName, leader.Output).Should().BeEmpty("a leader whose lease expired sends nothing, before or after it notices");
                HaRig.FirstEvent(leader.Output, AutoscaleEventIds.LeadershipGained, after: stoppedAt).Should().BeNull("the standby leads now");
                (await rig.StatusOfAsync("s2")).Should().NotBe("MAINT");
                rig.ShouldNeverHaveHadTwoLeaders();
            });
        });
    }

    [Fact]
    public async Task LoseEtcdQuorum_LeaderStepsDownBeforeItsLeaseExpires_AndNobodyActs()
    {
        await using HaRig rig = await HaRig.StartAsync(s2ColdStart: TimeSpan.Zero);
        await rig.ReportingOutputsAsync(output, async () =>
        {
            (string leaderName, CliProcess leader) = rig.Leader;

            // Two of three members gone (etcd's raft leader among them): no quorum, no renewal. The leader must stop acting on its own.
            await rig.Etcd.LeaveOneFollowerAsync();
            DateTime quorumLost = DateTime.Now;
            string marker = $"HaproxyAutoscale[{AutoscaleEventIds.SteppedDown}]";
            await leader.WaitForAsync(marker, "the leader to step down without quorum");
            // When the daemon logged it (its own timestamp: the test reads the output through a pipe, late on a loaded machine).
            string line = leader.Output.Split('\n').First(l => l.Contains(marker, StringComparison.Ordinal));
            TimeSpan steppedDownAfter = DateTime.ParseExact(line[..23], "yyyy-MM-ddTHH:mm:ss.fff", CultureInfo.InvariantCulture) - quorumLost;
            output.WriteLine($"{leaderName} stepped down {steppedDownAfter.TotalMilliseconds:0} ms after etcd lost its quorum (lease TTL {HaRig.LeaseTtl.TotalSeconds:0} s)");
            steppedDownAfter.Should().BeLessThan(HaRig.LeaseTtl + TimeSpan.FromSeconds(1), "it steps down before its lease could expire, give or take a renewal round");

            // A load step now: both replicas want s2, neither may enable it.
            await rig.UnderLoadAsync(async () =>
            {
                await Poll.UntilAsync(
                    () => rig.Replicas.Values.All(r => r.Output.Contains($"HaproxyAutoscale[{AutoscaleEventIds.StandbyDecision}] app: standby decided up s2", StringComparison.Ordinal)),
                    TimeSpan.FromSeconds(15), "both replicas to decide up s2 as standbys");
                (await rig.StatusOfAsync("s2")).Should().Be("MAINT");
                rig.Replicas.SelectMany(r => HaRig.CommandsOf(r.Key, r.Value.Output)).Should().BeEmpty("without etcd nobody leads");
            });
        });
    }

    [Fact]
    public async Task StopEtcdMember_LeaderTalksTo_FailsOverAndOneLeaderStillScales()
    {
        await using HaRig rig = await HaRig.StartAsync(s2ColdStart: TimeSpan.Zero);
        await rig.ReportingOutputsAsync(output, async () =>
        {
            (string leaderName, CliProcess leader) = rig.Leader;

            // Both replicas talk to the first member listed; stop it.
            await rig.Etcd.StopMemberAsync(0);
            await leader.WaitForAsync($"HaproxyAutoscale[{AutoscaleEventIds.ElectionEndpointFailed}]", "the leader to notice its etcd member is gone");

            // Then a load step: whoever leads now (the same leader through another member, or a new one) scales.
            await rig.UnderLoadAsync(async () =>
            {
                await Poll.UntilAsync(() => rig.StatusOfAsync("s2").GetAwaiter().GetResult() != "MAINT", TimeSpan.FromSeconds(20), "a leader to enable s2 with one etcd member down");
                await Poll.UntilAsync(() => rig.Replicas.SelectMany(r => HaRig.CommandsOf(r.Key, r.Value.Output)).Any(c => c.Command == "set server app/s2 state ready"), TimeSpan.FromSeconds(5), "the enable command in a replica's log");
                List<SentCommand> sent = [.. rig.Replicas.SelectMany(r => HaRig.CommandsOf(r.Key, r.Value.Output))];
                bool steppedDown = leader.Output.Contains($"HaproxyAutoscale[{AutoscaleEventIds.SteppedDown}]", StringComparison.Ordinal);
                output.WriteLine(steppedDown ? $"{leaderName} stepped down when its member stopped; s2 enabled by {sent.Last().Replica} (epoch {sent.Last().Epoch})" : $"{leaderName} failed over to another member and kept leading");
                if (!steppedDown)
                {
                    sent.Should().OnlyContain(c => c.Replica == leaderName, "the leader kept its lease through the failover");
                }

                rig.ShouldNeverHaveHadTwoLeaders();
            });
        });
    }
}

[CollectionDefinition(nameof(ActiveStandbyTests), DisableParallelization = true)]
public sealed class ActiveStandbyCollection;

using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using HaproxyAutoscale.Control;
using HaproxyAutoscale.Scaling;
using HaproxyAutoscale.Tests.Infrastructure;

namespace HaproxyAutoscale.Tests.HighAvailability;

/// <summary>
/// Two autoscaler replicas (CLI processes) in one etcd election, in front of one real HAProxy (logging to both over
/// UDP) with three demo apps: s1 always up, s2 and s3 parked until the leader enables them.
/// </summary>
internal sealed partial class HaRig : IAsyncDisposable
{
    public static readonly TimeSpan LeaseTtl = TimeSpan.FromSeconds(2);

    private readonly TempDirectory _dir = new();
    private readonly CancellationTokenSource _stop = new();

    private HaRig(EtcdCluster etcd, TimeSpan s2ColdStart)
    {
        Etcd = etcd;
        Apps = AppServers.Three(s2ColdStart);
    }

    public EtcdCluster Etcd { get; }

    public DemoAppServer[] Apps { get; }

    public Haproxy Haproxy { get; private set; } = null!;

    public IHaproxyControl Control { get; private set; } = null!;

    public Dictionary<string, CliProcess> Replicas { get; } = [];

    public int FrontendPort { get; } = Ports.FreeTcp();

    public static async Task<HaRig> StartAsync(TimeSpan s2ColdStart)
    {
        var rig = new HaRig(await EtcdCluster.StartAsync(), s2ColdStart);
        try
        {
            int[] logPorts = [Ports.FreeUdp(), Ports.FreeUdp()];
            rig.Haproxy = await Haproxy.StartAsync(
                HaproxyConfig.ForApps(rig._dir.File("admin.sock"), rig.FrontendPort, AppServers.Backend(rig.Apps), HaproxyLogTarget.Udp(logPorts[0]), HaproxyLogTarget.Udp(logPorts[1])), rig._dir);
            await rig.Haproxy.WaitForPortAsync(rig.FrontendPort);
            rig.Control = HaproxyControl.Create(rig._dir.File("admin.sock"));

            string election = "hpa-test-" + Guid.NewGuid().ToString("N")[..8];
            string[] names = ["a", "b"];
            for (int i = 0; i < names.Length; i++)
            {
                string config = rig._dir.File($"{names[i]}.json");
                await File.WriteAllTextAsync(config, rig.Config(names[i], logPorts[i], election));
                rig.Replicas[names[i]] = CliProcess.Start("run", "--config", config, "--verbose"); // every evaluation logged
            }

            await Poll.UntilAsync(() => rig.Replicas.Values.Count(r => r.Output.Contains($"HaproxyAutoscale[{AutoscaleEventIds.LeadershipGained}]", StringComparison.Ordinal)) == 1
                && rig.Replicas.Values.Count(r => r.Output.Contains($"HaproxyAutoscale[{AutoscaleEventIds.StandingBy}]", StringComparison.Ordinal)) >= 1,
                TimeSpan.FromSeconds(30), "one leader and one standby");
            return rig;
        }
        catch
        {
            await rig.DisposeAsync();
            throw;
        }
    }

    /// <summary>The replica that logged the leadership first (with its name).</summary>
    public (string Name, CliProcess Process) Leader
    {
        get
        {
            KeyValuePair<string, CliProcess> leader = Replicas.Single(r => r.Value.Output.Contains($"HaproxyAutoscale[{AutoscaleEventIds.LeadershipGained}]", StringComparison.Ordinal));
            return (leader.Key, leader.Value);
        }
    }

    public (string Name, CliProcess Process) Other(string name)
    {
        KeyValuePair<string, CliProcess> other = Replicas.Single(r => r.Key != name);
        return (other.Key, other.Value);
    }

    /// <summary>Runs <paramref name="body"/> while 8 clients load the frontend (30 s at most), then stops the load.</summary>
    public async Task UnderLoadAsync(Func<Task> body)
    {
        using var load = new CancellationTokenSource();
        Task loading = LoadAsync(clients: 8, TimeSpan.FromSeconds(30), load.Token);
        try
        {
            await body();
        }
        finally
        {
            await load.CancelAsync();
            await loading;
        }
    }

    /// <summary>Runs <paramref name="body"/>; if it fails, the replicas' outputs go to the test's output first.</summary>
    public async Task ReportingOutputsAsync(ITestOutputHelper output, Func<Task> body)
    {
        try
        {
            await body();
        }
        catch
        {
            output.WriteLine(Outputs);
            throw;
        }
    }

    /// <summary>Sends requests to <c>/page</c> from <paramref name="clients"/> loops until cancelled, the time limit, or the rig's end.</summary>
    public async Task LoadAsync(int clients, TimeSpan limit, CancellationToken cancellationToken)
    {
        using var either = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stop.Token);
        await new HttpLoad(new Uri($"http://127.0.0.1:{FrontendPort}/page")) { Clients = clients, Duration = limit }.RunAsync(either.Token);
    }

    public async Task<string> StatusOfAsync(string server) =>
        (await Control.ShowStatAsync()).Single(r => r.Backend == "app" && r.Server == server).Status;

    /// <summary>Sends a signal (STOP, CONT) to a process by its PID.</summary>
    public static async Task SignalAsync(int pid, string signal)
    {
        using Process kill = Process.Start(new ProcessStartInfo("kill") { ArgumentList = { $"-{signal}", pid.ToString(CultureInfo.InvariantCulture) }, UseShellExecute = false })!;
        await kill.WaitForExitAsync();
        kill.ExitCode.Should().Be(0, $"kill -{signal} {pid}");
    }

    /// <summary>Every command a replica sent to HAProxy (AutoscaleEventIds.LeaderCommand), with its time and leader epoch.</summary>
    public static List<SentCommand> CommandsOf(string replica, string output) =>
        [.. LogLine().Matches(output)
            .Where(m => m.Groups["id"].Value == AutoscaleEventIds.LeaderCommand.ToString(CultureInfo.InvariantCulture))
            .Select(m =>
            {
                Match sent = SentText().Match(m.Groups["message"].Value);
                sent.Success.Should().BeTrue($"an event 47 names its epoch: {m.Value}");
                return new SentCommand(replica, Time(m), long.Parse(sent.Groups["epoch"].Value, CultureInfo.InvariantCulture), sent.Groups["command"].Value.Trim());
            })];

    /// <summary>When a replica first logged event <paramref name="eventId"/> after <paramref name="after"/>, or null.</summary>
    public static DateTime? FirstEvent(string output, int eventId, DateTime after = default) =>
        LogLine().Matches(output).Where(m => m.Groups["id"].Value == eventId.ToString(CultureInfo.InvariantCulture)).Select(Time).Where(t => t >= after).Cast<DateTime?>().FirstOrDefault();

    /// <summary>Evaluations (<see cref="EvaluationEvents"/>) a replica logged after its last event <paramref name="eventId"/>.</summary>
    public static int EvaluationsAfter(string output, int eventId)
    {
        List<Match> lines = [.. LogLine().Matches(output).Cast<Match>()];
        int last = lines.FindLastIndex(m => m.Groups["id"].Value == eventId.ToString(CultureInfo.InvariantCulture));
        return last < 0 ? 0 : lines.Skip(last + 1).Count(m => EvaluationEvents.Ids.Contains(int.Parse(m.Groups["id"].Value, CultureInfo.InvariantCulture)));
    }

    /// <summary>
    /// No two leaders ever sent commands: each epoch belongs to one replica, and every command of an epoch went out
    /// before the first command of the next epoch.
    /// </summary>
    public void ShouldNeverHaveHadTwoLeaders()
    {
        List<SentCommand> all = [.. Replicas.SelectMany(r => CommandsOf(r.Key, r.Value.Output))];
        foreach (IGrouping<long, SentCommand> epoch in all.GroupBy(c => c.Epoch))
        {
            epoch.Select(c => c.Replica).Distinct().Should().ContainSingle($"epoch {epoch.Key} belongs to one replica");
        }

        List<(long Epoch, DateTime First, DateTime Last)> spans = [.. all.GroupBy(c => c.Epoch).OrderBy(g => g.Key).Select(g => (g.Key, g.Min(c => c.Time), g.Max(c => c.Time)))];
        for (int i = 1; i < spans.Count; i++)
        {
            spans[i].First.Should().BeOnOrAfter(spans[i - 1].Last, $"epoch {spans[i].Epoch}'s commands start after epoch {spans[i - 1].Epoch}'s last one");
        }
    }

    public string Outputs => string.Join("\n", Replicas.Select(r => $"--- replica {r.Key}:\n{r.Value.Output}"));

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        foreach (CliProcess replica in Replicas.Values)
        {
            // A stopped process cannot die of SIGKILL until it is continued: continue it first (harmless otherwise).
            if (!replica.HasExited)
            {
                await SignalAsync(replica.Pid, "CONT");
            }

            await replica.DisposeAsync();
        }

        if (Control is not null)
        {
            await Control.DisposeAsync();
        }

        if (Haproxy is not null)
        {
            await Haproxy.DisposeAsync();
        }

        foreach (DemoAppServer app in Apps)
        {
            await app.DisposeAsync();
        }

        await Etcd.DisposeAsync();
        _dir.Dispose();
        _stop.Dispose();
    }

    private string Config(string replica, int logPort, string election) => $$"""
        {
          "haproxy": { "endpoints": ["{{_dir.File("admin.sock")}}"], "timeout": "2s" },
          "logs": { "source": "udp@127.0.0.1:{{logPort}}" },
          "evaluationInterval": "200ms",
          "reconcileInterval": "500ms",
          "counterInterval": "500ms",
          "warmup": { "attempts": 2, "retryDelay": "100ms", "failureBackoff": "30s" },
          "ha": { "etcd": [{{string.Join(", ", Etcd.ClientUrls.Select(u => $"\"{u}\""))}}], "electionName": "{{election}}", "leaseTtl": "{{(int)LeaseTtl.TotalSeconds}}s", "replica": "{{replica}}" },
          "backends": {
            "app": {
              "window": { "kind": "count", "size": 10 },
              "policy": { "kind": "threshold", "thresholdMs": 150, "breaches": 2, "idleScaleDown": "10m" },
              "settleTime": "1s",
              "servers": {
                "s1": { "alwaysUp": true },
                "s2": { "warmupUrl": "http://127.0.0.1:{{Apps[1].Port}}/warmup" },
                "s3": { "warmupUrl": "http://127.0.0.1:{{Apps[2].Port}}/warmup" }
              }
            }
          }
        }
        """;

    private static DateTime Time(Match m) => DateTime.ParseExact(m.Groups["time"].Value, "yyyy-MM-ddTHH:mm:ss.fff", CultureInfo.InvariantCulture);

    // The CLI's text log line: "2026-11-27T12:00:00.123 info: HaproxyAutoscale[47] message".
    [GeneratedRegex(@"^(?<time>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}) \w+: HaproxyAutoscale\[(?<id>\d+)\] (?<message>.*)$", RegexOptions.Multiline)]
    private static partial Regex LogLine();

    [GeneratedRegex(@"leader epoch (?<epoch>\d+) sends: (?<command>.*)$")]
    private static partial Regex SentText();
}

/// <summary>One command a replica sent to HAProxy, from its log.</summary>
internal sealed record SentCommand(string Replica, DateTime Time, long Epoch, string Command);

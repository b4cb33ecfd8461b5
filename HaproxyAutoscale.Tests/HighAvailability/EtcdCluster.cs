using System.Diagnostics;
using System.Text;
using System.Text.Json;

namespace HaproxyAutoscale.Tests.HighAvailability;

/// <summary>
/// A real 3-member etcd cluster on loopback (etcd from the OS package, installed by .ci/install-etcd): unique ports,
/// a temp data folder per member, every member stopped by its PID on dispose.
/// </summary>
internal sealed class EtcdCluster : IAsyncDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly Process?[] _members;

    private EtcdCluster(int size)
    {
        ClientUrls = [.. Enumerable.Range(0, size).Select(_ => $"http://127.0.0.1:{Ports.FreeTcp()}")];
        PeerUrls = [.. Enumerable.Range(0, size).Select(_ => $"http://127.0.0.1:{Ports.FreeTcp()}")];
        _members = new Process?[size];
    }

    public string[] ClientUrls { get; }

    public string[] PeerUrls { get; }

    public static string ExecutablePath { get; } = File.Exists("/usr/bin/etcd") ? "/usr/bin/etcd" : "etcd";

    public static async Task<EtcdCluster> StartAsync(int size = 3)
    {
        var cluster = new EtcdCluster(size);
        try
        {
            string token = "hpa-" + Guid.NewGuid().ToString("N")[..8];
            string initial = string.Join(",", cluster.PeerUrls.Select((url, i) => $"m{i}={url}"));
            for (int i = 0; i < size; i++)
            {
                var start = new ProcessStartInfo(ExecutablePath)
                {
                    RedirectStandardOutput = true,
                    RedirectStandardError = true,
                    UseShellExecute = false,
                    ArgumentList =
                    {
                        "--name", $"m{i}", "--data-dir", cluster._dir.File($"m{i}"),
                        "--listen-client-urls", cluster.ClientUrls[i], "--advertise-client-urls", cluster.ClientUrls[i],
                        "--listen-peer-urls", cluster.PeerUrls[i], "--initial-advertise-peer-urls", cluster.PeerUrls[i],
                        "--initial-cluster", initial, "--initial-cluster-token", token, "--initial-cluster-state", "new",
                        "--logger", "zap", "--log-level", "error",
                    },
                };
                Process member = Process.Start(start) ?? throw new InvalidOperationException("etcd did not start");
                member.OutputDataReceived += (_, _) => { };
                member.ErrorDataReceived += (_, _) => { };
                member.BeginOutputReadLine();
                member.BeginErrorReadLine();
                cluster._members[i] = member;
            }

            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
            await Poll.UntilAsync(() => cluster.ClientUrls.All(url => IsHealthy(http, url)), TimeSpan.FromSeconds(30), "the etcd cluster to elect a leader");
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>Stops member <paramref name="index"/> (SIGKILL by PID): the other two keep a quorum.</summary>
    public async Task StopMemberAsync(int index)
    {
        if (_members[index] is { } member)
        {
            if (!member.HasExited)
            {
                member.Kill();
            }

            await member.WaitForExitAsync();
            member.Dispose();
            _members[index] = null;
        }
    }

    /// <summary>
    /// Stops every member but one follower of etcd's own (raft) leader. Stopping the raft leader matters: a leader cut
    /// off from its quorum keeps renewing leases until it notices (CheckQuorum, up to two election timeouts), so the
    /// lease clock would start late; a lone follower forwards nothing and renews nothing from the moment it is alone.
    /// </summary>
    public async Task LeaveOneFollowerAsync()
    {
        int raftLeader = await RaftLeaderIndexAsync();
        int survivor = Enumerable.Range(0, _members.Length).First(i => i != raftLeader && _members[i] is not null);
        for (int i = 0; i < _members.Length; i++)
        {
            if (i != survivor)
            {
                await StopMemberAsync(i);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        for (int i = 0; i < _members.Length; i++)
        {
            await StopMemberAsync(i);
        }

        _dir.Dispose();
    }

    private async Task<int> RaftLeaderIndexAsync()
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        for (int i = 0; i < _members.Length; i++)
        {
            if (_members[i] is null)
            {
                continue;
            }

            using HttpResponseMessage response = await http.PostAsync($"{ClientUrls[i]}/v3/maintenance/status", new StringContent("{}", Encoding.UTF8, "application/json"));
            using JsonDocument status = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            if (status.RootElement.GetProperty("header").GetProperty("member_id").GetString() == status.RootElement.GetProperty("leader").GetString())
            {
                return i;
            }
        }

        throw new InvalidOperationException("no etcd member says it is the raft leader");
    }

    private static bool IsHealthy(HttpClient http, string url)
    {
        try
        {
            return http.GetStringAsync($"{url}/health").GetAwaiter().GetResult().Contains("\"health\":\"true\"", StringComparison.Ordinal);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return false;
        }
    }
}

namespace HaproxyAutoscale.HighAvailability;

/// <summary>
/// Active/standby replicas (the <c>ha</c> section): every replica reads the logs and decides, only the one that holds
/// the election's lease acts on HAProxy. Without this section the autoscaler acts alone, as always.
/// </summary>
public sealed class HighAvailabilityOptions
{
    /// <summary>The etcd cluster's client URLs (<c>http://127.0.0.1:2379</c>), tried in order; another member takes over when one fails.</summary>
    public IList<string> Etcd { get; } = [];

    /// <summary>The election's name: replicas that share it elect one leader among them.</summary>
    /// <value>The default is <c>haproxy-autoscale</c>.</value>
    public string ElectionName { get; set; } = "haproxy-autoscale";

    /// <summary>
    /// The lease's time to live, in whole seconds: a leader that cannot renew its lease stops acting before this much
    /// time has passed since its last renewal, and a standby takes over at most this long after the leader died.
    /// </summary>
    /// <value>The default is 10 seconds. etcd's least is 2 seconds (with its default election timeout).</value>
    public TimeSpan LeaseTtl { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>This replica's name in the election (shown as the leader's name to the other replicas).</summary>
    /// <value>The default is <see langword="null"/>: the host name and process id.</value>
    public string? Replica { get; set; }

    /// <summary>The least lease TTL accepted (etcd's least with its default election timeout).</summary>
    internal static readonly TimeSpan MinLeaseTtl = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Every problem of this section as <c>ha.path: message</c>, by the rules <see cref="Configuration.AutoscaleOptionsValidator"/>
    /// applies to it; empty when it is valid. For a leader election created from the section alone, outside
    /// <see cref="Hosting.AutoscalerBuilder.Build"/> (which validates it with the rest): <c>HaproxyAutoscale.Etcd</c>'s
    /// <c>EtcdLeaderElection.Create</c> checks its argument with it, and another election implementation can do the same.
    /// </summary>
    public IReadOnlyList<string> Validate() => [.. Problems(this, "ha").Select(p => $"{p.Path}: {p.Message}")];

    /// <summary>The rules of the section, each problem with its path under <paramref name="path"/>.</summary>
    internal static IEnumerable<(string Path, string Message)> Problems(HighAvailabilityOptions options, string path)
    {
        if (options.Etcd.Count == 0)
        {
            yield return ($"{path}.etcd", "at least one etcd client URL is needed, e.g. [\"http://127.0.0.1:2379\"]");
        }

        for (int i = 0; i < options.Etcd.Count; i++)
        {
            if (!Uri.TryCreate(options.Etcd[i], UriKind.Absolute, out Uri? url) || (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps) || url.PathAndQuery != "/")
            {
                yield return ($"{path}.etcd[{i.ToString(System.Globalization.CultureInfo.InvariantCulture)}]", "expected an etcd client URL such as \"http://127.0.0.1:2379\"");
            }
        }

        if (string.IsNullOrWhiteSpace(options.ElectionName) || options.ElectionName.Contains('\n', StringComparison.Ordinal))
        {
            yield return ($"{path}.electionName", "expected a name (one line of text)");
        }

        if (options.LeaseTtl < MinLeaseTtl || options.LeaseTtl.Ticks % TimeSpan.TicksPerSecond != 0)
        {
            yield return ($"{path}.leaseTtl", "expected whole seconds, at least 2s (etcd's lease TTL)");
        }
    }
}

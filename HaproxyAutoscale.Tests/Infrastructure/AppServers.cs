namespace HaproxyAutoscale.Tests.Infrastructure;

/// <summary>Real loopback HTTP backends for tests: the demo's app server, warm or cold.</summary>
internal static class AppServers
{
    /// <summary>Always warm, a fixed delay, no slow-down under concurrency.</summary>
    public static DemoAppServer Plain(int status = 200, TimeSpan delay = default) =>
        new("plain") { Status = status, BaseDelay = delay, PerRequestDelay = TimeSpan.Zero, ColdStart = TimeSpan.Zero };

    /// <summary>
    /// The end-to-end rigs' apps: s1 always warm, s2 and s3 cold until their first request (1 s); each answers in
    /// 10 ms plus 40 ms per other request in flight, so that load makes the response time breach.
    /// </summary>
    public static DemoAppServer[] Three(TimeSpan? s2ColdStart = null) =>
    [
        App("s1", TimeSpan.Zero),
        App("s2", s2ColdStart ?? TimeSpan.FromSeconds(1)),
        App("s3", TimeSpan.FromSeconds(1)),
    ];

    /// <summary>Backend <c>app</c> with <paramref name="apps"/>: the first in service, the others disabled for the autoscaler.</summary>
    public static HaproxyBackend Backend(IEnumerable<DemoAppServer> apps, int? weight = 10) =>
        HaproxyBackend.FirstUp("app", apps.Select(a => (a.Name, a.Port)), weight);

    private static DemoAppServer App(string name, TimeSpan coldStart) =>
        new(name) { ColdStart = coldStart, BaseDelay = TimeSpan.FromMilliseconds(10), PerRequestDelay = TimeSpan.FromMilliseconds(40) };
}

using HaproxyAutoscale.Cli.Demo;

namespace HaproxyAutoscale.Tests.Infrastructure;

/// <summary>Real loopback HTTP backends for tests: the demo's app server, warm or cold.</summary>
internal static class AppServers
{
    /// <summary>Always warm, a fixed delay, no slow-down under concurrency.</summary>
    public static DemoAppServer Plain(int status = 200, TimeSpan delay = default) =>
        new("plain") { Status = status, BaseDelay = delay, PerRequestDelay = TimeSpan.Zero, ColdStart = TimeSpan.Zero };
}

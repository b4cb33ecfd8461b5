using System.Diagnostics;
using System.Net;
using HaproxyAutoscale.Control;
using HaproxyAutoscale.Tests.Infrastructure;

namespace HaproxyAutoscale.Tests.Cli;

/// <summary>
/// The Lua script <c>haproxy-autoscale lua</c> prints, loaded by a real HAProxy (HPA_HAPROXY; CI runs these against
/// 2.6 with Lua 5.3 and 3.0 with Lua 5.4): a request to a backend with no usable server is held, a wake line reaches
/// a real UDP log socket while it waits, <c>enable server</c> releases it to a real app, and past the deadline it
/// gets 503 with Retry-After (or the page).
/// </summary>
[Trait("Category", "Haproxy")]
public sealed class LuaHoldScriptTests
{
    // This machine can be very loaded: deadlines are generous, and nothing waits a fixed time.
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Lua_PrintedScript_PassesHaproxyCheck()
    {
        using var dir = new TempDirectory();
        var (exitCode, script, _) = await CliRunner.RunAsync("lua");
        exitCode.Should().Be(0);
        script.Should().StartWith("-- haproxy-autoscale:").And.Contain("core.register_action(\"autoscale-hold\"");
        await File.WriteAllTextAsync(dir.File("haproxy-autoscale.lua"), script);
        await File.WriteAllTextAsync(dir.File("haproxy.cfg"), Config(dir, Ports.FreeTcp(), Ports.FreeUdp(), Ports.FreeTcp()) + "\n");

        var (checkExit, output) = await ChildProcess.RunAsync(HaproxyBinary.Path, ["-c", "-f", dir.File("haproxy.cfg")]);
        checkExit.Should().Be(0, output);
    }

    [Fact]
    public async Task HeldRequest_WakeLineAtOnce_EnableServerReleasesItTo200()
    {
        using var dir = new TempDirectory();
        await using var app = AppServers.Plain();
        await using var logs = LogCollector.Udp();
        int port = Ports.FreeTcp();
        await using var haproxy = await StartAsync(dir, port, logs.Port, app.Port);
        using var http = new HttpClient { Timeout = Patience };

        var clock = Stopwatch.StartNew();
        Task<HttpResponseMessage> held = http.GetAsync(new Uri($"http://127.0.0.1:{port}/hold"));
        await Poll.UntilAsync(() => logs.Lines.Any(l => l.Contains("haproxy-autoscale wake backend=hold held=1", StringComparison.Ordinal)) || held.IsCompleted, Patience, "the wake line");
        held.IsCompleted.Should().BeFalse("the request must still be held when its wake line arrives: " + string.Join('\n', logs.Lines));
        TimeSpan wakeAfter = clock.Elapsed;

        await using (IHaproxyControl control = HaproxyControl.Create("unix@" + dir.File("admin.sock"), new HaproxyControlOptions { Timeout = TimeSpan.FromSeconds(10) }))
        {
            await control.ExecuteAsync("enable server hold/s1");
        }

        using HttpResponseMessage response = await held;
        response.StatusCode.Should().Be(HttpStatusCode.OK);
        app.Served.Should().NotBeEmpty("the app itself answered");
        clock.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(30), $"released by enable server, not by the 30 s deadline (wake line after {wakeAfter.TotalMilliseconds:0} ms)");
    }

    [Theory]
    [InlineData("/deadline", "text/plain", "no server of this backend became ready within 1 s")]
    [InlineData("/page", "text/html", "<meta http-equiv=\"refresh\" content=\"5\">")]
    public async Task HeldPastDeadline_503WithRetryAfter(string path, string contentType, string body)
    {
        using var dir = new TempDirectory();
        await using var logs = LogCollector.Udp();
        int port = Ports.FreeTcp();
        await using var haproxy = await StartAsync(dir, port, logs.Port, Ports.FreeTcp());
        using var http = new HttpClient { Timeout = Patience };

        var clock = Stopwatch.StartNew();
        using HttpResponseMessage response = await http.GetAsync(new Uri($"http://127.0.0.1:{port}{path}"));
        clock.Elapsed.Should().BeGreaterThanOrEqualTo(TimeSpan.FromSeconds(0.95), "held until the 1 s deadline");
        response.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
        response.Headers.RetryAfter!.Delta.Should().Be(TimeSpan.FromSeconds(5));
        response.Content.Headers.ContentType!.MediaType.Should().Be(contentType);
        (await response.Content.ReadAsStringAsync()).Should().Contain(body);
        logs.Lines.Should().Contain(l => l.Contains($"haproxy-autoscale wake backend={path.TrimStart('/')} held=1", StringComparison.Ordinal));
    }

    private static async Task<Haproxy> StartAsync(TempDirectory dir, int port, int logPort, int appPort)
    {
        var (_, script, _) = await CliRunner.RunAsync("lua");
        await File.WriteAllTextAsync(dir.File("haproxy-autoscale.lua"), script);
        Haproxy haproxy = await Haproxy.StartAsync(Config(dir, port, logPort, appPort), dir, dir.File("admin.sock"));
        await haproxy.WaitForPortAsync(port);
        return haproxy;
    }

    // Every backend's only server starts in maintenance: no usable server, so the hold applies.
    private static string Config(TempDirectory dir, int port, int logPort, int appPort) => $$"""
        global
            lua-load {{dir.File("haproxy-autoscale.lua")}}
            stats socket {{dir.File("admin.sock")}} mode 600 level admin
        defaults
            mode http
            log 127.0.0.1:{{logPort}} local0
            option httplog
            timeout connect 5s
            timeout client 90s
            timeout server 90s
        frontend fe
            bind 127.0.0.1:{{port}}
            use_backend %[path,field(2,/)]
        backend hold
            http-request lua.autoscale-hold if { nbsrv eq 0 }
            server s1 127.0.0.1:{{appPort}} disabled
        backend deadline
            http-request lua.autoscale-hold-with 1 503
            server s1 127.0.0.1:{{appPort}} disabled
        backend page
            http-request lua.autoscale-hold-with 1 page if { nbsrv eq 0 }
            server s1 127.0.0.1:{{appPort}} disabled
        """;
}

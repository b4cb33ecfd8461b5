using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using HaproxyAutoscale.Cli.Admin;
using HaproxyAutoscale.Configuration;
using HaproxyAutoscale.Control;
using HaproxyAutoscale.Hosting;
using HaproxyAutoscale.Scaling;
using Microsoft.Extensions.Logging.Abstractions;

namespace HaproxyAutoscale.Tests.Cli;

/// <summary>The admin endpoint through real HTTP, on loopback TCP and on a UNIX socket, over an autoscaler driving a real HAProxy.</summary>
[Trait("Category", "Haproxy")]
public sealed class AdminEndpointTests
{
    [Fact]
    public async Task Status_OverTcpLoopback_ReportsWindowServersRolesAndLastDecision()
    {
        await using var rig = await AdminRig.StartAsync(idleScaleDown: "1h");
        rig.Run();

        JsonElement app = default;
        await Poll.UntilAsync(
            () => (app = rig.StatusAsync(rig.Tcp).GetAwaiter().GetResult().GetProperty("backends")[0]).GetProperty("lastDecision").ValueKind == JsonValueKind.Object,
            TimeSpan.FromSeconds(10), "a first decision");

        app.GetProperty("backend").GetString().Should().Be("app");
        app.GetProperty("window").GetProperty("samples").GetInt32().Should().Be(0);
        app.GetProperty("window").GetProperty("valueMs").ValueKind.Should().Be(JsonValueKind.Null);
        app.GetProperty("coverage").ValueKind.Should().Be(JsonValueKind.Null, "coverage is not measured yet");
        app.GetProperty("blind").GetBoolean().Should().BeFalse();
        app.GetProperty("paused").GetBoolean().Should().BeFalse();
        JsonElement open = default;
        await Poll.UntilAsync(() => (open = rig.StatusAsync(rig.Tcp).GetAwaiter().GetResult().GetProperty("backends")[0].GetProperty("openSessions")).ValueKind == JsonValueKind.Number,
            TimeSpan.FromSeconds(10), "HAProxy's sessions read");
        open.GetInt32().Should().Be(0, "no request is open");
        app.GetProperty("servers").EnumerateArray().Select(s => (s.GetProperty("server").GetString(), s.GetProperty("role").GetString()))
            .Should().Equal(("s1", "active"), ("s2", "active"));
        JsonElement decision = app.GetProperty("lastDecision");
        decision.GetProperty("action").GetString().Should().Be("hold");
        decision.GetProperty("reason").GetString().Should().NotBeNullOrEmpty();
        decision.GetProperty("heldBy").ValueKind.Should().Be(JsonValueKind.Null);
        DateTimeOffset.Parse(decision.GetProperty("time").GetString()!, System.Globalization.CultureInfo.InvariantCulture)
            .Should().BeCloseTo(DateTimeOffset.UtcNow, TimeSpan.FromSeconds(10));
    }

    [Fact]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public async Task Status_OverUnixSocket_SameAnswerAndTheSocketIsMode0660()
    {
        await using var rig = await AdminRig.StartAsync(idleScaleDown: "1h");

        File.GetUnixFileMode(rig.SocketPath).Should().Be(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite);
        JsonElement status = await rig.StatusAsync(rig.Unix);
        status.GetProperty("backends").EnumerateArray().Select(b => b.GetProperty("backend").GetString()).Should().Equal("app");
        status.GetProperty("backends")[0].GetProperty("servers").GetArrayLength().Should().Be(2);
    }

    [Fact]
    public async Task PauseThenResume_OverUnixSocket_DecisionsHeldByPausedUntilResumedThenActedOn()
    {
        // s2 is up and nothing is logged: after 1 s of idleness the policy wants it drained.
        await using var rig = await AdminRig.StartAsync(idleScaleDown: "1s");
        (int code, JsonElement body) = await rig.SendAsync(rig.Unix, HttpMethod.Post, "/backends/app/pause");
        code.Should().Be(200, body.GetRawText());
        body.GetProperty("message").GetString().Should().Be("app: paused until resumed: decisions are logged, no action is taken");
        body.GetProperty("paused").GetBoolean().Should().BeTrue();
        body.GetProperty("pausedUntil").ValueKind.Should().Be(JsonValueKind.Null);
        rig.Run();

        JsonElement app = default;
        await Poll.UntilAsync(
            () => (app = rig.StatusAsync(rig.Unix).GetAwaiter().GetResult().GetProperty("backends")[0])
                .GetProperty("lastDecision") is { ValueKind: JsonValueKind.Object } d && d.GetProperty("heldBy").GetString() == "paused",
            TimeSpan.FromSeconds(15), "a decision held back by the pause");
        app.GetProperty("paused").GetBoolean().Should().BeTrue();
        app.GetProperty("lastDecision").GetProperty("reason").GetString().Should().Contain("paused");
        app.GetProperty("lastDecision").GetProperty("action").GetString().Should().Be("hold");
        (await rig.HaproxyStatusAsync("s2")).Should().Be("no check", "a paused backend acts on nothing: s2 stays ready, not drained");

        (code, body) = await rig.SendAsync(rig.Unix, HttpMethod.Post, "/backends/app/resume");
        code.Should().Be(200);
        body.GetProperty("message").GetString().Should().Be("app: resumed");
        await Poll.UntilAsync(() => rig.HaproxyStatusAsync("s2").GetAwaiter().GetResult() == "MAINT", TimeSpan.FromSeconds(15), "s2 drained after resume");
        (await rig.StatusAsync(rig.Unix)).GetProperty("backends")[0].GetProperty("paused").GetBoolean().Should().BeFalse();
    }

    [Theory]
    [InlineData("30m", 1800)]
    [InlineData("00:05:00", 300)]
    [InlineData("45s", 45)]
    public async Task PauseFor_ConfigDuration_PausedUntilNowPlusDuration(string duration, int seconds)
    {
        await using var rig = await AdminRig.StartAsync(idleScaleDown: "1h");
        (int code, JsonElement body) = await rig.SendAsync(rig.Tcp, HttpMethod.Post, $"/backends/app/pause?for={Uri.EscapeDataString(duration)}");

        code.Should().Be(200, body.GetRawText());
        DateTimeOffset until = DateTimeOffset.Parse(body.GetProperty("pausedUntil").GetString()!, System.Globalization.CultureInfo.InvariantCulture);
        until.Should().BeCloseTo(DateTimeOffset.UtcNow.AddSeconds(seconds), TimeSpan.FromSeconds(10));
        body.GetProperty("message").GetString().Should().StartWith("app: paused for ");
        rig.Autoscaler.Snapshot().Single().PausedUntil.Should().BeCloseTo(until, TimeSpan.FromMilliseconds(1));
    }

    [Fact]
    public async Task UnknownBackend_InAFleet_TheAnswerNamesTheFirst20()
    {
        await using var rig = await AdminRig.StartAsync(idleScaleDown: "1h", otherBackends: 25);
        (int code, JsonElement body) = await rig.SendAsync(rig.Tcp, HttpMethod.Post, "/backends/nope/pause");

        code.Should().Be(404);
        body.GetProperty("message").GetString().Should().Be(
            $"no backend 'nope' is autoscaled (configured: app, {string.Join(", ", Enumerable.Range(0, 19).Select(i => $"other{i:D2}"))}, … and 6 more)");
        rig.Autoscaler.Snapshot("nope").Should().BeNull();
        rig.Autoscaler.Snapshot("other24")!.Backend.Should().Be("other24");
    }

    [Fact]
    public async Task OneBackendAndSenders_AnswerWhatStatusHolds_WithoutTheFleet()
    {
        // Not running: nothing changes between the requests, so the answers can be compared whole.
        await using var rig = await AdminRig.StartAsync(idleScaleDown: "1h", otherBackends: 2);
        JsonElement status = await rig.StatusAsync(rig.Tcp);

        (int code, JsonElement other) = await rig.SendAsync(rig.Unix, HttpMethod.Get, "/backends/other01");
        code.Should().Be(200, other.GetRawText());
        JsonElement.DeepEquals(other, status.GetProperty("backends")[2]).Should().BeTrue(other.GetRawText());
        (code, JsonElement senders) = await rig.SendAsync(rig.Tcp, HttpMethod.Get, "/senders");
        code.Should().Be(200);
        senders.GetProperty("logSenders").GetArrayLength().Should().Be(0, "a udp@ source has no senders to list");
        (code, JsonElement unknown) = await rig.SendAsync(rig.Tcp, HttpMethod.Get, "/backends/nope");
        code.Should().Be(404);
        unknown.GetProperty("message").GetString().Should().Be("no backend 'nope' is autoscaled (configured: app, other00, other01)");
    }

    [Theory]
    [InlineData("POST", "/backends/app", 405, "use GET")]
    [InlineData("POST", "/senders", 405, "use GET")]
    [InlineData("POST", "/backends/nope/pause", 404, "no backend 'nope' is autoscaled (configured: app)")]
    [InlineData("POST", "/backends/nope/resume", 404, "no backend 'nope'")]
    [InlineData("POST", "/backends/app/pause?for=soon", 400, "for: 'soon' is not a positive duration")]
    [InlineData("POST", "/backends/app/pause?for=0s", 400, "not a positive duration")]
    [InlineData("POST", "/backends/app/pause?duration=5m", 400, "unknown parameter 'duration'")]
    [InlineData("GET", "/backends/app/pause", 405, "use POST")]
    [InlineData("DELETE", "/backends/app/resume", 405, "use POST")]
    [InlineData("POST", "/status", 405, "use GET")]
    [InlineData("GET", "/metrics", 404, "no such endpoint: /metrics")]
    public async Task Request_WrongBackendDurationMethodOrPath_AnswersStatusWithOneLineMessage(string method, string path, int status, string message)
    {
        await using var rig = await AdminRig.StartAsync(idleScaleDown: "1h");
        (int code, JsonElement body) = await rig.SendAsync(rig.Tcp, new HttpMethod(method), path);

        code.Should().Be(status);
        body.GetProperty("message").GetString().Should().Contain(message).And.NotContain("\n");
        rig.Autoscaler.Snapshot().Single().PausedUntil.Should().BeNull("a refused request changes nothing");
    }

    [Theory]
    [InlineData("Origin: http://example.com\r\n")]
    [InlineData("Host: attacker.example:9465\r\n")]
    public async Task Request_FromABrowserOrReboundHostName_Is403AndPausesNothing(string header)
    {
        await using var rig = await AdminRig.StartAsync(idleScaleDown: "1h");
        string request = "POST /backends/app/pause HTTP/1.1\r\n" + (header.StartsWith("Host", StringComparison.Ordinal) ? "" : "Host: 127.0.0.1\r\n") + header + "Content-Length: 0\r\n\r\n";

        string answer = await rig.RawAsync(rig.Tcp, Encoding.ASCII.GetBytes(request));
        answer.Should().StartWith("HTTP/1.1 403 ");
        rig.Autoscaler.Snapshot().Single().PausedUntil.Should().BeNull();
    }

    [Fact]
    public async Task BadRequests_OversizedGarbageBodiesAndSilentClients_AnsweredOrClosedThenStillServing()
    {
        await using var rig = await AdminRig.StartAsync(idleScaleDown: "1h", deadline: TimeSpan.FromMilliseconds(500));

        (await rig.RawAsync(rig.Tcp, Encoding.ASCII.GetBytes("GET /status HTTP/1.1\r\nX-Long: " + new string('a', 9000))))
            .Should().StartWith("HTTP/1.1 431 ", "headers are bounded at 8 KiB");
        (await rig.RawAsync(rig.Unix, "HELLO\r\n\r\n"u8.ToArray())).Should().StartWith("HTTP/1.1 400 ");
        (await rig.RawAsync(rig.Tcp, "GET /status HTTP/1.1\r\nno colon here\r\n\r\n"u8.ToArray())).Should().StartWith("HTTP/1.1 400 ");
        (await rig.RawAsync(rig.Tcp, "POST /backends/app/pause HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello"u8.ToArray())).Should().StartWith("HTTP/1.1 413 ");
        rig.Autoscaler.Snapshot().Single().PausedUntil.Should().BeNull();

        // More silent clients than the server serves at once: each is closed at its deadline, and then it serves again.
        List<Socket> silent = [];
        try
        {
            for (int i = 0; i < AdminHttpServer.MaxConnections + 4; i++)
            {
                Socket socket = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                silent.Add(socket);
                await socket.ConnectAsync(rig.Tcp.EndPoint);
            }

            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            int read = await silent[0].ReceiveAsync(new byte[16], SocketFlags.None, deadline.Token);
            read.Should().Be(0, "the server closes a connection that sends nothing within its deadline");
            (await rig.StatusAsync(rig.Tcp)).GetProperty("backends").GetArrayLength().Should().Be(1);
        }
        finally
        {
            silent.ForEach(s => s.Dispose());
        }
    }

    [Theory]
    [InlineData("0.0.0.0:9465", "is not a loopback address")]
    [InlineData("192.0.2.10:9465", "is not a loopback address")]
    [InlineData("[::]:9465", "is not a loopback address")]
    [InlineData("localhost:9465", "is not a loopback HOST:PORT with a numeric address")]
    [InlineData("127.0.0.1:0", "is not a loopback HOST:PORT")]
    [InlineData("unix:admin.sock", "needs an absolute path")]
    public void TryParse_NonLoopbackOrMalformedAddress_RefusedWithOneLine(string text, string error)
    {
        AdminAddress.TryParse(text, out AdminAddress? address, out string? message).Should().BeFalse();
        address.Should().BeNull();
        message.Should().StartWith($"--admin: '{text}' ").And.Contain(error).And.NotContain("\n");
    }

    [Fact]
    public async Task Start_StaleSocketFileIsReplaced_ButASocketInUseIsNot()
    {
        using var dir = new TempDirectory();
        string path = dir.File("ctl.sock");
        AdminAddress.TryParse("unix:" + path, out AdminAddress? address, out _).Should().BeTrue();
        using (var stale = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
        {
            stale.Bind(new UnixDomainSocketEndPoint(path)); // the file stays after the socket closes, as after a SIGKILL
        }

        await using AdminHttpServer server = AdminHttpServer.Start(address!, (_, _) => Task.FromResult(new AdminResponse(200, "{}")), TimeSpan.FromSeconds(1));
        FluentActions.Invoking(() => AdminHttpServer.Start(address!, (_, _) => Task.FromResult(new AdminResponse(200, "{}")), TimeSpan.FromSeconds(1)))
            .Should().Throw<IOException>().WithMessage($"{path} is in use by another process");
    }

    /// <summary>A real HAProxy (s1 and s2 up), an autoscaler on it (not running until <see cref="Run"/>) and its admin endpoint on TCP and UNIX.</summary>
    private sealed class AdminRig : IAsyncDisposable
    {
        private readonly TempDirectory _dir = new();
        private readonly CancellationTokenSource _stop = new();
        private readonly List<AdminEndpoint> _endpoints = [];
        private Haproxy? _haproxy;
        private IHaproxyControl? _control;
        private Task _running = Task.CompletedTask;

        public Autoscaler Autoscaler { get; private set; } = null!;

        public AdminAddress Tcp { get; private set; } = null!;

        public AdminAddress Unix { get; private set; } = null!;

        public string SocketPath => _dir.File("ctl.sock");

        public static async Task<AdminRig> StartAsync(string idleScaleDown, TimeSpan? deadline = null, int otherBackends = 0)
        {
            var rig = new AdminRig();
            string[] others = [.. Enumerable.Range(0, otherBackends).Select(i => $"other{i:D2}")];
            rig._haproxy = await Haproxy.StartWithAdminSocketAsync("""
                backend app
                    server s1 127.0.0.1:1
                    server s2 127.0.0.1:2
                """ + string.Concat(others.Select(name => $"\nbackend {name}\n    server s1 127.0.0.1:1\n")), rig._dir);
            rig._control = HaproxyControl.Create(rig._dir.File("admin.sock"));
            var options = new AutoscaleOptions { Logs = { Source = "udp@127.0.0.1:0" }, EvaluationInterval = TimeSpan.FromMilliseconds(100), ReconcileInterval = TimeSpan.FromMilliseconds(500) };
            options.Haproxy.Endpoints.Add(rig._dir.File("admin.sock"));
            var backend = new BackendOptions { Name = "app", Policy = { Kind = "threshold" }, SettleTime = TimeSpan.Zero };
            backend.Policy.Settings["idleScaleDown"] = idleScaleDown;
            backend.ScaleDown.DrainTimeout = TimeSpan.FromSeconds(1);
            backend.Servers.Add(new ServerOptions { Name = "s1", AlwaysUp = true });
            backend.Servers.Add(new ServerOptions { Name = "s2" });
            options.Backends.Add(backend);
            foreach (string name in others)
            {
                options.Backends.Add(new BackendOptions { Name = name, Servers = { new ServerOptions { Name = "s1", AlwaysUp = true } } });
            }

            rig.Autoscaler = new AutoscalerBuilder(options).UseLoggerFactory(NullLoggerFactory.Instance).Build();
            AdminAddress.TryParse($"127.0.0.1:{Ports.FreeTcp()}", out AdminAddress? tcp, out _).Should().BeTrue();
            AdminAddress.TryParse("unix:" + rig.SocketPath, out AdminAddress? unix, out _).Should().BeTrue();
            rig.Tcp = tcp!;
            rig.Unix = unix!;
            rig._endpoints.Add(AdminEndpoint.Start(rig.Tcp, rig.Autoscaler, deadline));
            rig._endpoints.Add(AdminEndpoint.Start(rig.Unix, rig.Autoscaler, deadline));
            return rig;
        }

        public void Run() => _running = Autoscaler.RunAsync(_stop.Token);

        public async Task<(int Status, JsonElement Body)> SendAsync(AdminAddress address, HttpMethod method, string path)
        {
            using var handler = new SocketsHttpHandler
            {
                ConnectCallback = async (_, token) =>
                {
                    Socket socket = address.CreateSocket();
                    await socket.ConnectAsync(address.EndPoint, token);
                    return new NetworkStream(socket, ownsSocket: true);
                },
            };
            using var http = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(10) };
            using var request = new HttpRequestMessage(method, (address.IsUnix ? "http://localhost" : $"http://{address.Text}") + path);
            using HttpResponseMessage response = await http.SendAsync(request);
            response.Content.Headers.ContentType!.MediaType.Should().Be("application/json");
            using JsonDocument body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            return ((int)response.StatusCode, body.RootElement.Clone());
        }

        public async Task<JsonElement> StatusAsync(AdminAddress address)
        {
            (int status, JsonElement body) = await SendAsync(address, HttpMethod.Get, "/status");
            status.Should().Be(200);
            return body;
        }

        /// <summary>Sends raw bytes and returns all the server answers before it closes (bounded by a 10 s deadline).</summary>
        public async Task<string> RawAsync(AdminAddress address, byte[] request)
        {
            using Socket socket = address.CreateSocket();
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await socket.ConnectAsync(address.EndPoint, deadline.Token);
            await socket.SendAsync(request, SocketFlags.None, deadline.Token);
            var answer = new MemoryStream();
            byte[] buffer = new byte[4096];
            int read;
            while ((read = await socket.ReceiveAsync(buffer, SocketFlags.None, deadline.Token)) > 0)
            {
                answer.Write(buffer, 0, read);
            }

            return Encoding.UTF8.GetString(answer.ToArray());
        }

        public async Task<string> HaproxyStatusAsync(string server) =>
            (await _control!.ShowStatAsync()).Single(r => r.Backend == "app" && r.Server == server).Status;

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            await _running;
            foreach (AdminEndpoint endpoint in _endpoints)
            {
                await endpoint.DisposeAsync();
            }

            File.Exists(SocketPath).Should().BeFalse("the endpoint removes its socket file when it stops");
            await Autoscaler.DisposeAsync();
            if (_control is not null)
            {
                await _control.DisposeAsync();
            }

            if (_haproxy is not null)
            {
                await _haproxy.DisposeAsync();
            }

            _dir.Dispose();
            _stop.Dispose();
        }
    }
}

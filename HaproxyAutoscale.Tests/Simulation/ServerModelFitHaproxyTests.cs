using System.Net;
using System.Net.Sockets;
using System.Text;
using HaproxyAutoscale.Simulation;
using HaproxyAutoscale.Tests.Infrastructure;

namespace HaproxyAutoscale.Tests.Simulation;

/// <summary>
/// The fit on a log written by a real HAProxy 2.6: requests alone, then queued behind <c>maxconn</c>, a tcplog backend
/// and the frontend's <c>&lt;BADREQ&gt;</c> line of the readiness probe (left out with a note).
/// </summary>
[Trait("Category", "Haproxy")]
public sealed class ServerModelFitHaproxyTests
{
    [Fact]
    public async Task Fit_LogOfARealHaproxy_ServiceTimeMaxConnAndTcplogError()
    {
        using var dir = new TempDirectory();
        await using var app = AppServers.Plain(delay: TimeSpan.FromMilliseconds(20));
        await using var log = LogCollector.Udp();
        int httpPort = Ports.FreeTcp(), tcpPort = Ports.FreeTcp();
        await using var haproxy = await Haproxy.StartAsync($$"""
            global
                log 127.0.0.1:{{log.Port}} local0
            defaults
                mode http
                log global
                timeout connect 1s
                timeout client 5s
                timeout server 5s
                timeout queue 5s
            frontend fe_http
                bind 127.0.0.1:{{httpPort}}
                option httplog
                default_backend be_app
            frontend fe_tcp
                mode tcp
                bind 127.0.0.1:{{tcpPort}}
                option tcplog
                default_backend be_tcp
            backend be_app
                server web1 127.0.0.1:{{app.Port}} maxconn 4
            backend be_tcp
                mode tcp
                server t1 127.0.0.1:{{app.Port}}
            """, dir);
        await haproxy.WaitForPortAsync(httpPort);
        await haproxy.WaitForPortAsync(tcpPort);

        using var http = new HttpClient();
        const int Alone = 120, Crowded = 96;
        for (int i = 0; i < Alone; i++)
        {
            (await http.GetAsync(new Uri($"http://127.0.0.1:{httpPort}/alone"), TestContext.Current.CancellationToken)).StatusCode.Should().Be(HttpStatusCode.OK);
        }

        await Task.WhenAll(Enumerable.Range(0, Crowded).Select(async _ =>
            (await http.GetAsync(new Uri($"http://127.0.0.1:{httpPort}/crowd"), TestContext.Current.CancellationToken)).StatusCode.Should().Be(HttpStatusCode.OK)));
        using (var client = new TcpClient())
        {
            await client.ConnectAsync(IPAddress.Loopback, tcpPort, TestContext.Current.CancellationToken);
            NetworkStream stream = client.GetStream();
            await stream.WriteAsync("GET /tcp HTTP/1.0\r\nHost: x\r\n\r\n"u8.ToArray(), TestContext.Current.CancellationToken);
            await new StreamReader(stream).ReadToEndAsync(TestContext.Current.CancellationToken);
        }

        await log.WaitForAsync(lines => Count(lines, "be_app/web1") >= Alone + Crowded && Count(lines, "be_tcp/t1") >= 1, "every request logged");
        var fitter = new ServerModelFitter(coldStartMs: 100);
        foreach (string line in log.Lines.ToArray())
        {
            fitter.AddLine(Encoding.UTF8.GetBytes(line));
        }

        ServerModelFitResult result = fitter.Fit();

        string all = string.Join("\n", log.Lines);
        result.Errors.Should().ContainSingle(all).Which.Should().Contain("backend 'be_tcp'").And.Contain("option httplog");
        BackendModel model = result.Model.Backends.Should().ContainSingle().Which;
        model.Backend.Should().Be("be_app");
        model.FittedRequests.Should().Be(Alone + Crowded);
        model.ServiceTimeQuantilesMs[50].Should().BeInRange(19, 40, all);
        model.MaxConn.Should().Be(4, "the crowd queued behind maxconn 4: " + all);
        // The app sleeps 20 ms, but on a busy 2-core test machine the crowd's Tr may grow a little: k is 4 or somewhat less.
        model.Workers.Should().BeInRange(2, 4, all);
        model.ColdStartMs.Should().Be(100);
        result.Notes.Should().Contain(n => n.StartsWith("backend 'fe_http': left out", StringComparison.Ordinal));
    }

    private static int Count(IEnumerable<string> lines, string pair) => lines.ToArray().Count(l => l.Contains(pair, StringComparison.Ordinal));
}

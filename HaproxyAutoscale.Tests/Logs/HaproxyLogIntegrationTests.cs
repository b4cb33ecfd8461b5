using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using HaproxyAutoscale.Logs;
using HaproxyAutoscale.Tests.Infrastructure;

namespace HaproxyAutoscale.Tests.Logs;

/// <summary>
/// A real HAProxy 2.6 logs real requests to our real sources: UDP in the default RFC3164 format, RFC5424 and raw
/// formats, and a UNIX datagram socket. Every target must yield the same records, field by field.
/// </summary>
[Trait("Category", "Haproxy")]
public sealed class HaproxyLogIntegrationTests
{
    [Fact]
    public async Task HaproxyLogs_AllTargetsAndFormats_ParseFieldByField()
    {
        using var dir = new TempDirectory();
        await using var app = AppServers.Plain();
        int deadPort;
        await using (var doomed = AppServers.Plain())
        {
            deadPort = doomed.Port; // Killed before any request: connection refused.
        }

        await using var rfc3164 = LogCollector.Udp();
        await using var rfc5424 = LogCollector.Udp();
        await using var raw = LogCollector.Udp();
        await using var unix = new LogCollector(LogSources.Create("unix@" + dir.File("log.sock"), new System.IO.Abstractions.FileSystem(), TimeProvider.System));
        int httpPort = Ports.FreeTcp(), tcpPort = Ports.FreeTcp(), httpsPort = Ports.FreeTcp();
        await CreateCertificateAsync(dir.File("site.pem"));

        await using var haproxy = await Haproxy.StartAsync($$"""
            global
                log 127.0.0.1:{{rfc3164.Port}} local0
                log 127.0.0.1:{{rfc5424.Port}} format rfc5424 local0
                log 127.0.0.1:{{raw.Port}} format raw local0
                log {dir}/log.sock local0
            defaults
                mode http
                log global
                retries 0
                timeout connect 1s
                timeout client 5s
                timeout server 5s
            frontend fe_http
                bind 127.0.0.1:{{httpPort}}
                option httplog
                capture request header User-Agent len 64
                use_backend be_nosrv if { path_beg /nosrv }
                use_backend be_dead if { path_beg /dead }
                default_backend be_app
            frontend fe_https
                bind 127.0.0.1:{{httpsPort}} ssl crt {dir}/site.pem
                option httpslog
                default_backend be_app
            frontend fe_tcp
                mode tcp
                bind 127.0.0.1:{{tcpPort}}
                option tcplog
                default_backend be_tcp
            backend be_app
                server web1 127.0.0.1:{{app.Port}}
            backend be_nosrv
                server s1 127.0.0.1:{{app.Port}} disabled
            backend be_dead
                server gone 127.0.0.1:{{deadPort}}
            backend be_tcp
                mode tcp
                server t1 127.0.0.1:{{app.Port}}
            """, dir);
        await haproxy.WaitForPortAsync(httpPort);

        using var http = new HttpClient(new SocketsHttpHandler
        {
            SslOptions = { RemoteCertificateValidationCallback = (_, _, _, _) => true },
        });
        http.DefaultRequestHeaders.UserAgent.ParseAdd("Mozilla/5.0 (X11; Linux) spaced|agent");
        var before = DateTime.Now;
        (await http.GetAsync($"http://127.0.0.1:{httpPort}/index.html?q=1")).StatusCode.Should().Be(HttpStatusCode.OK);
        (await http.GetAsync($"http://127.0.0.1:{httpPort}/nosrv")).StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
        (await http.GetAsync($"http://127.0.0.1:{httpPort}/dead")).StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
        (await http.GetAsync($"https://127.0.0.1:{httpsPort}/secure")).StatusCode.Should().Be(HttpStatusCode.OK);
        await SendRawTcpRequestAsync(tcpPort);

        foreach (LogCollector collector in new[] { rfc3164, rfc5424, raw, unix })
        {
            await collector.WaitForAsync(lines => ParseAll(lines).Count >= 6, $"6 request lines from {collector.Source.Address}");
            List<RequestRecord> all = ParseAll(collector.Lines);

            // The readiness probe connected and closed without a request: HAProxy logs that as a <BADREQ> 400.
            RequestRecord badRequest = all.First(r => r.Backend == "fe_http");
            badRequest.HasNoServer.Should().BeTrue();
            badRequest.StatusCode.Should().Be(400);
            badRequest.TotalTime.Should().BeGreaterThanOrEqualTo(0);
            badRequest.ResponseTime.Should().Be(-1);
            badRequest.TerminationState.ToString().Should().Be("CR--");

            List<RequestRecord> records = all.Where(r => r.Backend != "fe_http").ToList();
            records.Should().HaveCount(5, $"{collector.Source.Address} got: {string.Join("\n", collector.Lines)}");

            RequestRecord ok = records.Single(r => r.Frontend == "fe_http" && r.Backend == "be_app");
            ok.Kind.Should().Be(RequestKind.Http);
            ok.Server.Should().Be("web1");
            ok.StatusCode.Should().Be(200);
            ok.IsSsl.Should().BeFalse();
            ok.GetClientAddress().Should().Be(IPAddress.Loopback);
            ok.ClientPort.Should().BeInRange(1, 65535);
            ok.AcceptDate.Should().BeOnOrAfter(before.AddSeconds(-1)).And.BeOnOrBefore(DateTime.Now.AddSeconds(1));
            ok.RequestTime.Should().BeGreaterThanOrEqualTo(0);
            ok.QueueTime.Should().Be(0);
            ok.ConnectTime.Should().BeGreaterThanOrEqualTo(0);
            ok.ResponseTime.Should().BeGreaterThanOrEqualTo(0);
            ok.TotalTime.Should().BeGreaterThanOrEqualTo(ok.ResponseTime);
            ok.BytesRead.Should().BeGreaterThan(0);
            ok.TerminationState.ToString().Should().Be("----");
            ok.Retries.Should().Be(0);

            RequestRecord noServer = records.Single(r => r.Backend == "be_nosrv");
            noServer.HasNoServer.Should().BeTrue();
            noServer.StatusCode.Should().Be(503);
            noServer.ConnectTime.Should().Be(-1);
            noServer.ResponseTime.Should().Be(-1);
            noServer.TerminationState.Cause.Should().Be('S');

            RequestRecord dead = records.Single(r => r.Backend == "be_dead");
            dead.Server.Should().Be("gone");
            dead.StatusCode.Should().Be(503);
            dead.ResponseTime.Should().Be(-1);
            dead.TerminationState.ToString().Should().StartWith("SC");

            RequestRecord secure = records.Single(r => r.Frontend == "fe_https");
            secure.IsSsl.Should().BeTrue();
            secure.Backend.Should().Be("be_app");
            secure.StatusCode.Should().Be(200);

            RequestRecord tcp = records.Single(r => r.Frontend == "fe_tcp");
            tcp.Kind.Should().Be(RequestKind.Tcp);
            tcp.Backend.Should().Be("be_tcp");
            tcp.Server.Should().Be("t1");
            tcp.StatusCode.Should().Be(RequestRecord.NotLogged);
            tcp.ResponseTime.Should().Be(RequestRecord.NotLogged);
            tcp.QueueTime.Should().BeGreaterThanOrEqualTo(0);
            tcp.ConnectTime.Should().BeGreaterThanOrEqualTo(0);
            tcp.TotalTime.Should().BeGreaterThanOrEqualTo(0);
            tcp.BytesRead.Should().BeGreaterThan(0);
            tcp.TerminationState.Length.Should().Be(2);
        }

        // The default format and the UNIX socket carry the RFC3164 header; RFC5424 and raw do not.
        rfc3164.Lines.Should().Contain(l => l.StartsWith("<134>", StringComparison.Ordinal) && l.Contains(" haproxy[", StringComparison.Ordinal));
        rfc5424.Lines.Should().Contain(l => l.StartsWith("<134>1 ", StringComparison.Ordinal));
        raw.Lines.Should().Contain(l => l.StartsWith("127.0.0.1:", StringComparison.Ordinal));
    }

    private static List<RequestRecord> ParseAll(IEnumerable<string> lines)
    {
        var parser = new HaproxyLogParser();
        var records = new List<RequestRecord>();
        foreach (string line in lines.ToArray())
        {
            if (parser.TryParse(Encoding.UTF8.GetBytes(line), out RequestRecord record))
            {
                records.Add(record);
            }
        }

        return records;
    }

    private static async Task SendRawTcpRequestAsync(int port)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, port);
        NetworkStream stream = client.GetStream();
        await stream.WriteAsync("GET /tcp HTTP/1.0\r\nHost: x\r\n\r\n"u8.ToArray());
        using var reader = new StreamReader(stream);
        (await reader.ReadToEndAsync()).Should().StartWith("HTTP/1.1 200");
    }

    internal static async Task CreateCertificateAsync(string pemPath)
    {
        string key = pemPath + ".key", cert = pemPath + ".crt";
        var openssl = Process.Start(new ProcessStartInfo("openssl")
        {
            ArgumentList = { "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-subj", "/CN=localhost", "-days", "2" },
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        })!;
        await openssl.WaitForExitAsync();
        openssl.ExitCode.Should().Be(0, "openssl must create the test certificate");
        await File.WriteAllTextAsync(pemPath, await File.ReadAllTextAsync(cert) + await File.ReadAllTextAsync(key));
    }
}

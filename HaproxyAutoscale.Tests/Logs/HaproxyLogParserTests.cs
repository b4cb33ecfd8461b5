using System.Net;
using System.Text;
using HaproxyAutoscale.Logs;

namespace HaproxyAutoscale.Tests.Logs;

public sealed class HaproxyLogParserTests
{
    private const string HttpBody = "127.0.0.1:55336 [26/Nov/2026:15:01:04.676] fe_http b-app1backend/server1 0/0/0/1/1 200 136 - - ---- 1/1/0/0/0 0/0 {127.0.0.1:27080|Mozilla/5.0 (X11; Linux) spaced agent} \"GET /index.html?q=1 HTTP/1.1\"";

    public static TheoryData<string> Envelopes => new()
    {
        $"<134>Nov 26 15:01:04 haproxy[12853]: {HttpBody}",                          // RFC3164 over UDP, no host
        $"Nov 26 15:01:04 lb1 haproxy[12853]: {HttpBody}",                           // rsyslog file
        $"<134>Nov 26 15:11:18 localhost haproxy[11057]: {HttpBody}",                // format rfc3164 with host
        $"<142>1 2026-11-26T15:01:04.677449+00:00 - haproxy 12853 - - {HttpBody}",   // RFC5424 without SD
        $"<142>1 2026-11-26T15:01:04.677449+00:00 lb1 haproxy 12853 - [meta x=\"a]b\" y=\"\\\"\"][o k=\"v\"] {HttpBody}", // with SD
        $"<6>{HttpBody}",                                                            // format short
        $"<134>{HttpBody}",                                                          // format priority
        $"2026-11-26T15:11:18.141709+00:00 {HttpBody}",                              // format iso
        $"<6>2026-11-26T15:11:18.141729+00:00 {HttpBody}",                           // format timed
        $"2026-11-26T15:01:04.676+00:00 lb1 haproxy[12853]: {HttpBody}",             // rsyslog RFC3339 file
        HttpBody,                                                                     // raw / log stdout
        HttpBody + "\r\n",
    };

    [Theory]
    [MemberData(nameof(Envelopes))]
    public void TryParse_EveryEnvelope_FindsTheSameRecord(string line)
    {
        Parse(line, out RequestRecord r).Should().BeTrue();
        r.Kind.Should().Be(RequestKind.Http);
        r.GetClientAddress().Should().Be(IPAddress.Parse("127.0.0.1"));
        r.ClientPort.Should().Be(55336);
        r.AcceptDate.Should().Be(new DateTime(2026, 11, 26, 15, 1, 4, 676));
        r.Frontend.Should().Be("fe_http");
        r.Backend.Should().Be("b-app1backend");
        r.Server.Should().Be("server1");
        (r.RequestTime, r.QueueTime, r.ConnectTime, r.ResponseTime, r.TotalTime).Should().Be((0, 0, 0, 1, 1));
        r.StatusCode.Should().Be(200);
        r.BytesRead.Should().Be(136);
        r.TerminationState.ToString().Should().Be("----");
        (r.ActiveConnections, r.FrontendConnections, r.BackendConnections, r.ServerConnections, r.Retries).Should().Be((1, 1, 0, 0, 0));
        (r.ServerQueue, r.BackendQueue).Should().Be((0, 0));
    }

    [Fact]
    public void TryParse_PaddedDayRsyslogHeader_Parses()
    {
        Parse("Feb  6 12:14:15 lb1 haproxy[1]: ::1:54321 [06/Feb/2009:12:14:15.001] fe~ be.x:y-z_1/srv.a:b-c_2 10/-1/+3/-1/+15 -1 +420 - - CD-- 5/4/3/2/1 7/8 \"GET / HTTP/1.1\"", out RequestRecord r).Should().BeTrue();
        r.GetClientAddress().Should().Be(IPAddress.IPv6Loopback);
        r.ClientPort.Should().Be(54321);
        r.IsSsl.Should().BeTrue();
        r.Frontend.Should().Be("fe");
        r.Backend.Should().Be("be.x:y-z_1");
        r.Server.Should().Be("srv.a:b-c_2");
        (r.RequestTime, r.QueueTime, r.ConnectTime, r.ResponseTime, r.TotalTime).Should().Be((10, -1, 3, -1, 15));
        r.IsTotalTimePartial.Should().BeTrue();
        r.StatusCode.Should().Be(-1);
        r.BytesRead.Should().Be(420);
        r.IsBytesReadPartial.Should().BeTrue();
        r.TerminationState.Cause.Should().Be('C');
        r.TerminationState.Phase.Should().Be('D');
        (r.ActiveConnections, r.Retries, r.ServerQueue, r.BackendQueue).Should().Be((5, 1, 7, 8));
        r.AcceptDate.Should().Be(new DateTime(2009, 2, 6, 12, 14, 15, 1));
    }

    [Fact]
    public void TryParse_TcpLog_HasThreeTimersAndNoStatus()
    {
        Parse("127.0.0.1:50496 [26/Nov/2026:15:01:14.028] fe_tcp be_tcp/t1 1/0/0 122 -- 1/1/0/0/0 0/0", out RequestRecord r).Should().BeTrue();
        r.Kind.Should().Be(RequestKind.Tcp);
        (r.QueueTime, r.ConnectTime, r.TotalTime).Should().Be((1, 0, 0));
        r.RequestTime.Should().Be(RequestRecord.NotLogged);
        r.ResponseTime.Should().Be(RequestRecord.NotLogged);
        r.StatusCode.Should().Be(RequestRecord.NotLogged);
        r.TerminationState.ToString().Should().Be("--");
        r.BytesRead.Should().Be(122);
    }

    [Fact]
    public void TryParse_TcpConnectionRefused_KeepsMinusOneApartFromNotLogged()
    {
        Parse("<134>Nov 26 15:01:14 haproxy[1]: 127.0.0.1:50496 [26/Nov/2026:15:01:14.028] fe_tcp be_tcp/web1 1/-1/3006 0 SC 1/1/0/0/3 0/0", out RequestRecord r).Should().BeTrue();
        r.ConnectTime.Should().Be(-1);
        r.ResponseTime.Should().Be(RequestRecord.NotLogged);
        r.Retries.Should().Be(3);
        r.TerminationState.ToString().Should().Be("SC");
    }

    [Fact]
    public void TryParse_NoServerAndBadRequest_AreRequests()
    {
        Parse("127.0.0.1:1 [26/Nov/2026:15:01:04.676] fe_http be_app/<NOSRV> 0/-1/-1/-1/0 503 217 - - SC-- 1/1/0/0/0 0/0 \"GET / HTTP/1.1\"", out RequestRecord nosrv).Should().BeTrue();
        nosrv.HasNoServer.Should().BeTrue();
        nosrv.Server.Should().Be(RequestRecord.NoServerName);
        Parse("127.0.0.1:1 [26/Nov/2026:15:01:04.676] fe_http fe_http/<NOSRV> -1/-1/-1/-1/0 400 0 - - CR-- 1/1/0/0/0 0/0 \"<BADREQ>\"", out RequestRecord bad).Should().BeTrue();
        bad.StatusCode.Should().Be(400);
        bad.Backend.Should().Be("fe_http");
    }

    [Fact]
    public void TryParse_HttpsLog_WithTlsFieldsAfterRequestLine()
    {
        Parse("127.0.0.1:44236 [26/Nov/2026:15:33:03.989] fe_https~ be_app/web1 0/0/0/3/3 200 86 - - ---- 2/1/0/0/0 0/0 \"GET /secure HTTP/1.1\" 0/0000000000000000/0/0/0 -/TLSv1.3/TLS_AES_256_GCM_SHA384", out RequestRecord r).Should().BeTrue();
        r.IsSsl.Should().BeTrue();
        r.Frontend.Should().Be("fe_https");
    }

    [Fact]
    public void TryParse_CapturesWithBracesPipesAndSpaces_AndCutRequestLine()
    {
        Parse("127.0.0.1:1 [26/Nov/2026:15:01:04.676] fe be/s 0/0/0/1/1 200 1 - - ---- 1/1/0/0/0 0/0 {a {b} | c}} {x y} \"GET /very/long/path/cut-by-haproxy", out RequestRecord r).Should().BeTrue();
        r.ResponseTime.Should().Be(1);
    }

    [Theory]
    [InlineData("Proxy fe_http started.")]
    [InlineData("<133>Nov 26 15:01:04 haproxy[1]: Proxy fe_http started.")]
    [InlineData("<129>Nov 26 15:01:04 haproxy[1]: Server be_app/web1 is going DOWN for maintenance. 1 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.")]
    [InlineData("<133>Nov 26 15:01:04 haproxy[1]: Server be_app/web1 is UP/READY (leaving forced maintenance).")]
    [InlineData("<128>Nov 26 15:01:04 haproxy[1]: backend be_none has no server available!")]
    [InlineData("Nov 26 15:01:04 lb1 kernel: [12345.678] eth0: link up")]
    [InlineData("")]
    [InlineData("127.0.0.1:1 [26/Nov/2026:15:01:04.676] fe be/s 0/0/0/1/1 200 1 - - ---- 1/1/0/0/0 0/0 {truncated capture")]
    [InlineData("127.0.0.1:1 [26/Nov/2026:15:01:04.676] fe be/s 0/0/0/1")]
    [InlineData("127.0.0.1:1 [31/Feb/2026:15:01:04.676] fe be/s 0/0/0/1/1 200 1 - - ---- 1/1/0/0/0 0/0 \"GET /\"")]
    [InlineData("127.0.0.1:1 [26/Nov/2026:15:01:04.676] fe be;x/s 0/0/0/1/1 200 1 - - ---- 1/1/0/0/0 0/0 \"GET /\"")]
    [InlineData("127.0.0.1:99999 [26/Nov/2026:15:01:04.676] fe be/s 0/0/0/1/1 200 1 - - ---- 1/1/0/0/0 0/0 \"GET /\"")]
    [InlineData("127.0.0.1:1 [26/Nov/2026:15:01:04.676] fe be/s 0/0/0/1/1/1 200 1 - - ---- 1/1/0/0/0 0/0 \"GET /\"")]
    [InlineData("127.0.0.1:1 [26/Nov/2026:15:01:04.676] fe be/s 0/0/0/1/99999999999 200 1 - - ---- 1/1/0/0/0 0/0 \"GET /\"")]
    public void TryParse_NotARequestLine_ReturnsFalse(string line) => Parse(line, out _).Should().BeFalse();

    [Fact]
    public void TryParse_SteadyState_AllocatesNothing()
    {
        var parser = new HaproxyLogParser();
        byte[] http = Encoding.UTF8.GetBytes($"<134>Nov 26 15:01:04 haproxy[12853]: {HttpBody}");
        byte[] tcp = "127.0.0.1:50496 [26/Nov/2026:15:01:14.028] fe_tcp be_tcp/t1 1/0/0 122 -- 1/1/0/0/0 0/0"u8.ToArray();
        byte[] ipv6 = "2001:db8::42:50496 [26/Nov/2026:15:01:14.028] fe_tcp be_tcp/t1 1/0/0 122 -- 1/1/0/0/0 0/0"u8.ToArray();
        parser.TryParse(http, out _);
        parser.TryParse(tcp, out _);
        parser.TryParse(ipv6, out _);

        int parsed = 0;
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++)
        {
            parsed += parser.TryParse(http, out _) ? 1 : 0;
            parsed += parser.TryParse(tcp, out _) ? 1 : 0;
            parsed += parser.TryParse(ipv6, out _) ? 1 : 0;
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        parsed.Should().Be(3000);
        allocated.Should().Be(0);
    }

    [Theory]
    [InlineData("::1")]
    [InlineData("::")]
    [InlineData("2001:db8::42")]
    [InlineData("fe80::1:2:3:4")]
    [InlineData("1:2:3:4:5:6:7:8")]
    [InlineData("ABCD:ef01:2345:6789:abcd:EF01:2345:6789")]
    [InlineData("1::")]
    [InlineData("1:2:3:4:5:6:7::")]
    [InlineData("::2:3:4:5:6:7:8")]
    [InlineData("::ffff:10.0.0.1")]
    [InlineData("1:2:3:4:5:6:1.2.3.4")]
    [InlineData("64:ff9b::192.0.2.33")]
    [InlineData(":::1")]
    [InlineData("1:::2")]
    [InlineData("1::2::3")]
    [InlineData("12345::1")]
    [InlineData("1:2:3:4:5:6:7:8:9")]
    [InlineData("1:2:3:4:5:6:7")]
    [InlineData("1:2:3:4:5:6:7:8::")]
    [InlineData("::ffff:1.2.3")]
    [InlineData("::ffff:1.2.3.256")]
    [InlineData("::1.2.3.4:5")]
    [InlineData("1.2.3.4::1")]
    [InlineData("g::1")]
    [InlineData(":1")]
    [InlineData("1:")]
    public void TryParse_IPv6Client_AgreesWithIPAddressParse(string address)
    {
        bool valid = IPAddress.TryParse(address, out IPAddress? expected);
        bool parsed = Parse($"{address}:443 [26/Nov/2026:15:01:14.028] fe_tcp be_tcp/t1 1/0/0 122 -- 1/1/0/0/0 0/0", out RequestRecord r);

        parsed.Should().Be(valid);
        if (valid)
        {
            r.GetClientAddress().Should().Be(expected);
            r.ClientPort.Should().Be(443);
        }
    }

    [Fact]
    public void TryParse_NumbersOfEveryLength_ReadExactly_InTheLineAndAtItsEnd()
    {
        // Every field's number at every length up to 18 digits, in the middle of the line and as its last bytes
        // (tcplog's queues); 19 digits are refused.
        for (int digits = 1; digits <= 19; digits++)
        {
            long bytes = long.Parse("1234567890123456789"[..digits], System.Globalization.CultureInfo.InvariantCulture);
            int timer = (int)Math.Min(bytes, int.MaxValue);
            string timerText = timer.ToString(System.Globalization.CultureInfo.InvariantCulture);
            string http = $"10.20.30.40:{Math.Min(bytes, 65535)} [26/Nov/2026:15:01:04.676] fe be/s -1/{timerText}/+{timerText}/0/{timerText} 200 +{bytes} - - ---- 1/1/0/0/0 {timerText}/{timerText} \"GET /\"";
            string tcp = $"10.20.30.40:1 [26/Nov/2026:15:01:04.676] fe be/s 1/0/{timerText} {bytes} -- 1/1/0/0/0 {timerText}/{timerText}";
            bool valid = digits <= 18;

            Parse(http, out RequestRecord r).Should().Be(valid, http);
            Parse(tcp, out RequestRecord t).Should().Be(valid, tcp);
            if (valid)
            {
                (r.RequestTime, r.QueueTime, r.ConnectTime, r.TotalTime, r.BytesRead, r.ServerQueue, r.BackendQueue)
                    .Should().Be((-1, timer, timer, timer, bytes, timer, timer), http);
                (r.ClientPort, r.IsBytesReadPartial).Should().Be(((int)Math.Min(bytes, 65535), true));
                (t.TotalTime, t.BytesRead, t.ServerQueue, t.BackendQueue).Should().Be((timer, bytes, timer, timer), tcp);
            }
        }
    }

    [Fact]
    public void TryParse_SameName_ReturnsTheSameInstance()
    {
        var parser = new HaproxyLogParser();
        parser.TryParse(Encoding.UTF8.GetBytes(HttpBody), out RequestRecord first);
        parser.TryParse(Encoding.UTF8.GetBytes(HttpBody), out RequestRecord second);
        ReferenceEquals(first.Server, second.Server).Should().BeTrue();
        ReferenceEquals(first.Backend, second.Backend).Should().BeTrue();
    }

    private static bool Parse(string line, out RequestRecord record) => new HaproxyLogParser().TryParse(Encoding.UTF8.GetBytes(line), out record);
}

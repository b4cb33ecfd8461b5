using System.Net;
using System.Net.Sockets;
using System.Text;
using HaproxyAutoscale.Logs;
using HaproxyAutoscale.Scaling;
using HaproxyAutoscale.Tests.Infrastructure;

namespace HaproxyAutoscale.Tests.Logs;

/// <summary>
/// The syslog TCP source over real loopback connections: many senders at once in both framings, flow control with a
/// slow handler, the sender allowlist, malformed streams; and two real HAProxy 2.6 forwarding their logs through
/// <c>ring</c> sections at once.
/// </summary>
[Trait("Category", "Haproxy")]
public sealed class TcpLogSourceTests
{
    private const string Line = "<134>Nov 26 15:00:00 haproxy[1]: 127.0.0.1:40000 [26/Nov/2026:15:00:00.000] fe app/s1 0/0/0/12/13 200 512 - - ---- 1/1/0/0/0 0/0 \"GET /{0} HTTP/1.1\"";

    [Fact]
    public async Task RunAsync_EightSendersBothFramings_EveryLineOncePerSender()
    {
        const int Senders = 8, LinesEach = 5000;
        await using var source = new TcpLogSource(new IPEndPoint(IPAddress.Loopback, 0), "tcp@test", new TcpSourceOptions());
        await using var collector = new LogCollector(source);

        // Each sender from its own loopback address (127.0.0.2 …), half octet-counted, half LF-terminated, written
        // in uneven pieces so messages straddle reads.
        await Task.WhenAll(Enumerable.Range(0, Senders).Select(i => Task.Run(async () =>
        {
            using Socket socket = await ConnectAsync(source.LocalEndPoint, IPAddress.Parse($"127.0.0.{i + 2}"));
            var text = new StringBuilder();
            for (int n = 0; n < LinesEach; n++)
            {
                string line = string.Format(System.Globalization.CultureInfo.InvariantCulture, Line, $"s{i}/{n}");
                text.Append(i % 2 == 0 ? $"{line.Length} {line}" : line + "\n");
            }

            byte[] bytes = Encoding.ASCII.GetBytes(text.ToString());
            var random = new Random(i);
            for (int offset = 0; offset < bytes.Length;)
            {
                int piece = Math.Min(random.Next(1, 3000), bytes.Length - offset);
                await socket.SendAsync(bytes.AsMemory(offset, piece));
                offset += piece;
            }
        })));

        await collector.WaitForAsync(lines => lines.Count >= Senders * LinesEach, $"{Senders * LinesEach} lines");
        collector.Lines.Should().OnlyHaveUniqueItems().And.HaveCount(Senders * LinesEach);
        collector.Lines.Should().Contain(string.Format(System.Globalization.CultureInfo.InvariantCulture, Line, "s7/4999"));
        source.Counters.Lines.Should().Be(Senders * LinesEach);
        await Poll.UntilAsync(() => source.Senders.All(s => s.Connections == 0), TimeSpan.FromSeconds(10), "the senders to be seen closing");
        source.Senders.Select(s => (s.Sender, s.Lines, s.TotalConnections)).Should().BeEquivalentTo(
            Enumerable.Range(0, Senders).Select(i => ($"127.0.0.{i + 2}", (long)LinesEach, 1L)));
    }

    [Fact]
    public async Task RunAsync_HandlerStalls_SenderBlocksInsteadOfMemoryGrowingAndNothingIsLost()
    {
        const int Lines = 200_000; // ~40 MB: far more than the socket buffers on both sides hold
        await using var source = new TcpLogSource(new IPEndPoint(IPAddress.Loopback, 0), "tcp@test", new TcpSourceOptions());
        using var gate = new ManualResetEventSlim(false);
        long delivered = 0;
        using var stop = new CancellationTokenSource();
        Task running = Task.Run(() => source.RunAsync(_ =>
        {
            gate.Wait();
            Interlocked.Increment(ref delivered);
        }, stop.Token));

        using Socket socket = await ConnectAsync(source.LocalEndPoint, IPAddress.Loopback);
        byte[] line = Encoding.ASCII.GetBytes(string.Format(System.Globalization.CultureInfo.InvariantCulture, Line, "flow") + "\n");
        byte[] block = [.. Enumerable.Range(0, 1000).SelectMany(_ => line)];
        Task sending = Task.Run(async () =>
        {
            for (int i = 0; i < Lines / 1000; i++)
            {
                await socket.SendAsync(block);
            }
        });

        // While the handler is stuck the sender cannot finish: what it wrote waits in the kernel, not in the source.
        // (Memory is bounded by construction: one read of TcpSourceOptions.ReadSize per connection plus one message.)
        // The kernel shows it: the source's receive queue holds data and the sender's send queue too (the window is
        // closed); a source that kept reading would drain both.
        var client = (IPEndPoint)socket.LocalEndPoint!;
        await Poll.UntilAsync(() => TcpQueues(client, source.LocalEndPoint) is { Unsent: > 0 } && TcpQueues(source.LocalEndPoint, client) is { Unread: > 0 },
            TimeSpan.FromSeconds(30), "the connection's window to close (data queued on both sides)");
        sending.IsCompleted.Should().BeFalse("the source stops reading when its handler does not return");
        Interlocked.Read(ref delivered).Should().Be(0, "the handler is still stuck in the first line");

        gate.Set();
        await sending.WaitAsync(TimeSpan.FromSeconds(60));
        await Poll.UntilAsync(() => Interlocked.Read(ref delivered) == Lines, TimeSpan.FromSeconds(60), $"{Lines} lines");
        source.Counters.Dropped.Should().Be(0);
        await stop.CancelAsync();
        await running;
    }

    [Fact]
    public async Task RunAsync_SenderNotAllowed_ClosedUnreadCountedAndLoggedOnce()
    {
        var options = new TcpSourceOptions();
        options.AllowFrom.Clear();
        options.AllowFrom.Add(IPNetwork.Parse("127.0.0.1/32"));
        using var logs = new ListLoggerProvider();
        await using var source = new TcpLogSource(new IPEndPoint(IPAddress.Loopback, 0), "tcp@test", options) { Logger = logs.CreateLogger("t") };
        await using var collector = new LogCollector(source);

        for (int attempt = 0; attempt < 2; attempt++)
        {
            using Socket stranger = await ConnectAsync(source.LocalEndPoint, IPAddress.Parse("127.0.0.9"));
            await stranger.SendAsync(Encoding.ASCII.GetBytes("<134>fake load\n"));
            // The source closes the connection without reading: the stranger sees its end.
            int read = await stranger.ReceiveAsync(new byte[16]).WaitAsync(TimeSpan.FromSeconds(10)).ContinueWith(t => t.IsCompletedSuccessfully ? t.Result : 0);
            read.Should().Be(0);
        }

        using (Socket friend = await ConnectAsync(source.LocalEndPoint, IPAddress.Loopback))
        {
            await friend.SendAsync(Encoding.ASCII.GetBytes("<134>real\n"));
        }

        await collector.WaitForAsync(lines => lines.Count == 1, "the allowed sender's line");
        collector.Lines.Should().Equal("<134>real");
        source.Counters.Rejected.Should().Be(2);
        logs.Entries.Where(e => e.EventId == AutoscaleEventIds.RejectedConnection).Should().ContainSingle()
            .Which.Message.Should().Contain("127.0.0.9").And.Contain("logs.allowFrom");
        source.Senders.Select(s => s.Sender).Should().Equal("127.0.0.1");
    }

    [Fact]
    public async Task RunAsync_BadOctetCount_ConnectionClosedCountedOthersUnaffected()
    {
        using var logs = new ListLoggerProvider();
        await using var source = new TcpLogSource(new IPEndPoint(IPAddress.Loopback, 0), "tcp@test", new TcpSourceOptions { MaxLineLength = 1000 }) { Logger = logs.CreateLogger("t") };
        await using var collector = new LogCollector(source);

        using (Socket bad = await ConnectAsync(source.LocalEndPoint, IPAddress.Loopback))
        {
            string huge = new('x', 2000);
            await bad.SendAsync(Encoding.ASCII.GetBytes($"6 <134>a{huge.Length} {huge}6 <134>b12x <134>broken"));
            int read = await bad.ReceiveAsync(new byte[16]).WaitAsync(TimeSpan.FromSeconds(10));
            read.Should().Be(0, "the source closes a stream it cannot frame");
        }

        using (Socket good = await ConnectAsync(source.LocalEndPoint, IPAddress.Loopback))
        {
            await good.SendAsync(Encoding.ASCII.GetBytes("<134>fine\n"));
        }

        await collector.WaitForAsync(lines => lines.Count == 3, "three good lines");
        collector.Lines.Should().Equal("<134>a", "<134>b", "<134>fine");
        source.Counters.Malformed.Should().Be(1);
        source.Counters.Oversized.Should().Be(1);
        logs.Entries.Should().Contain(e => e.EventId == AutoscaleEventIds.MalformedStream && e.Message.Contains("'12x' is not an octet count", StringComparison.Ordinal));
    }

    [Fact]
    public async Task RunAsync_MessagesLongerThanOneRead_ArriveWholeInBothFramings()
    {
        // Reads of 4 KiB, messages of 10,000 bytes: each spans three reads, and the connection's buffer grows to hold it.
        await using var source = new TcpLogSource(new IPEndPoint(IPAddress.Loopback, 0), "tcp@test", new TcpSourceOptions { ReadSize = 4096 });
        await using var collector = new LogCollector(source);
        string[] lines = [.. Enumerable.Range(0, 20).Select(i => $"<134>{i:00}" + new string((char)('a' + i), 10_000))];
        using (Socket octets = await ConnectAsync(source.LocalEndPoint, IPAddress.Loopback))
        using (Socket feeds = await ConnectAsync(source.LocalEndPoint, IPAddress.Parse("127.0.0.2")))
        {
            await octets.SendAsync(Encoding.ASCII.GetBytes(string.Concat(lines.Take(10).Select(l => $"{l.Length} {l}"))));
            await feeds.SendAsync(Encoding.ASCII.GetBytes(string.Concat(lines.Skip(10).Select(l => l + "\n"))));
        }

        await collector.WaitForAsync(received => received.Count == lines.Length, $"{lines.Length} long lines");
        collector.Lines.Should().BeEquivalentTo(lines, "every message arrived whole, none counted oversized ({0})", source.Counters.Oversized);
    }

    [Fact]
    public async Task RunAsync_PastMaxConnections_ExtraConnectionClosedFirstKeepsSending()
    {
        using var logs = new ListLoggerProvider();
        await using var source = new TcpLogSource(new IPEndPoint(IPAddress.Loopback, 0), "tcp@test", new TcpSourceOptions { MaxConnections = 1 }) { Logger = logs.CreateLogger("t") };
        await using var collector = new LogCollector(source);
        using Socket first = await ConnectAsync(source.LocalEndPoint, IPAddress.Loopback);
        await first.SendAsync(Encoding.ASCII.GetBytes("<134>one\n"));
        await collector.WaitForAsync(lines => lines.Count == 1, "the first connection's line");

        using Socket second = await ConnectAsync(source.LocalEndPoint, IPAddress.Loopback);
        int read = await second.ReceiveAsync(new byte[16]).WaitAsync(TimeSpan.FromSeconds(10));
        read.Should().Be(0, "a connection past the limit is closed");
        await first.SendAsync(Encoding.ASCII.GetBytes("<134>two\n"));
        await collector.WaitForAsync(lines => lines.Count == 2, "the first connection's second line");
        source.Counters.Rejected.Should().Be(1);
        logs.Entries.Should().ContainSingle(e => e.EventId == AutoscaleEventIds.TooManyConnections);
    }

    [Fact]
    public async Task RunAsync_DisposedWhileRunning_EndsQuietly()
    {
        var source = new TcpLogSource(new IPEndPoint(IPAddress.Loopback, 0), "tcp@test", new TcpSourceOptions());
        using var stop = new CancellationTokenSource();
        Task running = source.RunAsync(_ => { }, stop.Token);
        using Socket sender = await ConnectAsync(source.LocalEndPoint, IPAddress.Loopback);
        await Poll.UntilAsync(() => source.Senders.Count == 1, TimeSpan.FromSeconds(10), "the connection");
        await source.DisposeAsync();
        await stop.CancelAsync();
        await running.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task Create_TcpAddress_BindsAndTakesTheAllowlist()
    {
        int port = Ports.FreeTcp();
        var datagramOptions = new DatagramSourceOptions();
        datagramOptions.AllowFrom.Clear();
        datagramOptions.AllowFrom.Add(IPNetwork.Parse("10.0.0.0/8"));
        await using ILogSource source = LogSources.Create($"tcp@127.0.0.1:{port}", new System.IO.Abstractions.FileSystem(), TimeProvider.System, datagramOptions: datagramOptions);
        source.Should().BeOfType<TcpLogSource>().Which.LocalEndPoint.Port.Should().Be(port);
        await using var collector = new LogCollector(source);
        using Socket socket = await ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), IPAddress.Loopback);
        await Poll.UntilAsync(() => source.Counters.Rejected == 1, TimeSpan.FromSeconds(10), "loopback rejected by a 10.0.0.0/8 allowlist");

        LogSources.Validate("tcp@127.0.0.1:5514").Should().BeNull();
        LogSources.Validate("tcp6@[::1]:5514").Should().BeNull();
        LogSources.Validate("tcp@localhost:5514").Should().Contain("expected tcp@HOST:PORT");
        LogSources.Validate("tcp4@[::1]:5514").Should().Contain("does not match tcp4@");
    }

    [Fact]
    public async Task RunAsync_TwoHaproxyRings_BothFleetMembersLinesArriveInBothFramings()
    {
        const int RequestsEach = 40;
        using var dir = new TempDirectory();
        await using var app = AppServers.Plain();
        await using var source = new TcpLogSource(new IPEndPoint(IPAddress.Loopback, 0), "tcp@test", new TcpSourceOptions());
        await using var collector = new LogCollector(source);
        int port = source.LocalEndPoint.Port;
        int http1 = Ports.FreeTcp(), http2 = Ports.FreeTcp();
        using var dir1 = new TempDirectory();
        using var dir2 = new TempDirectory();
        // The snippet in docs/logs.md: HAProxy 1 frames with octet counting, HAProxy 2 with LF (log-proto legacy, the default).
        await using Haproxy first = await Haproxy.StartAsync(RingConfig(dir1, port, http1, app.Port, "log-proto octet-count"), dir1);
        await using Haproxy second = await Haproxy.StartAsync(RingConfig(dir2, port, http2, app.Port, ""), dir2);
        await Poll.UntilAsync(() => source.Senders.Sum(s => s.Connections) == 2, TimeSpan.FromSeconds(20), "both rings to connect");

        using var http = new HttpClient();
        for (int i = 0; i < RequestsEach; i++)
        {
            (await http.GetAsync(new Uri($"http://127.0.0.1:{http1}/one/{i}"))).EnsureSuccessStatusCode();
            (await http.GetAsync(new Uri($"http://127.0.0.1:{http2}/two/{i}"))).EnsureSuccessStatusCode();
        }

        await collector.WaitForAsync(lines => lines.Count(l => l.Contains(" app/a1 ", StringComparison.Ordinal)) >= 2 * RequestsEach, "both instances' request lines");
        var parser = new HaproxyLogParser();
        List<string> requests = [.. collector.Lines.Where(l => l.Contains(" app/a1 ", StringComparison.Ordinal))];
        requests.Should().HaveCount(2 * RequestsEach);
        requests.Select(l => parser.TryParse(Encoding.ASCII.GetBytes(l), out RequestRecord r) ? $"{r.Backend} {r.StatusCode}" : "unparsed")
            .Should().AllBe("app 200");
        requests.Count(l => l.Contains($"haproxy {first.Pid} ", StringComparison.Ordinal) && l.Contains("/one/", StringComparison.Ordinal)).Should().Be(RequestsEach);
        requests.Count(l => l.Contains($"haproxy {second.Pid} ", StringComparison.Ordinal) && l.Contains("/two/", StringComparison.Ordinal)).Should().Be(RequestsEach);
        source.Counters.Malformed.Should().Be(0);
    }

    /// <summary>An HAProxy whose logs go through a ring forwarded over TCP to the source (format rfc5424).</summary>
    internal static HaproxyConfig RingConfig(TempDirectory dir, int logPort, int httpPort, int appPort, string serverOptions, params HaproxyServer[] moreServers)
    {
        HaproxyConfig config = HaproxyConfig.ForApps(dir.File("admin.sock"), httpPort, new HaproxyBackend("app") { Balance = null, Servers = [new("a1", appPort), .. moreServers] },
            HaproxyLogTarget.Tcp(logPort, serverOptions, ring: "fleet"));
        (config.ClientTimeout, config.ServerTimeout) = ("5s", "5s");
        return config;
    }

    /// <summary>
    /// The kernel's queues of the TCP connection from <paramref name="local"/> to <paramref name="remote"/> (from
    /// /proc/net/tcp): bytes sent but not acknowledged (the peer's window is closed), and bytes received but not read.
    /// </summary>
    private static (long Unsent, long Unread)? TcpQueues(IPEndPoint local, IPEndPoint remote)
    {
        static string Hex(IPEndPoint e) => $"{BitConverter.ToUInt32(e.Address.GetAddressBytes()):X8}:{e.Port:X4}";
        foreach (string line in File.ReadLines("/proc/net/tcp").Skip(1))
        {
            string[] fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields[1] == Hex(local) && fields[2] == Hex(remote) && fields[4].Split(':') is [var tx, var rx])
            {
                return (long.Parse(tx, System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture),
                    long.Parse(rx, System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture));
            }
        }

        return null;
    }

    private static async Task<Socket> ConnectAsync(IPEndPoint target, IPAddress from)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(from, 0));
        await socket.ConnectAsync(target);
        return socket;
    }
}

using System.Net;
using System.Net.Sockets;
using System.Text;
using HaproxyAutoscale.Logs;
using HaproxyAutoscale.Scaling;
using HaproxyAutoscale.Tests.Infrastructure;
using Microsoft.Extensions.Logging;

namespace HaproxyAutoscale.Tests.Logs;

/// <summary>
/// The datagram sources' sender allowlist, on real loopback sockets: senders bind 127.0.0.2, 127.0.0.3… as their
/// source address (Linux routes all of 127.0.0.0/8 to lo).
/// </summary>
public sealed class SenderAllowlistTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task UdpSource_DefaultAllowlist_AcceptsAnyLoopbackSender()
    {
        await using var listener = Listener.Start(IPAddress.Loopback, new DatagramSourceOptions());

        listener.SendFrom("127.0.0.2", "from .2");
        listener.SendFrom("127.0.0.1", "from .1");

        await listener.WaitForLinesAsync(2);
        listener.Lines.Should().Equal("from .2", "from .1");
        listener.Counters.Rejected.Should().Be(0);
    }

    [Fact]
    public async Task UdpSource_AllowOnly127001_RejectsAndCounts127002()
    {
        await using var listener = Listener.Start(IPAddress.Loopback, AllowFrom("127.0.0.1"));

        for (int i = 0; i < 5; i++)
        {
            listener.SendFrom("127.0.0.2", $"spoofed {i}");
        }

        listener.SendFrom("127.0.0.1", "genuine");

        await Poll.UntilAsync(() => listener.Counters.Rejected == 5, Deadline, "5 rejected datagrams");
        await listener.WaitForLinesAsync(1);
        listener.Lines.Should().Equal("genuine");
        listener.Counters.Lines.Should().Be(1, "a rejected datagram is never delivered nor counted as read");
    }

    [Fact]
    public async Task UdpSource_CidrPrefix_AcceptsInsideRejectsOutside()
    {
        await using var listener = Listener.Start(IPAddress.Loopback, AllowFrom("127.0.0.0/30"));

        listener.SendFrom("127.0.0.5", "outside");
        listener.SendFrom("127.0.0.3", "inside");

        await listener.WaitForLinesAsync(1);
        await Poll.UntilAsync(() => listener.Counters.Rejected == 1, Deadline, "the datagram from 127.0.0.5 rejected");
        listener.Lines.Should().Equal("inside");
    }

    [Fact]
    public async Task UdpSource_Ipv6Loopback_AcceptedByDefaultRejectedByAnIpv4OnlyList()
    {
        await using var accepting = Listener.Start(IPAddress.IPv6Loopback, new DatagramSourceOptions());
        await using var rejecting = Listener.Start(IPAddress.IPv6Loopback, AllowFrom("127.0.0.0/8"));

        accepting.SendFrom("::1", "v6");
        rejecting.SendFrom("::1", "v6");

        await accepting.WaitForLinesAsync(1);
        await Poll.UntilAsync(() => rejecting.Counters.Rejected == 1, Deadline, "the ::1 datagram rejected by an IPv4-only list");
        accepting.Lines.Should().Equal("v6");
        rejecting.Lines.Should().BeEmpty();
    }

    [Fact]
    public async Task UdpSource_RejectedSenders_WarnedOncePerSenderUpTo16()
    {
        using var logs = new ListLoggerProvider();
        using ILoggerFactory loggers = LoggerFactory.Create(b => b.AddProvider(logs));
        await using var listener = Listener.Start(IPAddress.Loopback, AllowFrom("127.0.0.1"), loggers.CreateLogger("HaproxyAutoscale"));

        // Three datagrams from each of 20 senders: 60 counted, the first 16 senders named once each.
        for (int round = 0; round < 3; round++)
        {
            for (int sender = 1; sender <= 20; sender++)
            {
                listener.SendFrom($"127.0.1.{sender}", "spoofed");
            }
        }

        await Poll.UntilAsync(() => listener.Counters.Rejected == 60, Deadline, "60 rejected datagrams");
        string[] warnings = [.. logs.Entries.Where(e => e.EventId == AutoscaleEventIds.RejectedSender).Select(e => e.Message)];
        warnings.Should().HaveCount(16);
        warnings.Should().OnlyHaveUniqueItems();
        warnings[0].Should().Be(
            $"Log datagrams from 127.0.1.1 to {listener.Address} are rejected: the sender is not in logs.allowFrom (127.0.0.1/32); " +
            "add it there if it is an HAProxy of yours. Its datagrams are counted in log_lines{outcome=\"rejected\"}");
        logs.Entries.Should().OnlyContain(e => e.Level == LogLevel.Warning);
    }

    [Fact]
    public async Task UnixSource_EmptyAllowlist_DoesNotApply()
    {
        using var dir = new TempDirectory();
        string path = dir.File("log.sock");
        var options = new DatagramSourceOptions();
        options.AllowFrom.Clear();
        var received = new List<string>();
        await using ILogSource source = LogSources.FromDatagrams(new UnixDomainSocketEndPoint(path), options);
        using var stop = new CancellationTokenSource();
        Task run = source.RunAsync(line => { lock (received) { received.Add(Encoding.ASCII.GetString(line)); } }, stop.Token);

        using var sender = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        sender.SendTo("<134>unix"u8.ToArray(), new UnixDomainSocketEndPoint(path));
        await Poll.UntilAsync(() => { lock (received) { return received.Count == 1; } }, Deadline, "the UNIX datagram");

        await stop.CancelAsync();
        await run;
        received.Should().Equal("<134>unix");
        source.Counters.Rejected.Should().Be(0);
    }

    [Theory]
    [InlineData("127.0.0.1", "127.0.0.1", true)]
    [InlineData("127.0.0.1", "127.0.0.2", false)]
    [InlineData("10.0.0.0/8", "10.255.1.2", true)]
    [InlineData("10.0.0.0/8", "11.0.0.1", false)]
    [InlineData("0.0.0.0/0", "203.0.113.9", true)]
    [InlineData("0.0.0.0/0", "2001:db8::1", false)]
    [InlineData("127.0.0.1", "::ffff:127.0.0.1", true)]
    [InlineData("::ffff:10.0.0.0/104", "10.1.2.3", true)]
    [InlineData("::1", "::1", true)]
    [InlineData("::1", "::2", false)]
    [InlineData("2001:db8::/32", "2001:db8:ffff::1", true)]
    [InlineData("2001:db8::/32", "2001:db9::1", false)]
    [InlineData("::/0", "2001:db8::1", true)]
    [InlineData("::/0", "::ffff:10.0.0.1", false)]
    [InlineData("::/0", "10.0.0.1", false)]
    public void Allows_SocketAddress_MatchesTheConfiguredPrefix(string entry, string sender, bool allowed)
    {
        SenderAllowlist.TryParse(entry, out IPNetwork network, out string? error).Should().BeTrue(error);
        var allowlist = new SenderAllowlist([network]);

        allowlist.Allows(new IPEndPoint(IPAddress.Parse(sender), 5140).Serialize()).Should().Be(allowed);
    }

    [Theory]
    [InlineData("127.0.0.1", "127.0.0.1/32")]
    [InlineData("10.0.0.0/8", "10.0.0.0/8")]
    [InlineData("::1", "::1/128")]
    [InlineData("fd00::/8", "fd00::/8")]
    [InlineData("::ffff:127.0.0.1", "127.0.0.1/32")]
    public void TryParse_ValidEntry_IsThatNetwork(string entry, string expected)
    {
        SenderAllowlist.TryParse(entry, out IPNetwork network, out string? error).Should().BeTrue(error);
        network.ToString().Should().Be(expected);
    }

    [Theory]
    [InlineData("localhost", "'localhost' is not an IP address or a CIDR prefix such as 10.0.0.0/8 or ::1")]
    [InlineData("", "'' is not an IP address or a CIDR prefix such as 10.0.0.0/8 or ::1")]
    [InlineData("10.0.0.0/33", "'10.0.0.0/33': the prefix length must be a number from 0 to 32")]
    [InlineData("10.0.0.0/", "'10.0.0.0/': the prefix length must be a number from 0 to 32")]
    [InlineData("10.0.0.0/-1", "'10.0.0.0/-1': the prefix length must be a number from 0 to 32")]
    [InlineData("::/129", "'::/129': the prefix length must be a number from 0 to 128")]
    [InlineData("10.1.2.3/8", "'10.1.2.3/8' has address bits set past the /8 prefix (did you mean 10.0.0.0/8?)")]
    [InlineData("fe80::1%2", "'fe80::1%2' is not an IP address or a CIDR prefix such as 10.0.0.0/8 or ::1")]
    public void TryParse_InvalidEntry_SaysWhy(string entry, string expected)
    {
        SenderAllowlist.TryParse(entry, out _, out string? error).Should().BeFalse();
        error.Should().Be(expected);
    }

    private static DatagramSourceOptions AllowFrom(params string[] entries)
    {
        var options = new DatagramSourceOptions();
        options.AllowFrom.Clear();
        foreach (string entry in entries)
        {
            SenderAllowlist.TryParse(entry, out IPNetwork network, out _).Should().BeTrue();
            options.AllowFrom.Add(network);
        }

        return options;
    }

    /// <summary>A running UDP source on loopback, collecting its lines, and senders bound to chosen source addresses.</summary>
    private sealed class Listener : IAsyncDisposable
    {
        private readonly DatagramLogSource _source;
        private readonly CancellationTokenSource _stop = new();
        private readonly List<string> _lines = [];
        private readonly Task _run;

        private Listener(DatagramLogSource source)
        {
            _source = source;
            _run = source.RunAsync(line => { lock (_lines) { _lines.Add(Encoding.ASCII.GetString(line)); } }, _stop.Token);
        }

        public LogSourceCounters Counters => _source.Counters;

        public string Address => _source.Address;

        public string[] Lines
        {
            get
            {
                lock (_lines)
                {
                    return [.. _lines];
                }
            }
        }

        public static Listener Start(IPAddress address, DatagramSourceOptions options, ILogger? logger = null)
        {
            var source = (DatagramLogSource)LogSources.FromDatagrams(new IPEndPoint(address, 0), options);
            source.Logger = logger;
            return new Listener(source);
        }

        public void SendFrom(string from, string text)
        {
            IPAddress address = IPAddress.Parse(from);
            using var sender = new Socket(address.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
            sender.Bind(new IPEndPoint(address, 0));
            sender.SendTo(Encoding.ASCII.GetBytes(text), _source.LocalEndPoint);
        }

        public Task WaitForLinesAsync(int count) =>
            Poll.UntilAsync(() => Lines.Length >= count, Deadline, $"{count} line(s)");

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            await _run;
            await _source.DisposeAsync();
            _stop.Dispose();
        }
    }
}

using System.Net;
using System.Net.Sockets;
using System.Text;
using HaproxyAutoscale.Logs;

namespace HaproxyAutoscale.Tests.Logs;

public sealed class StreamAndDatagramSourceTests
{
    [Fact]
    public async Task StreamSource_HugeLineAndNoFinalNewline_SkipsAndCountsTheHugeLine()
    {
        string input = "first\r\n" + new string('x', 3 * 1024 * 1024) + "\nsecond\n" + new string('y', 70_000) + "\nlast";
        var lines = new List<string>();
        ILogSource source = LogSources.FromStream(new MemoryStream(Encoding.ASCII.GetBytes(input)));
        await source.RunAsync(line => lines.Add(Encoding.ASCII.GetString(line)), CancellationToken.None);

        lines.Should().Equal("first", "second", "last");
        source.Counters.Lines.Should().Be(3);
        source.Counters.Oversized.Should().Be(2);
    }

    [Fact]
    public async Task UdpSource_Flood_DropsAndCountsInsteadOfQueueingWithoutBound()
    {
        var options = new DatagramSourceOptions { MaxQueuedBytes = 64 * 1024 };
        await using ILogSource source = LogSources.FromDatagrams(new IPEndPoint(IPAddress.Loopback, 0), options);
        var endPoint = (IPEndPoint)((DatagramLogSource)source).LocalEndPoint;
        using var handlerMayRun = new ManualResetEventSlim();
        long handled = 0;
        using var stop = new CancellationTokenSource();
        Task run = Task.Run(() => source.RunAsync(
            _ =>
            {
                handlerMayRun.Wait(TimeSpan.FromSeconds(20)); // a stuck consumer
                Interlocked.Increment(ref handled);
            },
            stop.Token));

        using var sender = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        byte[] datagram = Encoding.ASCII.GetBytes("<134>Nov 26 15:01:04 haproxy[1]: " + new string('x', 1000));
        const int Sent = 2_000;
        for (int i = 0; i < Sent; i++)
        {
            sender.SendTo(datagram, endPoint);
        }

        await Poll.UntilAsync(() => source.Counters.Dropped > 0, TimeSpan.FromSeconds(10), "datagrams to be dropped");
        handlerMayRun.Set();
        await Poll.UntilAsync(() => source.Counters.Lines + source.Counters.Dropped == Sent, TimeSpan.FromSeconds(10), "every datagram to be handled or dropped");

        // While the consumer was stuck, at most 64 KiB waited in the queue; what did not fit was dropped and counted.
        ((DatagramLogSource)source).PeakQueuedBytes.Should().BeInRange(1, options.MaxQueuedBytes);
        await stop.CancelAsync();
        await run;
        Interlocked.Read(ref handled).Should().Be(source.Counters.Lines);
    }

    [Fact]
    public async Task UdpSource_CancelledWhileDatagramsKeepComing_Stops()
    {
        await using ILogSource source = LogSources.FromDatagrams(new IPEndPoint(IPAddress.Loopback, 0), new DatagramSourceOptions());
        var endPoint = (IPEndPoint)((DatagramLogSource)source).LocalEndPoint;
        using var stop = new CancellationTokenSource();
        Task run = Task.Run(() => source.RunAsync(_ => Thread.Sleep(1), stop.Token)); // a consumer slower than the sender

        // The queue never runs empty while the sender runs: the source must still see the cancellation.
        using var sending = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        Task sender = Task.Run(() =>
        {
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            byte[] datagram = Encoding.ASCII.GetBytes("<134>Nov 26 15:01:04 haproxy[1]: steady");
            for (int i = 0; i < 5_000_000 && !sending.IsCancellationRequested; i++)
            {
                socket.SendTo(datagram, endPoint);
            }
        });

        await Poll.UntilAsync(() => source.Counters.Lines >= 20, TimeSpan.FromSeconds(10), "lines to arrive");
        await stop.CancelAsync();
        Task finished = await Task.WhenAny(run, Task.Delay(TimeSpan.FromSeconds(5)));
        await sending.CancelAsync();
        await sender;
        finished.Should().BeSameAs(run, "the source stops within seconds of the cancellation");
        await run;
    }

    [Fact]
    public async Task UnixDatagramSource_ReceivesLinesAndRemovesItsSocketFile()
    {
        using var dir = new TempDirectory();
        string path = dir.File("log.sock");
        var received = new List<string>();
        var source = LogSources.Create("unix@" + path, new System.IO.Abstractions.FileSystem(), TimeProvider.System);
        using var stop = new CancellationTokenSource();
        Task run = Task.Run(() => source.RunAsync(line => { lock (received) { received.Add(Encoding.ASCII.GetString(line)); } }, stop.Token));

        using var sender = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        sender.SendTo("<134>one\n"u8.ToArray(), new UnixDomainSocketEndPoint(path));
        sender.SendTo("<134>two"u8.ToArray(), new UnixDomainSocketEndPoint(path));
        await Poll.UntilAsync(() => { lock (received) { return received.Count == 2; } }, TimeSpan.FromSeconds(5), "two datagrams");

        await stop.CancelAsync();
        await run;
        await source.DisposeAsync();
        received.Should().Equal("<134>one", "<134>two");
        File.Exists(path).Should().BeFalse();
    }

    [Theory]
    [InlineData("udp@127.0.0.1:5140", null)]
    [InlineData("udp@[::1]:5140", null)]
    [InlineData("unix@/run/haproxy/log.sock", null)]
    [InlineData("/var/log/haproxy.log", null)]
    [InlineData("-", null)]
    [InlineData("udp@localhost:5140", "expected udp@HOST:PORT with a numeric address")]
    [InlineData("udp@127.0.0.1", "expected udp@HOST:PORT")]
    [InlineData("udp6@127.0.0.1:5140", "the address family does not match udp6@")]
    [InlineData("tls@127.0.0.1:5140", "unknown log source scheme 'tls@'")]
    [InlineData("", "empty log source address")]
    public void Validate_Addresses_ExplainsWhatIsWrong(string address, string? error)
    {
        string? actual = LogSources.Validate(address);
        if (error is null)
        {
            actual.Should().BeNull();
        }
        else
        {
            actual.Should().Contain(error);
        }
    }
}

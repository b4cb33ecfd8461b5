using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using HaproxyAutoscale.Logs;

namespace HaproxyAutoscale.Tests.Logs;

/// <summary>
/// The UDP source's two receive paths, batched (recvmmsg on Linux) and one datagram per call (elsewhere), over real
/// loopback datagrams: the same lines, the same senders checked, and a prompt stop.
/// </summary>
public sealed class DatagramReceiverTests
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task RunAsync_BothReceivePaths_EveryAllowedDatagramOnceOthersRejected(bool batch)
    {
        const int Datagrams = 2000;
        var options = new DatagramSourceOptions();
        options.AllowFrom.Clear();
        options.AllowFrom.Add(IPNetwork.Parse("127.0.0.1/32"));
        await using var source = new DatagramLogSource(new IPEndPoint(IPAddress.Loopback, 0), "udp@test", options) { BatchReceive = batch };
        var lines = new ConcurrentQueue<string>();
        using var stop = new CancellationTokenSource();
        Task running = source.RunAsync(line => lines.Enqueue(Encoding.ASCII.GetString(line)), stop.Token);

        using var friend = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        friend.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        using var stranger = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        stranger.Bind(new IPEndPoint(IPAddress.Parse("127.0.0.5"), 0));
        for (int i = 0; i < Datagrams; i++)
        {
            friend.SendTo(Encoding.ASCII.GetBytes($"<134>line {i}\n"), source.LocalEndPoint);
            if (i % 10 == 0)
            {
                stranger.SendTo("<134>fake"u8.ToArray(), source.LocalEndPoint);
            }

            if (i % 200 == 0)
            {
                await Poll.UntilAsync(() => lines.Count >= i, TimeSpan.FromSeconds(20), "the source to keep up"); // bounded: nothing in flight is dropped by the kernel
            }
        }

        await Poll.UntilAsync(() => lines.Count == Datagrams && source.Counters.Rejected == Datagrams / 10, TimeSpan.FromSeconds(20), "every datagram");
        lines.Should().OnlyHaveUniqueItems().And.Contain("<134>line 1999").And.NotContain("<134>fake");

        var stopping = Stopwatch.StartNew();
        await stop.CancelAsync();
        await running.WaitAsync(TimeSpan.FromSeconds(10));
        stopping.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(5), "the receive thread wakes within its receive timeout");
    }

    [Fact]
    public void Create_OnLinux_BatchesElsewhereOneByOne()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        using IDatagramReceiver batched = DatagramReceivers.Create(socket, 2048, withSender: true);
        using IDatagramReceiver single = DatagramReceivers.Create(socket, 2048, withSender: true, batch: false);
        batched.Should().BeOfType(OperatingSystem.IsLinux() ? typeof(RecvMmsgReceiver) : typeof(SocketReceiver));
        single.Should().BeOfType<SocketReceiver>();
    }
}

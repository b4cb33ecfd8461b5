using System.IO.Abstractions.TestingHelpers;
using System.Net;
using System.Net.Sockets;
using System.Text;
using HaproxyAutoscale.Logs;
using Microsoft.Extensions.Time.Testing;

namespace HaproxyAutoscale.Tests.Logs;

/// <summary>
/// The built-in sources say when a read's lines have all been delivered, before they wait for more: the reader holds
/// lines until then (a line held while the source waits would reach its backend only with the next traffic).
/// </summary>
public sealed class ReadEndTests
{
    private static readonly byte[] ThreeLines = "<134>1 - - - - - - one\n<134>1 - - - - - - two\n<134>1 - - - - - - three\n"u8.ToArray();

    [Fact]
    public async Task Tcp_LinesThenSilence_TheReadEndsAfterTheLastLine()
    {
        await using var source = (TcpLogSource)LogSources.FromTcp(new IPEndPoint(IPAddress.Loopback, 0));
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await AfterThreeLinesTheReadEndsAsync(source, () =>
        {
            socket.Connect(source.LocalEndPoint);
            socket.Send(ThreeLines);
        }, "the read to end after the three lines, the connection still open");
    }

    [Fact]
    public async Task Datagrams_LinesThenSilence_TheReadEndsAfterTheLastLine()
    {
        await using var source = (DatagramLogSource)LogSources.FromDatagrams(new IPEndPoint(IPAddress.Loopback, 0));
        using var sender = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        await AfterThreeLinesTheReadEndsAsync(source, () =>
        {
            foreach (string line in Encoding.ASCII.GetString(ThreeLines).Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                sender.SendTo(Encoding.ASCII.GetBytes(line), source.LocalEndPoint);
            }
        }, "the queue's last datagram to end the read before the source waits");
    }

    [Fact]
    public async Task FileTail_LinesThenSilence_TheReadEndsAfterTheLastLine()
    {
        var files = new MockFileSystem();
        files.AddFile("/var/log/haproxy.log", new MockFileData(ThreeLines));
        await using var source = (FileTailLogSource)LogSources.FromFile("/var/log/haproxy.log", files, new FakeTimeProvider(), new FileTailOptions { StartAtEnd = false });
        await AfterThreeLinesTheReadEndsAsync(source, () => { }, "the file read to its end before the source waits for it to grow");
    }

    [Fact]
    public async Task Stream_ToItsEnd_TheLastReadEndsAfterTheLastLine()
    {
        var source = (StreamLogSource)LogSources.FromStream(new MemoryStream([.. ThreeLines, .. "<134>1 - - - - - - unterminated"u8]));
        var ends = new ReadEnds();
        await source.RunAsync(ends.OnLine, ends.OnReadEnd, CancellationToken.None);

        ends.LinesAtLastEnd.Should().Be(4);
    }

    // Runs the source, sends three lines, and waits until a read ended with all three delivered.
    private static async Task AfterThreeLinesTheReadEndsAsync(IBatchingLogSource source, Action sendThreeLines, string because)
    {
        var ends = new ReadEnds();
        using var stop = new CancellationTokenSource();
        Task run = source.RunAsync(ends.OnLine, ends.OnReadEnd, stop.Token);
        sendThreeLines();
        await Poll.UntilAsync(() => ends.LinesAtLastEnd == 3, TimeSpan.FromSeconds(10), because);
        await stop.CancelAsync();
        await run;
    }

    // Counts lines and, at each read's end, how many had been delivered (both called on the source's delivering thread).
    private sealed class ReadEnds
    {
        private int _lines;
        private int _atLastEnd = -1;

        public int LinesAtLastEnd => Volatile.Read(ref _atLastEnd);

        public void OnLine(ReadOnlySpan<byte> line) => Volatile.Write(ref _lines, _lines + 1);

        public void OnReadEnd() => Volatile.Write(ref _atLastEnd, _lines);
    }
}

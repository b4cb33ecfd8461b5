using System.Buffers;
using System.Text;
using HaproxyAutoscale.Logs;

namespace HaproxyAutoscale.Tests.Logs;

/// <summary>RFC 6587 framing of a syslog TCP stream, fed the way a pipe delivers it: in pieces, across segments.</summary>
public sealed class SyslogFramerTests
{
    private const string Line1 = "<134>1 2026-11-27T12:27:09.124645+00:00 - haproxy 16430 - - 127.0.0.1:50662 [27/Nov/2026:12:27:09.124] fe app/a1 0/0/0/1/1 200 217 - - ---- 1/1/0/0/0 0/0 \"GET /x1 HTTP/1.1\"";
    private const string Line2 = "<134>1 2026-11-27T12:27:09.133712+00:00 - haproxy 16430 - - 127.0.0.1:50676 [27/Nov/2026:12:27:09.133] fe app/a2 0/0/0/2/2 200 217 - - ---- 1/1/0/0/0 0/0 \"GET /x2 HTTP/1.1\"";
    private const string Raw = "127.0.0.1:50662 [27/Nov/2026:12:27:09.124] fe app/a1 0/0/0/1/1 200 217 - - ---- 1/1/0/0/0 0/0 \"GET / HTTP/1.1\"";

    [Fact]
    public void Frame_OctetCountingInPiecesOfEverySize_SameMessages()
    {
        string stream = OctetCounted(Line1) + OctetCounted(Line2) + OctetCounted("short");
        for (int piece = 1; piece <= 40; piece++)
        {
            var framer = new SyslogFramer(4096);
            Feed(framer, stream, piece).Should().Equal([Line1, Line2, "short"], $"pieces of {piece} bytes");
            framer.Framing.Should().Be(SyslogFraming.OctetCounting);
            framer.Malformed.Should().BeNull();
        }
    }

    [Fact]
    public void Frame_LineFeedInPiecesOfEverySize_SameMessagesWithoutTerminators()
    {
        string stream = Line1 + "\n" + Line2 + "\r\n" + Raw + "\n";
        for (int piece = 1; piece <= 40; piece++)
        {
            var framer = new SyslogFramer(4096);
            Feed(framer, stream, piece).Should().Equal([Line1, Line2, Raw], $"pieces of {piece} bytes");
            framer.Framing.Should().Be(SyslogFraming.LineFeed);
        }
    }

    [Theory]
    [InlineData("174 <134>1 …", "OctetCounting")]
    [InlineData("<134>Nov 26 15:01:04 haproxy[1]: …", "LineFeed")]
    [InlineData("127.0.0.1:4242 [26/Nov/2026:15:01:04.676] …", "LineFeed")] // format raw starts with digits
    [InlineData("12", "Unknown")] // a length still arriving
    [InlineData("12345678901234", "LineFeed")] // more digits than any length
    [InlineData("0 <134>", "LineFeed")] // a length never starts with 0
    public void Detect_FirstBytes_Framing(string start, string expected) =>
        SyslogFramer.Detect(new ReadOnlySequence<byte>(Encoding.UTF8.GetBytes(start)), final: false).ToString().Should().Be(expected);

    [Fact]
    public void Frame_MessageSplitAcrossSegments_CopiedWhole()
    {
        byte[] bytes = Encoding.ASCII.GetBytes(OctetCounted(Line1) + OctetCounted(Line2));
        for (int cut = 1; cut < bytes.Length; cut += 7)
        {
            var framer = new SyslogFramer(4096);
            var sink = new Collect();
            SequencePosition consumed = framer.Frame(TwoSegments(bytes, cut), final: false, ref sink);
            sink.Messages.Should().Equal([Line1, Line2], $"cut at {cut}");
            TwoSegments(bytes, cut).Slice(consumed).Length.Should().Be(0);
        }

        byte[] lines = Encoding.ASCII.GetBytes(Line1 + "\n" + Line2 + "\n");
        var lineFramer = new SyslogFramer(4096);
        var lineSink = new Collect();
        lineFramer.Frame(TwoSegments(lines, 50), final: false, ref lineSink);
        lineSink.Messages.Should().Equal([Line1, Line2]);
    }

    [Fact]
    public void Frame_OversizedOctetCountedMessage_SkippedUnheldAndCounted()
    {
        string huge = new('x', 5000);
        var framer = new SyslogFramer(1000);
        Feed(framer, OctetCounted(Line1) + OctetCounted(huge) + OctetCounted("after"), 333).Should().Equal([Line1, "after"]);
        framer.Oversized.Should().Be(1);
    }

    [Fact]
    public void Frame_OversizedLine_SkippedToItsEndAndCounted()
    {
        string huge = "<134>" + new string('x', 5000);
        var framer = new SyslogFramer(1000);
        Feed(framer, "<134>before\n" + huge + "\n<134>after\n", 256).Should().Equal(["<134>before", "<134>after"]);
        framer.Oversized.Should().Be(1);
    }

    [Theory]
    [InlineData("12x <134>broken")]
    [InlineData("99999999999 <134>")]
    public void Frame_BadOctetCount_MalformedAndStops(string bad)
    {
        var framer = new SyslogFramer(4096);
        Feed(framer, OctetCounted("first") + bad + OctetCounted("never"), 1000).Should().Equal(["first"]);
        framer.Malformed.Should().NotBeNull();
    }

    [Fact]
    public void Frame_StreamEndsInsideAMessage_MalformedNotEmitted()
    {
        var framer = new SyslogFramer(4096);
        var sink = new Collect();
        framer.Frame(Sequence("5 ab"), final: true, ref sink);
        sink.Messages.Should().BeEmpty();
        framer.Malformed.Should().Contain("ended inside a message");
    }

    [Fact]
    public void Frame_LineFeedStreamEndsWithoutLf_LastLineEmitted()
    {
        var framer = new SyslogFramer(4096);
        var sink = new Collect();
        ReadOnlySequence<byte> stream = Sequence("<134>a\n<134>b");
        SequencePosition consumed = framer.Frame(stream, final: false, ref sink);
        sink.Messages.Should().Equal(["<134>a"]);
        framer.Frame(stream.Slice(consumed), final: true, ref sink);
        sink.Messages.Should().Equal(["<134>a", "<134>b"]);
    }

    private static string OctetCounted(string message) => $"{Encoding.UTF8.GetByteCount(message)} {message}";

    private static ReadOnlySequence<byte> Sequence(string text) => new(Encoding.UTF8.GetBytes(text));

    // Delivers the stream in pieces as a pipe would: the unconsumed rest stays in front of the next piece.
    private static List<string> Feed(SyslogFramer framer, string stream, int piece)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(stream);
        var sink = new Collect();
        byte[] pending = [];
        for (int offset = 0; offset < bytes.Length; offset += piece)
        {
            pending = [.. pending, .. bytes.AsSpan(offset, Math.Min(piece, bytes.Length - offset))];
            var buffer = new ReadOnlySequence<byte>(pending);
            SequencePosition consumed = framer.Frame(buffer, final: false, ref sink);
            pending = buffer.Slice(consumed).ToArray();
            if (framer.Malformed is not null)
            {
                break;
            }
        }

        return sink.Messages;
    }

    private static ReadOnlySequence<byte> TwoSegments(byte[] bytes, int cut)
    {
        var first = new Segment(bytes.AsMemory(0, cut), 0);
        var second = new Segment(bytes.AsMemory(cut), cut);
        first.SetNext(second);
        return new ReadOnlySequence<byte>(first, 0, second, second.Memory.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public void SetNext(Segment next) => Next = next;
    }

    private struct Collect : IMessageSink
    {
        public Collect()
        {
        }

        public List<string> Messages { get; } = [];

        public readonly void OnMessage(ReadOnlySpan<byte> message) => Messages.Add(Encoding.UTF8.GetString(message));
    }
}

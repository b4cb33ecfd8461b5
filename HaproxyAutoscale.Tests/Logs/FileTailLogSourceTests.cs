using System.Collections.Concurrent;
using System.IO.Abstractions;
using System.IO.Abstractions.TestingHelpers;
using System.Text;
using HaproxyAutoscale.Logs;
using Microsoft.Extensions.Time.Testing;

namespace HaproxyAutoscale.Tests.Logs;

public sealed class FileTailLogSourceTests
{
    private const string LogPath = "/var/log/haproxy.log";

    [Fact]
    public async Task RunAsync_StartAtEnd_SkipsHistoryAndReadsAppendedLines()
    {
        var fs = new MockFileSystem();
        fs.AddFile(LogPath, new MockFileData("old 1\nold 2\n"));
        await using var tail = new Tail(fs, new FileTailOptions());
        await tail.AdvanceUntilAsync(() => tail.IsFollowing && tail.Polls > 1);
        tail.Lines.Should().BeEmpty();

        fs.File.AppendAllText(LogPath, "new 1\nnew 2\npartial");
        await tail.AdvanceUntilAsync(() => tail.Lines.Count == 2);
        fs.File.AppendAllText(LogPath, " line\n");
        await tail.AdvanceUntilAsync(() => tail.Lines.Count == 3);

        tail.Lines.Should().Equal("new 1", "new 2", "partial line");
    }

    [Fact]
    public async Task StartAtEnd_LinesAppendedAfterTheSourceIsCreated_BeforeItRuns_AreRead()
    {
        // The file source opens the file when it is created (as a socket source binds): "start at end" is the end
        // at the daemon's start, not at its first read, which may come later.
        var fs = new MockFileSystem();
        fs.AddFile(LogPath, new MockFileData("old\n"));
        ILogSource source = LogSources.FromFile(LogPath, fs, new FakeTimeProvider(), new FileTailOptions());
        await using (source)
        {
            fs.File.AppendAllText(LogPath, "written before the first read\n");
            var lines = new ConcurrentQueue<string>();
            using var stop = new CancellationTokenSource();
            Task run = Task.Run(() => source.RunAsync(line => lines.Enqueue(Encoding.UTF8.GetString(line)), stop.Token));
            DateTime deadline = DateTime.UtcNow.AddSeconds(10);
            while (lines.IsEmpty && DateTime.UtcNow < deadline)
            {
                await Task.Delay(5);
            }

            await stop.CancelAsync();
            await run;
            lines.Should().Equal("written before the first read");
        }
    }

    [Fact]
    public async Task RunAsync_FromStart_ReadsExistingLines()
    {
        var fs = new MockFileSystem();
        fs.AddFile(LogPath, new MockFileData("a\r\nb\n"));
        await using var tail = new Tail(fs, new FileTailOptions { StartAtEnd = false });
        await tail.AdvanceUntilAsync(() => tail.Lines.Count == 2);
        tail.Lines.Should().Equal("a", "b");
    }

    [Fact]
    public async Task RunAsync_FileDoesNotExistYet_WaitsAndReadsItFromItsStart()
    {
        var fs = new MockFileSystem();
        fs.AddDirectory("/var/log");
        await using var tail = new Tail(fs, new FileTailOptions());
        await tail.AdvanceUntilAsync(() => tail.Polls > 2);

        fs.File.WriteAllText(LogPath, "first\n");
        await tail.AdvanceUntilAsync(() => tail.Lines.Count == 1);
        tail.Lines.Should().Equal("first");
    }

    [Fact]
    public async Task RunAsync_RenameAndCreate_ReadsOldFileToItsEndThenTheNewOne()
    {
        var fs = new MockFileSystem();
        fs.AddFile(LogPath, new MockFileData("history\n"));
        await using var tail = new Tail(fs, new FileTailOptions());
        await tail.AdvanceUntilAsync(() => tail.IsFollowing);
        fs.File.AppendAllText(LogPath, "a1\n");
        await tail.AdvanceUntilAsync(() => tail.Lines.Count == 1);

        // logrotate's default: rename, then create. (Writes into the renamed file through a handle still open are
        // not modelled by the mock file system; the real-file test below covers them.)
        fs.File.Move(LogPath, LogPath + ".1");
        fs.File.WriteAllText(LogPath, "b1\n");
        await tail.AdvanceUntilAsync(() => tail.Lines.Count == 2);
        fs.File.AppendAllText(LogPath, "b2\n");
        await tail.AdvanceUntilAsync(() => tail.Lines.Count == 3);

        tail.Lines.Should().Equal("a1", "b1", "b2");
    }

    [Fact]
    public async Task RunAsync_CopyTruncate_RestartsAtTheStartOfTheTruncatedFile()
    {
        var fs = new MockFileSystem();
        fs.AddFile(LogPath, new MockFileData(""));
        await using var tail = new Tail(fs, new FileTailOptions());
        await tail.AdvanceUntilAsync(() => tail.IsFollowing);
        fs.File.AppendAllText(LogPath, "a1 a fairly long line so the file is longer than what follows\n");
        await tail.AdvanceUntilAsync(() => tail.Lines.Count == 1);

        fs.File.Copy(LogPath, LogPath + ".1");
        fs.File.WriteAllText(LogPath, "");
        await tail.AdvanceUntilAsync(() => tail.Source is FileTailLogSource { Rotations: 1 });
        fs.File.AppendAllText(LogPath, "b1\n");
        await tail.AdvanceUntilAsync(() => tail.Lines.Count == 2);

        tail.Lines.Should().Equal("a1 a fairly long line so the file is longer than what follows", "b1");
    }

    [Fact]
    public async Task RunAsync_RealFilesRotatedByRename_LosesAndDuplicatesNothing()
    {
        using var dir = new TempDirectory();
        string path = dir.File("haproxy.log");
        await File.WriteAllTextAsync(path, "");
        await using var tail = new Tail(new FileSystem(), new FileTailOptions { PollInterval = TimeSpan.FromMilliseconds(10) }, path, TimeProvider.System);
        await Poll.UntilAsync(() => tail.IsFollowing, TimeSpan.FromSeconds(5), "the tail to open the file");

        var expected = new List<string>();
        for (int rotation = 0; rotation < 5; rotation++)
        {
            await using (var writer = new StreamWriter(new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete)))
            {
                for (int i = 0; i < 200; i++)
                {
                    string line = $"rotation {rotation} line {i}";
                    expected.Add(line);
                    await writer.WriteLineAsync(line);
                    if (i == 100)
                    {
                        await writer.FlushAsync();
                        File.Move(path, $"{path}.{rotation}"); // the writer keeps writing into the renamed file
                    }
                }
            }

            await File.WriteAllTextAsync(path, ""); // logrotate's "create"
            int rotations = rotation + 1;
            await Poll.UntilAsync(() => ((FileTailLogSource)tail.Source).Rotations == rotations, TimeSpan.FromSeconds(5), "the tail to follow the rotation");
        }

        // A marker written after everything else: once it is read, anything lost or read twice before it shows.
        await File.AppendAllTextAsync(path, "marker\n");
        expected.Add("marker");
        await Poll.UntilAsync(() => tail.Lines.Contains("marker"), TimeSpan.FromSeconds(10), "the marker line");
        tail.Lines.Should().Equal(expected);
    }

    /// <summary>Runs a tail in the background on a fake clock and collects its lines.</summary>
    /// <remarks>
    /// <see cref="MockFileSystem"/> is not safe to use from two threads: a stream opened while another thread appends
    /// can write its stale copy back when it is disposed, and a file moved while a stream opens it throws a
    /// <see cref="NullReferenceException"/> from inside the mock. So on the fake clock the test touches the files only
    /// while the tail is parked on its poll delay (it touches none until the clock moves), never while it reads.
    /// </remarks>
    private sealed class Tail : IAsyncDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly ConcurrentQueue<string> _lines = new();
        private readonly ParkingClock? _time;
        private readonly Task _run;

        public Tail(IFileSystem fs, FileTailOptions options, string path = LogPath, TimeProvider? time = null)
        {
            _time = time is null ? new ParkingClock() : null;
            Source = LogSources.FromFile(path, fs, time ?? _time!, options);
            _run = Task.Run(() => Source.RunAsync(
                line =>
                {
                    _lines.Enqueue(Encoding.UTF8.GetString(line));
                },
                _stop.Token));
        }

        public ILogSource Source { get; }

        public List<string> Lines => [.. _lines];

        /// <summary>Whether the tail has the file open.</summary>
        public bool IsFollowing => ((FileTailLogSource)Source).IsFollowing;

        /// <summary>How many poll intervals the fake clock was advanced.</summary>
        public int Polls { get; private set; }

        /// <summary>
        /// Moves the fake clock a poll at a time until <paramref name="condition"/> holds; returns with the tail parked
        /// on its next poll, so the test may change the files.
        /// </summary>
        public async Task AdvanceUntilAsync(Func<bool> condition)
        {
            DateTime deadline = DateTime.UtcNow.AddSeconds(10);
            await UntilParkedAsync(0, deadline);
            while (!condition())
            {
                int parks = _time!.Parks;
                _time.Advance(TimeSpan.FromMilliseconds(250));
                Polls++;
                await UntilParkedAsync(parks, deadline);
            }
        }

        private async Task UntilParkedAsync(int parksBefore, DateTime deadline)
        {
            while (_time!.Parks <= parksBefore)
            {
                if (_run.IsCompleted)
                {
                    await _run; // a tail that stopped by itself shows why
                }

                DateTime.UtcNow.Should().BeBefore(deadline, "the tail should have caught up");
                await Task.Delay(1);
            }
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            await _run;
            await Source.DisposeAsync();
        }
    }

    /// <summary>A fake clock that counts the timers started on it: the tail starts one each time it parks to poll.</summary>
    private sealed class ParkingClock : FakeTimeProvider
    {
        private int _parks;

        public int Parks => Volatile.Read(ref _parks);

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            ITimer timer = base.CreateTimer(callback, state, dueTime, period);
            Interlocked.Increment(ref _parks);
            return timer;
        }
    }
}

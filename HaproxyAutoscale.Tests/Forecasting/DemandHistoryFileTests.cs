using System.IO.Abstractions.TestingHelpers;
using HaproxyAutoscale.Forecasting;

namespace HaproxyAutoscale.Tests.Forecasting;

public sealed class DemandHistoryFileTests
{
    private const string Path = "/var/lib/haproxy-autoscale/demand/app.bin";
    private const long Now = 29_000_000; // Unix minutes (2025)
    private readonly MockFileSystem _fs = new();

    public DemandHistoryFileTests() => _fs.Directory.CreateDirectory("/var/lib/haproxy-autoscale/demand");

    [Fact]
    public void Read_WhatWasWritten_EveryMinuteBack()
    {
        DemandHistoryFile.Write(_fs, Path, [new(Now - 2, 3, 7.5), new(Now - 1, 4, null), new(Now, 2, 1)]);

        (DemandHistory history, int skipped) = DemandHistoryFile.Read(_fs, Path, Now);

        skipped.Should().Be(0);
        (history.At(Now - 2), history.At(Now - 1), history.At(Now), history.At(Now - 3)).Should().Be((3, 4, 2, (int?)null));
    }

    [Fact]
    public void Read_TornLastRecord_IsSkippedNotFatal()
    {
        DemandHistoryFile.Write(_fs, Path, [new(Now - 1, 3, null), new(Now, 5, null)]);
        byte[] bytes = _fs.File.ReadAllBytes(Path);
        _fs.File.WriteAllBytes(Path, bytes[..^3]); // a crash in the middle of the last record's write

        (DemandHistory history, int skipped) = DemandHistoryFile.Read(_fs, Path, Now);

        skipped.Should().Be(1);
        (history.At(Now - 1), history.At(Now)).Should().Be((3, (int?)null));
    }

    [Fact]
    public void Read_DamagedOrStaleRecords_AreSkipped()
    {
        DemandHistoryFile.Write(_fs, Path, [new(Now - 1, 3, null), new(Now, 5, null)]);
        byte[] bytes = _fs.File.ReadAllBytes(Path);
        int slot = DemandHistoryFile.HeaderSize + (DemandHistory.Slot(Now) * DemandHistoryFile.RecordSize);
        bytes[slot] ^= 0x5A; // its minute no longer matches its slot
        _fs.File.WriteAllBytes(Path, bytes);

        (DemandHistory history, int skipped) = DemandHistoryFile.Read(_fs, Path, Now);

        skipped.Should().Be(1);
        (history.At(Now - 1), history.At(Now)).Should().Be((3, (int?)null));
        DemandHistoryFile.Read(_fs, Path, Now + DemandHistory.Minutes).History.Count.Should().Be(0, "14 days later every record is stale");
    }

    [Fact]
    public void Read_AnotherFormat_StartsEmpty_AndTheNextWriteReplacesIt()
    {
        _fs.File.WriteAllText(Path, "not a history file");

        DemandHistoryFile.Read(_fs, Path, Now).History.Count.Should().Be(0);
        DemandHistoryFile.Write(_fs, Path, [new(Now, 2, null)]);
        DemandHistoryFile.Read(_fs, Path, Now).History.At(Now).Should().Be(2);
    }

    [Fact]
    public void Write_FifteenDaysOfMinutes_FileStaysBoundedAndKeepsTheLastFourteenDays()
    {
        const int Days = 15;
        long first = Now - (Days * 1440) + 1;
        for (long day = 0; day < Days; day++)
        {
            DemandHistoryFile.Write(_fs, Path, Enumerable.Range(0, 1440).Select(m => new DemandMinute(first + (day * 1440) + m, (int)(day + 1), null)));
        }

        _fs.FileInfo.New(Path).Length.Should().Be(DemandHistoryFile.MaxSize).And.Be(161_288);
        (DemandHistory history, int skipped) = DemandHistoryFile.Read(_fs, Path, Now);
        history.Count.Should().Be(DemandHistory.Minutes);
        skipped.Should().Be(0);
        history.At(Now).Should().Be(Days);
        history.At(Now - DemandHistory.Minutes + 1).Should().Be(2, "the oldest minute kept is the second day's");
    }

    [Fact]
    public void Add_AfterAGap_ForgetsTheSlotsOfFourteenDaysAgo()
    {
        var history = new DemandHistory();
        history.Add(Now - DemandHistory.Minutes + 5, 7); // 14 days ago, the slot of Now + 5
        history.Add(Now, 2);
        history.Add(Now + 10, 3); // the daemon was down for 10 minutes

        history.At(Now + 5).Should().BeNull("the slot held a minute of 14 days ago, not of now");
        (history.At(Now), history.At(Now + 10)).Should().Be(((int?)2, (int?)3));
    }

    [Fact]
    public void Store_PathOf_EscapesCharactersFileNamesDoNotTake()
    {
        var store = new DemandHistoryStore(_fs, "/state");

        store.PathOf("app:v2/x").Should().Be(_fs.Path.Combine("/state", "demand", "app%3Av2%2Fx.bin"));
        store.PathOf("..").Should().EndWith("%2E..bin");
    }

    [Fact]
    public void Store_Flush_AFailureIsReportedOncePerSpell()
    {
        var store = new DemandHistoryStore(_fs, "/state");
        _fs.Directory.CreateDirectory("/state/demand");
        var file = new MockFileData([]) { AllowedFileShare = FileShare.None }; // held by another process
        _fs.AddFile("/state/demand/app.bin", file);

        store.Enqueue("app", new DemandMinute(Now, 2, null));
        store.Flush().Should().Contain("app.bin");
        store.Enqueue("app", new DemandMinute(Now + 1, 2, null));
        store.Flush().Should().BeNull("the same spell of failures");

        file.AllowedFileShare = FileShare.ReadWrite;
        store.Enqueue("app", new DemandMinute(Now + 2, 2, null));
        store.Flush().Should().BeNull();
        store.Load("app", DateTimeOffset.FromUnixTimeSeconds((Now + 2) * 60)).History.At(Now + 2).Should().Be(2);
    }
}

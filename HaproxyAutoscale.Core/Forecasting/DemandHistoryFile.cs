using System.Buffers.Binary;
using System.IO.Abstractions;

namespace HaproxyAutoscale.Forecasting;

/// <summary>
/// A backend's demand history on disk: an 8-byte header (<c>HPAD</c>, version 1, record size 8) and a ring of 20,160
/// fixed 8-byte records, the record of minute <c>m</c> at slot <c>m mod 20160</c>: the minute (int32, Unix minutes),
/// the servers needed (uint16) and the mean in-flight (IEEE half). A write overwrites one aligned record in place
/// (no append, no compaction: the file never exceeds 161,288 bytes). Crash safety comes from the record checking
/// itself: a record is read only if its minute belongs to its slot and to the last 14 days, so a slot never written, a
/// record cut short by a crash (the file ends mid-record) or a stale one is skipped, never fatal. Records are not
/// fsynced one by one: a crash loses at most the minutes the OS had not written back yet.
/// </summary>
internal static class DemandHistoryFile
{
    public const int HeaderSize = 8;
    public const int RecordSize = 8;
    private const ushort Version = 1;
    private static readonly byte[] Magic = "HPAD"u8.ToArray();

    /// <summary>The file's largest size: the header and every slot written.</summary>
    public const long MaxSize = HeaderSize + ((long)DemandHistory.Minutes * RecordSize);

    /// <summary>
    /// The history in the file, as of <paramref name="nowMinute"/>: records older than 14 days, from the future, in the
    /// wrong slot or cut short are skipped. A missing file is an empty history; a file of another format is ignored
    /// (and overwritten by the next write).
    /// </summary>
    public static (DemandHistory History, int Skipped) Read(IFileSystem fileSystem, string path, long nowMinute)
    {
        var history = new DemandHistory();
        if (!fileSystem.File.Exists(path))
        {
            return (history, 0);
        }

        byte[] bytes = fileSystem.File.ReadAllBytes(path);
        if (!HasHeader(bytes))
        {
            return (history, bytes.Length > 0 ? 1 : 0);
        }

        // Two passes over the slots, no sort: the newest valid minute first, then every valid record into its slot.
        int skipped = (bytes.Length - HeaderSize) % RecordSize == 0 ? 0 : 1; // a torn last record
        int slots = Math.Min(DemandHistory.Minutes, (bytes.Length - HeaderSize) / RecordSize);
        long newest = long.MinValue;
        for (int slot = 0; slot < slots; slot++)
        {
            if (Valid(bytes, slot, nowMinute) is (long minute, _))
            {
                newest = Math.Max(newest, minute);
            }
        }

        if (newest != long.MinValue)
        {
            history.Add(newest, 0); // sets the ring's newest minute; its own record is set below
        }

        for (int slot = 0; slot < slots; slot++)
        {
            if (Valid(bytes, slot, nowMinute) is (long minute, int needed))
            {
                history.Add(minute, needed);
            }
            else if (!IsHole(bytes, slot))
            {
                skipped++;
            }
        }

        return (history, skipped);
    }

    // The record in the slot, if its minute belongs to the slot and to the 14 days up to now.
    private static (long Minute, int Needed)? Valid(byte[] bytes, int slot, long nowMinute)
    {
        ReadOnlySpan<byte> record = bytes.AsSpan(HeaderSize + (slot * RecordSize), RecordSize);
        int minute = BinaryPrimitives.ReadInt32LittleEndian(record);
        return minute > 0 && DemandHistory.Slot(minute) == slot && minute <= nowMinute && minute > nowMinute - DemandHistory.Minutes
            ? (minute, BinaryPrimitives.ReadUInt16LittleEndian(record[4..]))
            : null;
    }

    // A slot never written (a hole in the file).
    private static bool IsHole(byte[] bytes, int slot) =>
        BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(HeaderSize + (slot * RecordSize))) == 0 && BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(HeaderSize + (slot * RecordSize) + 4)) == 0;

    /// <summary>Writes <paramref name="minutes"/> into the file (created with its header when missing or of another format).</summary>
    public static void Write(IFileSystem fileSystem, string path, IEnumerable<DemandMinute> minutes)
    {
        using FileSystemStream stream = fileSystem.FileStream.New(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read);
        Span<byte> header = stackalloc byte[HeaderSize];
        if (stream.Length < HeaderSize || stream.Read(header) < HeaderSize || !HasHeader(header))
        {
            stream.SetLength(0);
            WriteHeader(header);
            stream.Write(header);
        }

        Span<byte> record = stackalloc byte[RecordSize];
        foreach (DemandMinute minute in minutes)
        {
            Encode(minute, record);
            stream.Seek(HeaderSize + ((long)DemandHistory.Slot(minute.Minute) * RecordSize), SeekOrigin.Begin);
            stream.Write(record);
        }
    }

    public static void Encode(DemandMinute minute, Span<byte> record)
    {
        BinaryPrimitives.WriteInt32LittleEndian(record, checked((int)minute.Minute));
        BinaryPrimitives.WriteUInt16LittleEndian(record[4..], (ushort)Math.Clamp(minute.Needed, 0, ushort.MaxValue - 1));
        BinaryPrimitives.WriteHalfLittleEndian(record[6..], minute.InFlight is { } inFlight ? (Half)Math.Min(inFlight, (double)Half.MaxValue) : Half.NaN);
    }

    public static void WriteHeader(Span<byte> header)
    {
        Magic.CopyTo(header);
        BinaryPrimitives.WriteUInt16LittleEndian(header[4..], Version);
        BinaryPrimitives.WriteUInt16LittleEndian(header[6..], RecordSize);
    }

    private static bool HasHeader(ReadOnlySpan<byte> bytes) =>
        bytes.Length >= HeaderSize && bytes[..4].SequenceEqual(Magic)
        && BinaryPrimitives.ReadUInt16LittleEndian(bytes[4..]) == Version && BinaryPrimitives.ReadUInt16LittleEndian(bytes[6..]) == RecordSize;
}

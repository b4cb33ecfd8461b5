using HaproxyAutoscale.Logs;
using Microsoft.Win32.SafeHandles;

namespace HaproxyAutoscale.Cli.LogFiles;

/// <summary>
/// Reads the lines of a whole file, or of a range of it, with plain blocking reads on the calling thread: for a file
/// read once from start to end (<c>analyze</c>, <c>replay</c>) this is as fast as the page cache gives it, with no hop
/// through the thread pool per block as async reads of a regular file would make.
/// </summary>
internal static class FileRangeReader
{
    /// <summary>Delivers the lines between <paramref name="start"/> and <paramref name="end"/> (or the end of the file).</summary>
    public static void Read(string path, long start, long end, LogLineHandler onLine, LogSourceCounters counters, CancellationToken cancellationToken) =>
        Read(path, start, end, new LineSplitter(LogSources.DefaultMaxLineLength, counters), onLine, cancellationToken);

    /// <summary>
    /// Delivers the lines between <paramref name="start"/> and <paramref name="end"/> through a splitter that reads
    /// several ranges in turn (one buffer for all of them); a range must begin at the start of a line.
    /// </summary>
    public static void Read(string path, long start, long end, LineSplitter splitter, LogLineHandler onLine, CancellationToken cancellationToken)
    {
        using SafeFileHandle file = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, FileOptions.SequentialScan);
        for (long offset = start; offset < end;)
        {
            cancellationToken.ThrowIfCancellationRequested();
            Span<byte> free = splitter.GetFreeSpace().Span;
            int read = RandomAccess.Read(file, free[..(int)Math.Min(free.Length, end - offset)], offset);
            if (read == 0)
            {
                break;
            }

            offset += read;
            splitter.Commit(read, onLine);
        }

        splitter.Flush(onLine);
    }
}

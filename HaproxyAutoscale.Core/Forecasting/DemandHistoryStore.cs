using System.Collections.Concurrent;
using System.IO.Abstractions;
using System.Text;

namespace HaproxyAutoscale.Forecasting;

/// <summary>
/// The demand histories in the state directory: one file per backend under <c>demand/</c> (<see cref="DemandHistoryFile"/>).
/// The evaluation pass hands completed minutes over (<see cref="Enqueue"/>, no I/O under a backend's lock) and writes
/// them once per pass (<see cref="Flush"/>); a backend's file is read the first time its forecast needs it.
/// </summary>
internal sealed class DemandHistoryStore(IFileSystem fileSystem, string directory)
{
    private readonly ConcurrentQueue<(string Backend, DemandMinute Minute)> _pending = new();
    private bool _failing;

    public string Directory { get; } = fileSystem.Path.Combine(directory, "demand");

    /// <summary>The file of <paramref name="backend"/>: its name with every character but letters, digits, <c>-</c>, <c>_</c> and <c>.</c> as <c>%XX</c>.</summary>
    public string PathOf(string backend)
    {
        var name = new StringBuilder(backend.Length + 4);
        foreach (byte b in Encoding.UTF8.GetBytes(backend))
        {
            char c = (char)b;
            if (char.IsAsciiLetterOrDigit(c) || c is '-' or '_' || (c == '.' && name.Length > 0))
            {
                name.Append(c);
            }
            else
            {
                name.Append('%').Append(b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
            }
        }

        return fileSystem.Path.Combine(Directory, name.Append(".bin").ToString());
    }

    /// <summary>Reads <paramref name="backend"/>'s history as of <paramref name="now"/> (empty when it has none, or cannot be read: the reason is returned).</summary>
    public (DemandHistory History, int Skipped, string? Error) Load(string backend, DateTimeOffset now)
    {
        try
        {
            (DemandHistory history, int skipped) = DemandHistoryFile.Read(fileSystem, PathOf(backend), DemandHistory.MinuteOf(now));
            return (history, skipped, null);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return (new DemandHistory(), 0, e.Message);
        }
    }

    /// <summary>A completed minute of <paramref name="backend"/>, written at the next <see cref="Flush"/>.</summary>
    public void Enqueue(string backend, DemandMinute minute) => _pending.Enqueue((backend, minute));

    /// <summary>
    /// Writes the minutes handed over since the last flush (the minutes a failure concerned are dropped); returns the
    /// first failure of a spell of failures, once (a flush that writes everything ends the spell), else <see langword="null"/>.
    /// </summary>
    public string? Flush()
    {
        if (_pending.IsEmpty)
        {
            return null;
        }

        string? error = Write();
        bool first = error is not null && !_failing;
        _failing = error is not null;
        return first ? error : null;
    }

    private string? Write()
    {
        var byBackend = new Dictionary<string, List<DemandMinute>>(StringComparer.Ordinal);
        while (_pending.TryDequeue(out (string Backend, DemandMinute Minute) item))
        {
            if (!byBackend.TryGetValue(item.Backend, out List<DemandMinute>? minutes))
            {
                byBackend[item.Backend] = minutes = [];
            }

            minutes.Add(item.Minute);
        }

        string? error = null;
        try
        {
            fileSystem.Directory.CreateDirectory(Directory);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return $"{Directory}: {e.Message}";
        }

        foreach ((string backend, List<DemandMinute> minutes) in byBackend)
        {
            try
            {
                DemandHistoryFile.Write(fileSystem, PathOf(backend), minutes);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                error ??= $"{PathOf(backend)}: {e.Message}";
            }
        }

        return error;
    }
}

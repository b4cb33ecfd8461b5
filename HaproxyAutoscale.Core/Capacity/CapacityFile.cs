using System.Globalization;
using System.Text;
using System.Text.Json;

namespace HaproxyAutoscale.Capacity;

/// <summary>
/// A backend's learned model in the state directory, <c>NAME.capacity.json</c>: the decayed tally it is fitted from
/// (so learning goes on after a restart) and the fitted figures (for a reader). Written crash-safe: a temporary file,
/// flushed to disk, renamed over the old one, so a crash leaves the old file or the new one, never half of one.
/// About 4 KB per backend.
/// </summary>
internal static class CapacityFile
{
    private const int Version = 1;

    // The tally's columns, as the file names them (in this order).
    private static readonly (string Name, int Index)[] Columns =
        [("counts", CapacityTally.CountsColumn), ("sums", CapacityTally.SumsColumn), ("queued", CapacityTally.QueuedColumn),
         ("alone", CapacityTally.AloneColumn), ("few", CapacityTally.FewColumn)];

    /// <summary>The file of <paramref name="backend"/> in <paramref name="directory"/> (characters a file name should not hold escaped as %XX).</summary>
    public static string PathOf(string directory, string backend)
    {
        var name = new StringBuilder(backend.Length);
        foreach (char c in backend)
        {
            name.Append(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c.ToString() : string.Create(CultureInfo.InvariantCulture, $"%{(int)c:X2}"));
        }

        return Path.Combine(directory, name + ".capacity.json");
    }

    /// <summary>Writes the tally and model (copies taken under the backend's lock) crash-safe.</summary>
    public static void Save(string path, string backend, CapacityTally tally, LearnedCapacity? model, DateTimeOffset now)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteNumber("version", Version);
            json.WriteString("backend", backend);
            json.WriteString("saved", now);
            if (model is not null)
            {
                json.WriteNumber("workers", Math.Round(model.Workers, 3));
                json.WriteNumber("serviceMeanMs", Math.Round(model.ServiceMeanMs, 2));
                json.WriteNumber("serviceP95Ms", Math.Round(model.ServiceP95Ms, 2));
                json.WriteBoolean("confident", model.Confident);
            }

            json.WriteStartObject("tally");
            Span<float> values = stackalloc float[CapacityTally.Buckets];
            foreach ((string name, int index) in Columns)
            {
                Span<float> column = values[..CapacityTally.ColumnLength(index)];
                tally.CopyColumn(index, column);
                Write(json, name, column);
            }

            json.WriteEndObject();
            json.WriteEndObject();
        }

        string temporary = path + ".tmp";
        using (var file = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            buffer.Position = 0;
            buffer.CopyTo(file);
            file.Flush(flushToDisk: true);
        }

        File.Move(temporary, path, overwrite: true);
    }

    /// <summary>
    /// The tally saved in <paramref name="path"/>, or <see langword="null"/> when there is none; a file that cannot be
    /// read is <see langword="null"/> with the reason in <paramref name="problem"/> (the backend then starts blind).
    /// </summary>
    public static CapacityTally? Load(string path, out string? problem)
    {
        problem = null;
        if (!File.Exists(path))
        {
            return null;
        }

        try
        {
            using JsonDocument document = JsonDocument.Parse(File.ReadAllBytes(path));
            JsonElement root = document.RootElement;
            if (root.GetProperty("version").GetInt32() != Version)
            {
                problem = "written by another version";
                return null;
            }

            JsonElement saved = root.GetProperty("tally");
            var tally = new CapacityTally();
            Span<float> values = stackalloc float[CapacityTally.Buckets];
            foreach ((string name, int index) in Columns)
            {
                Span<float> column = values[..CapacityTally.ColumnLength(index)];
                Read(saved, name, column);
                tally.SetColumn(index, column);
            }

            return tally;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            problem = e.Message;
            return null;
        }
    }

    private static void Write(Utf8JsonWriter json, string name, ReadOnlySpan<float> values)
    {
        json.WriteStartArray(name);
        foreach (float value in values)
        {
            json.WriteNumberValue(value); // round-trips: the restored model is the saved one
        }

        json.WriteEndArray();
    }

    private static void Read(JsonElement tally, string name, Span<float> into)
    {
        JsonElement values = tally.GetProperty(name);
        if (values.GetArrayLength() != into.Length)
        {
            throw new FormatException($"'{name}' has {values.GetArrayLength()} values, {into.Length} expected");
        }

        int i = 0;
        foreach (JsonElement value in values.EnumerateArray())
        {
            float number = value.GetSingle();
            into[i++] = float.IsFinite(number) && number >= 0 ? number : throw new FormatException($"'{name}' holds {number}");
        }
    }
}

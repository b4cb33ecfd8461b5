using System.Text.Encodings.Web;
using System.Text.Json;

namespace HaproxyAutoscale.Cli;

/// <summary>Settings shared by every command's JSON output.</summary>
internal static class JsonOutput
{
    /// <summary>Names like <c>&lt;NOSRV&gt;</c> print as-is: the output is data for tools, not HTML.</summary>
    public static readonly JsonWriterOptions Options = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Writes one JSON value with <paramref name="write"/> and returns it as text.</summary>
    public static string Write(Action<Utf8JsonWriter> write)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, Options))
        {
            write(writer);
        }

        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }
}

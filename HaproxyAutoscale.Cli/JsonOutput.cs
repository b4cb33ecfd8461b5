using System.Text.Encodings.Web;
using System.Text.Json;

namespace HaproxyAutoscale.Cli;

/// <summary>Settings shared by every command's JSON output.</summary>
internal static class JsonOutput
{
    /// <summary>Names like <c>&lt;NOSRV&gt;</c> print as-is: the output is data for tools, not HTML.</summary>
    public static readonly JsonWriterOptions Options = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
}

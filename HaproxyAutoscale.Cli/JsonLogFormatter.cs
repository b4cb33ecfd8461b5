using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Console;

namespace HaproxyAutoscale.Cli;

/// <summary>
/// <c>--log-format json</c>: one JSON object per line, stamped in UTC ISO 8601 (<c>2026-12-06T09:21:15.776Z</c>)
/// whatever <c>TZ</c> says, with the keys of the console's own JSON format (Timestamp, EventId, LogLevel, Category,
/// Message, Exception, State). Under journald (<c>syslogPriorityPrefix</c>) each line
/// starts with its syslog priority (<c>&lt;4&gt;{…}</c>), which journald strips and keeps as the entry's PRIORITY.
/// </summary>
internal sealed class JsonLogFormatter(bool syslogPriorityPrefix) : ConsoleFormatter(FormatterName)
{
    public const string FormatterName = "haproxy-autoscale-json";

    private const string UtcFormat = "yyyy-MM-dd'T'HH:mm:ss.fff'Z'";

    public override void Write<TState>(in LogEntry<TState> logEntry, IExternalScopeProvider? scopeProvider, TextWriter textWriter)
    {
        string message = logEntry.Formatter(logEntry.State, logEntry.Exception);
        if (logEntry.Exception is null && string.IsNullOrEmpty(message))
        {
            return;
        }

        var buffer = new ArrayBufferWriter<byte>(256);
        // Relaxed escaping: a log line is not HTML, so quotes and apostrophes stay readable.
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            json.WriteString("Timestamp", DateTime.UtcNow.ToString(UtcFormat, CultureInfo.InvariantCulture));
            json.WriteNumber("EventId", logEntry.EventId.Id);
            json.WriteString("LogLevel", logEntry.LogLevel.ToString());
            json.WriteString("Category", logEntry.Category);
            json.WriteString("Message", message);
            if (logEntry.Exception is not null)
            {
                json.WriteString("Exception", logEntry.Exception.ToString());
            }

            if (logEntry.State is IReadOnlyList<KeyValuePair<string, object?>> values)
            {
                json.WriteStartObject("State");
                foreach ((string key, object? value) in values)
                {
                    WriteValue(json, key, value);
                }

                json.WriteEndObject();
            }

            json.WriteEndObject();
        }

        if (syslogPriorityPrefix)
        {
            textWriter.Write(SyslogPriority(logEntry.LogLevel));
        }

        textWriter.Write(Encoding.UTF8.GetString(buffer.WrittenSpan));
        textWriter.Write(Environment.NewLine);
    }

    /// <summary>The <c>&lt;N&gt;</c> prefix journald reads as the line's priority (sd-daemon.h levels).</summary>
    public static string SyslogPriority(LogLevel level) => level switch
    {
        LogLevel.Critical => "<2>",
        LogLevel.Error => "<3>",
        LogLevel.Warning => "<4>",
        LogLevel.Information => "<6>",
        _ => "<7>",
    };

    private static void WriteValue(Utf8JsonWriter json, string key, object? value)
    {
        switch (value)
        {
            case null:
                json.WriteNull(key);
                break;
            case bool flag:
                json.WriteBoolean(key, flag);
                break;
            case int or long or short or byte or uint or ulong or ushort or sbyte:
                json.WriteNumber(key, Convert.ToInt64(value, CultureInfo.InvariantCulture));
                break;
            case double or float or decimal:
                json.WriteNumber(key, Convert.ToDouble(value, CultureInfo.InvariantCulture));
                break;
            case DateTimeOffset at:
                json.WriteString(key, at.UtcDateTime.ToString(UtcFormat, CultureInfo.InvariantCulture));
                break;
            default:
                json.WriteString(key, Convert.ToString(value, CultureInfo.InvariantCulture));
                break;
        }
    }
}

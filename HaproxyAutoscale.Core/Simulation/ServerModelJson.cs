using System.Text.Encodings.Web;
using System.Text.Json;

namespace HaproxyAutoscale.Simulation;

/// <summary>
/// A <see cref="ServerModel"/> as JSON, the file <c>simulate --fit</c> prints and <c>simulate --model</c> reads:
/// <c>{"backends": [{"backend": "app", "serviceTimeQuantilesMs": [101 numbers], "workers": 4.2, "maxConn": 32,
/// "coldStartMs": 1000, "idleToColdS": 300, "fittedRequests": 123456}]}</c>. Keys are case-insensitive; only
/// <c>backend</c> and <c>serviceTimeQuantilesMs</c> are required, the others have <see cref="BackendModel"/>'s defaults.
/// </summary>
internal static class ServerModelJson
{
    /// <summary>How many quantiles a backend's service time has: p0 to p100.</summary>
    public const int QuantileCount = 101;

    /// <summary>Writes <paramref name="model"/> as one indented JSON object.</summary>
    public static string Write(ServerModel model)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            Write(writer, model);
        }

        return System.Text.Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    /// <summary>Writes <paramref name="model"/> as one JSON object to <paramref name="writer"/>.</summary>
    public static void Write(Utf8JsonWriter writer, ServerModel model)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(model);
        writer.WriteStartObject();
        writer.WriteStartArray("backends");
        foreach (BackendModel backend in model.Backends)
        {
            writer.WriteStartObject();
            writer.WriteString("backend", backend.Backend);
            writer.WriteStartArray("serviceTimeQuantilesMs");
            foreach (double quantile in backend.ServiceTimeQuantilesMs)
            {
                writer.WriteNumberValue(quantile);
            }

            writer.WriteEndArray();
            writer.WriteNumber("workers", backend.Workers);
            if (backend.MaxConn is int maxConn)
            {
                writer.WriteNumber("maxConn", maxConn);
            }
            else
            {
                writer.WriteNull("maxConn");
            }

            writer.WriteNumber("coldStartMs", backend.ColdStartMs);
            writer.WriteNumber("idleToColdS", backend.IdleToColdS);
            writer.WriteNumber("fittedRequests", backend.FittedRequests);
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    /// <summary>Reads a model written by <see cref="Write(ServerModel)"/> or by hand (comments and trailing commas allowed).</summary>
    /// <exception cref="ServerModelFormatException">The text is no valid model; every problem is listed with its path.</exception>
    public static ServerModel Read(string json) => ServerModelJsonReader.Read(json);
}

using System.Globalization;
using System.Text.Json;
using HaproxyAutoscale.Simulation;

namespace HaproxyAutoscale.Cli.Commands;

/// <summary>
/// The scale-to-zero figures of <c>simulate</c> and <c>tune</c>: extra table columns and a <c>scaleToZero</c> JSON
/// object, only for backends that may go to zero (the output of every other configuration is unchanged).
/// </summary>
internal static class SimulateZeroOutput
{
    /// <summary>Whether any result has scale-to-zero figures (then the table gets their columns).</summary>
    public static bool Any(IEnumerable<BackendSimulation> results) => results.Any(r => r.ScaleToZero is not null);

    /// <summary>The simulate table's extra headers.</summary>
    public static string[] Headers => ["HOLDS", "HOLD WAIT p50/p95/max", "HOLD 503", "WAKES", "WAKE-TO-READY", "ZERO-S"];

    /// <summary>The simulate table's extra cells for <paramref name="result"/> (dashes for a backend that cannot go to zero).</summary>
    public static string[] Cells(BackendSimulation result) => result.ScaleToZero is not { } zero
        ? [.. Headers.Select(_ => "-")]
        :
        [
            zero.Held.ToString(CultureInfo.InvariantCulture), $"{Ms(zero.HeldP50Ms)}/{Ms(zero.HeldP95Ms)}/{Ms(zero.HeldMaxMs)}",
            zero.PastDeadline.ToString(CultureInfo.InvariantCulture), zero.Wakes.ToString(CultureInfo.InvariantCulture), Ms(zero.WakeToReadyP50Ms),
            zero.ZeroSeconds.ToString("0", CultureInfo.InvariantCulture),
        ];

    /// <summary>The tune table's extra headers.</summary>
    public static string[] TuneHeaders => ["HOLD WAIT p95", "HOLD 503", "ZERO-S"];

    /// <summary>The tune table's extra cells.</summary>
    public static string[] TuneCells(BackendSimulation result) => result.ScaleToZero is not { } zero
        ? [.. TuneHeaders.Select(_ => "-")]
        : [Ms(zero.HeldP95Ms), zero.PastDeadline.ToString(CultureInfo.InvariantCulture), zero.ZeroSeconds.ToString("0", CultureInfo.InvariantCulture)];

    /// <summary>Writes <c>"scaleToZero": {…}</c> into the result's object, for a backend that may go to zero.</summary>
    public static void Write(Utf8JsonWriter writer, BackendSimulation result)
    {
        if (result.ScaleToZero is not { } zero)
        {
            return;
        }

        writer.WriteStartObject("scaleToZero");
        writer.WriteNumber("held", zero.Held);
        SimulationOutput.WriteNullable(writer, "heldP50Ms", zero.HeldP50Ms);
        SimulationOutput.WriteNullable(writer, "heldP95Ms", zero.HeldP95Ms);
        SimulationOutput.WriteNullable(writer, "heldMaxMs", zero.HeldMaxMs);
        writer.WriteNumber("pastDeadline", zero.PastDeadline);
        writer.WriteNumber("wakes", zero.Wakes);
        SimulationOutput.WriteNullable(writer, "wakeToReadyP50Ms", zero.WakeToReadyP50Ms);
        writer.WriteNumber("zeroSeconds", Math.Round(zero.ZeroSeconds, 1));
        writer.WriteEndObject();
    }

    private static string Ms(int? value) => value is { } v ? $"{v} ms" : "-";
}

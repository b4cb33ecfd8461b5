using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using HaproxyAutoscale.Cli.Analysis;
using HaproxyAutoscale.Cli.LogFiles;

namespace HaproxyAutoscale.Cli.Commands;

/// <summary><c>analyze FILE…|-</c>: per backend/server request statistics of logs, as a table or JSON.</summary>
internal static class AnalyzeCommand
{
    private static readonly (string Name, double Percent)[] Percentiles = [("p50", 50), ("p95", 95), ("p99", 99)];

    public static Command Create(CliConsole console)
    {
        var files = new Argument<string[]>("FILE")
        {
            Description = "The log files to analyze, as one log (plain or gzip files, pipes, FIFOs), or - for standard input.",
            Arity = ArgumentArity.OneOrMore,
        };
        var json = new Option<bool>("--json") { Description = "Print one JSON object instead of a table." };
        var backend = new Option<string?>("--backend") { Description = "Only report this backend." };
        var command = new Command("analyze", "Per backend/server statistics of HAProxy log files (plain, gzip, pipes) as one log: requests, status classes, timers.")
        {
            files, json, backend,
        };
        command.SetAction((parseResult, cancellationToken) => RunAsync(
            console, parseResult.GetRequiredValue(files), parseResult.GetValue(json), parseResult.GetValue(backend), cancellationToken));
        return command;
    }

    private static async Task<int> RunAsync(CliConsole console, string[] paths, bool json, string? backend, CancellationToken cancellationToken)
    {
        // Every path is checked before anything is read: a typo fails at once, not after minutes of a big log.
        List<LogInput> inputs;
        try
        {
            inputs = LogInput.OpenAll(paths, Console.OpenStandardInput);
        }
        catch (LogInputException e)
        {
            return console.Fail(e.Message);
        }

        LogAnalyzer analyzer;
        try
        {
            analyzer = await LogFileAnalysis.AnalyzeAsync(inputs, Environment.ProcessorCount, cancellationToken).ConfigureAwait(false);
        }
        catch (LogInputException e)
        {
            return console.Fail(e.Message);
        }
        finally
        {
            inputs.ForEach(input => input.Dispose());
        }

        List<ServerStatistics> servers = [.. analyzer.Servers
            .Where(s => backend is null || s.Backend == backend)
            .OrderBy(s => s.Backend, StringComparer.Ordinal)
            .ThenBy(s => s.Server, StringComparer.Ordinal)];
        if (json)
        {
            WriteJson(console.Out, analyzer, servers);
        }
        else
        {
            WriteTable(console.Out, analyzer, servers);
        }

        return ExitCodes.Success;
    }

    private static void WriteJson(TextWriter output, LogAnalyzer analyzer, List<ServerStatistics> servers)
    {
        output.WriteLine(JsonOutput.Write(writer =>
        {
            writer.WriteStartObject();
            writer.WriteNumber("lines", analyzer.Lines);
            writer.WriteNumber("parsed", analyzer.Parsed);
            writer.WriteNumber("unparsed", analyzer.Unparsed);
            writer.WriteStartArray("servers");
            foreach (ServerStatistics server in servers)
            {
                writer.WriteStartObject();
                writer.WriteString("backend", server.Backend);
                writer.WriteString("server", server.Server);
                writer.WriteNumber("requests", server.Requests);
                writer.WriteStartObject("status");
                string[] classes = ["1xx", "2xx", "3xx", "4xx", "5xx", "other"];
                for (int i = 0; i < classes.Length; i++)
                {
                    writer.WriteNumber(classes[i], server.StatusClasses[i]);
                }

                writer.WriteEndObject();
                WriteTimer(writer, "tr", server.Tr);
                WriteTimer(writer, "tw", server.Tw);
                WriteTimer(writer, "tc", server.Tc);
                WriteTimer(writer, "ta", server.Ta);
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }));
    }

    private static void WriteTimer(Utf8JsonWriter writer, string name, TimerStatistics timer)
    {
        writer.WriteStartObject(name);
        writer.WriteNumber("count", timer.Count);
        if (timer.Count == 0)
        {
            // No sample: say so rather than report a latency of 0.
            writer.WriteNull("mean");
            foreach ((string label, _) in Percentiles)
            {
                writer.WriteNull(label);
            }

            writer.WriteNull("max");
        }
        else
        {
            writer.WriteNumber("mean", Math.Round(timer.Mean, 3, MidpointRounding.ToZero));
            foreach ((string label, double percent) in Percentiles)
            {
                writer.WriteNumber(label, timer.Percentile(percent));
            }

            writer.WriteNumber("max", timer.Max);
        }

        writer.WriteEndObject();
    }

    private static void WriteTable(TextWriter output, LogAnalyzer analyzer, List<ServerStatistics> servers)
    {
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{analyzer.Lines} lines, {analyzer.Parsed} parsed, {analyzer.Unparsed} not parsed"));
        string[] header = ["BACKEND", "SERVER", "REQUESTS", "2XX", "3XX", "4XX", "5XX", "OTHER", "TR_MEAN", "TR_P50", "TR_P95", "TR_P99", "TR_MAX", "TW_MEAN", "TC_MEAN", "TA_MEAN"];
        List<string[]> rows = [header];
        foreach (ServerStatistics s in servers)
        {
            long[] st = s.StatusClasses;
            rows.Add([
                s.Backend, s.Server, Format(s.Requests), Format(st[1]), Format(st[2]), Format(st[3]), Format(st[4]), Format(st[0] + st[5]),
                Mean(s.Tr), Percentile(s.Tr, 50), Percentile(s.Tr, 95), Percentile(s.Tr, 99), s.Tr.Count == 0 ? "-" : Format(s.Tr.Max),
                Mean(s.Tw), Mean(s.Tc), Mean(s.Ta),
            ]);
        }

        TableWriter.Write(output, rows);

        static string Format(long value) => value.ToString(CultureInfo.InvariantCulture);

        static string Percentile(TimerStatistics timer, double percent) => timer.Count == 0 ? "-" : Format(timer.Percentile(percent));

        static string Mean(TimerStatistics timer) => timer.Count == 0 ? "-" : timer.Mean.ToString("0.0", CultureInfo.InvariantCulture);
    }
}

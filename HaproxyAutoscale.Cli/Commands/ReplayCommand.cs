using System.CommandLine;
using System.Globalization;
using HaproxyAutoscale.Cli.LogFiles;
using HaproxyAutoscale.Configuration;
using HaproxyAutoscale.Policies;
using HaproxyAutoscale.Replay;

namespace HaproxyAutoscale.Cli.Commands;

/// <summary><c>replay FILE… --config FILE</c>: what the configured policies would have done over a log.</summary>
internal static class ReplayCommand
{
    public static Command Create(CliConsole console)
    {
        var files = new Argument<string[]>("FILE")
        {
            Description = "The log files to replay as one log (plain or gzip files, pipes, FIFOs; files in order of their first line's date), or - for standard input.",
            Arity = ArgumentArity.OneOrMore,
        };
        var config = new Option<string>("--config") { Description = "The autoscaler configuration (JSON).", Required = true };
        var json = new Option<bool>("--json") { Description = "One JSON object per decision per line, then a {\"summary\": …} line." };
        var command = new Command("replay", "Run the configured windows and policies over a log, the clock driven by the log's own timestamps; nothing is sent to HAProxy.")
        {
            files, config, json,
        };
        command.SetAction((parseResult, cancellationToken) => RunAsync(
            console, parseResult.GetRequiredValue(files), parseResult.GetRequiredValue(config), parseResult.GetValue(json), cancellationToken));
        return command;
    }

    private static async Task<int> RunAsync(CliConsole console, string[] paths, string configPath, bool json, CancellationToken cancellationToken)
    {
        (AutoscaleOptions? options, int exitCode) = await ConfigFile.LoadAsync(console, configPath, cancellationToken).ConfigureAwait(false);
        if (options is null)
        {
            return exitCode;
        }

        // Every path is checked before the first decision is printed.
        List<LogInput> inputs;
        try
        {
            inputs = LogInput.OpenAll(paths, Console.OpenStandardInput);
        }
        catch (LogInputException e)
        {
            return console.Fail(e.Message);
        }

        TextWriter output = console.Out;
        var runner = new ReplayRunner(options, new ScalingPolicyRegistry(), decision =>
        {
            output.WriteLine(json ? DecisionJson(decision) : DecisionText(decision));
        });

        try
        {
            foreach (LogInput input in InLogOrder(inputs))
            {
                await input.ReadAsync(runner.OnLine, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (LogInputException e)
        {
            return console.Fail(e.Message);
        }
        finally
        {
            inputs.ForEach(input => input.Dispose());
        }

        runner.Finish();
        await output.WriteLineAsync(json ? SummaryJson(runner) : SummaryText(runner)).ConfigureAwait(false);
        return ExitCodes.Success;
    }

    // The clock only goes forward, so the files must be replayed oldest first, while a shell glob (haproxy.log*) lists
    // them newest first. Files are ordered by their first accept date (one look at their first lines); streams can
    // be read only once, so with any stream among the inputs the order given is kept.
    private static IEnumerable<LogInput> InLogOrder(List<LogInput> inputs)
    {
        if (inputs.Count < 2 || inputs.Any(input => input.Kind == LogInputKind.Stream))
        {
            return inputs;
        }

        // A file with no request line in its start holds nothing to replay: it can go anywhere, first is as good.
        return inputs.Select(input => (Input: input, First: input.PeekFirstAcceptDate() ?? DateTime.MinValue))
            .OrderBy(x => x.First)
            .Select(x => x.Input)
            .ToList();
    }

    private static string Time(DateTime time) => time.ToString("yyyy-MM-dd'T'HH:mm:ss.fff", CultureInfo.InvariantCulture);

    private static string Action(ScalingAction action) => action == ScalingAction.Up ? "up" : "down";

    private static string DecisionText(ReplayDecision d) => string.Create(
        CultureInfo.InvariantCulture,
        $"{Time(d.Time)}  {d.Backend}  {Action(d.Action),-4}  {d.Server}  {d.Reason}{(d.Value is { } v ? $" (window {v:0.#} ms)" : "")}");

    private static string DecisionJson(ReplayDecision d) => JsonOutput.Write(writer =>
    {
        writer.WriteStartObject();
        writer.WriteString("time", Time(d.Time));
        writer.WriteString("backend", d.Backend);
        writer.WriteString("action", Action(d.Action));
        writer.WriteString("server", d.Server);
        writer.WriteString("reason", d.Reason);
        if (d.Value is { } value)
        {
            writer.WriteNumber("value", Math.Round(value, 3));
        }
        else
        {
            writer.WriteNull("value");
        }

        writer.WriteEndObject();
    });

    private static string SummaryText(ReplayRunner runner)
    {
        var text = new StringWriter(CultureInfo.InvariantCulture);
        text.Write($"summary: {runner.Lines} lines, {runner.Parsed} parsed");
        if (runner.Start is { } start && runner.End is { } end)
        {
            text.Write($", log time {Time(start.UtcDateTime)} to {Time(end.UtcDateTime)} ({Durations.Format(end - start)})");
        }

        foreach (ReplayBackendSummary b in runner.Summaries)
        {
            text.WriteLine();
            text.Write($"  {b.Backend}: {b.Ups} up, {b.Downs} down");
            if (b.ObjectiveMs is { } threshold)
            {
                text.Write($"; window above {threshold:0.#} ms for {Durations.Format(b.AboveObjective)}");
            }

            text.Write("; enabled: " + string.Join(", ", b.EnabledTime.Select(e => $"{e.Key} {Durations.Format(e.Value)}")));
            if (b.HeldBy.Count > 0)
            {
                text.Write("; held back: " + string.Join(", ", b.HeldBy.Select(h => $"{h.Key} {h.Value}×")));
            }
        }

        return text.ToString();
    }

    private static string SummaryJson(ReplayRunner runner) => JsonOutput.Write(writer =>
    {
        writer.WriteStartObject();
        writer.WriteStartObject("summary");
        writer.WriteNumber("lines", runner.Lines);
        writer.WriteNumber("parsed", runner.Parsed);
        writer.WriteString("start", runner.Start is { } start ? Time(start.UtcDateTime) : null);
        writer.WriteString("end", runner.End is { } end ? Time(end.UtcDateTime) : null);
        writer.WriteStartArray("backends");
        foreach (ReplayBackendSummary b in runner.Summaries)
        {
            writer.WriteStartObject();
            writer.WriteString("backend", b.Backend);
            writer.WriteNumber("ups", b.Ups);
            writer.WriteNumber("downs", b.Downs);
            if (b.ObjectiveMs is { } threshold)
            {
                writer.WriteNumber("thresholdMs", threshold);
                writer.WriteNumber("aboveThresholdSeconds", b.AboveObjective.TotalSeconds);
            }

            writer.WriteStartObject("enabledSeconds");
            foreach ((string server, TimeSpan time) in b.EnabledTime)
            {
                writer.WriteNumber(server, Math.Round(time.TotalSeconds, 3));
            }

            writer.WriteEndObject();
            writer.WriteStartObject("heldBy"); // evaluations whose decision a rule of the engine held back, per gate
            foreach ((string gate, int count) in b.HeldBy)
            {
                writer.WriteNumber(gate, count);
            }

            writer.WriteEndObject();
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
        writer.WriteEndObject();
    });
}

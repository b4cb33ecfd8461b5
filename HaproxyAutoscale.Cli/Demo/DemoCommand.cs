using System.CommandLine;
using HaproxyAutoscale.Configuration;

namespace HaproxyAutoscale.Cli.Demo;

/// <summary><c>demo [--duration 60s]</c>: see the autoscaler work against a real local HAProxy, nothing to set up.</summary>
internal static class DemoCommand
{
    public static Command Create(CliConsole console)
    {
        var duration = new Option<string>("--duration") { Description = "How long the demo runs (e.g. 60s, 2m).", DefaultValueFactory = _ => "60s" };
        var command = new Command("demo", "Start a local HAProxy, lazily started apps, a load ramp and the autoscaler; show what gets scaled and when.") { duration };
        command.SetAction((parseResult, cancellationToken) =>
        {
            string text = parseResult.GetValue(duration) ?? "60s";
            if (!Durations.TryParse(text, out TimeSpan length) || length < TimeSpan.FromSeconds(10) || length > TimeSpan.FromHours(1))
            {
                return Task.FromResult(console.Fail($"--duration: '{text}' is not a duration from 10s to 1h", ExitCodes.Usage));
            }

            return new DemoRunner(console.Out, length).RunAsync(cancellationToken);
        });
        return command;
    }
}

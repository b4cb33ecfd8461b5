using System.CommandLine;
using System.Globalization;
using HaproxyAutoscale.Configuration;

namespace HaproxyAutoscale.Cli.Demo;

/// <summary><c>demo [--duration 60s]</c>: see the autoscaler work against a real local HAProxy, nothing to set up.</summary>
internal static class DemoCommand
{
    public const double MaxSpeed = 10;

    public static Command Create(CliConsole console)
    {
        var duration = new Option<string>("--duration") { Description = "How long the demo runs (e.g. 60s, 2m).", DefaultValueFactory = _ => "60s" };

        // Hidden: for the tests, which run the whole demo in a few seconds. Not shown to users, whose demo is real time.
        var speed = new Option<string>("--speed")
        {
            Description = "Runs the demo's clock this many times faster (the load ramp and the autoscaler's and apps' timings; not the apps' response times).",
            DefaultValueFactory = _ => "1",
            Hidden = true,
        };
        var command = new Command("demo", "Start a local HAProxy, lazily started apps, a load ramp and the autoscaler; show what gets scaled and when.") { duration, speed };
        command.SetAction((parseResult, cancellationToken) =>
        {
            string text = parseResult.GetValue(duration) ?? "60s";
            if (!Durations.TryParse(text, out TimeSpan length) || length < TimeSpan.FromSeconds(10) || length > TimeSpan.FromHours(1))
            {
                return Task.FromResult(console.Fail($"--duration: '{text}' is not a duration from 10s to 1h", ExitCodes.Usage));
            }

            string speedText = parseResult.GetValue(speed) ?? "1";
            if (!double.TryParse(speedText, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double factor) || factor < 1 || factor > MaxSpeed)
            {
                return Task.FromResult(console.Fail($"--speed: '{speedText}' is not a number from 1 to {MaxSpeed}", ExitCodes.Usage));
            }

            return new DemoRunner(console.Out, length, factor).RunAsync(cancellationToken);
        });
        return command;
    }
}

using System.CommandLine;
using System.Globalization;
using System.Reflection;
using HaproxyAutoscale.Lab;

namespace HaproxyAutoscale.Cli.Demo;

/// <summary>
/// <c>demo-app --name s2 --port N [--cold-start-ms 1000]</c> (hidden): one of the demo's apps as its own process, the
/// <see cref="DemoAppServer"/> on 127.0.0.1. It prints <c>listening 127.0.0.1:N</c> once it accepts connections and
/// serves until its standard input ends (the demo closes it to stop the app, and the kernel closes it when the demo
/// dies, so an app never outlives its demo), then prints what it served: <c>served N cold-users N cold-warmups N</c>.
/// </summary>
internal static class DemoAppCommand
{
    public const string Name = "demo-app";

    public static Command Create(CliConsole console)
    {
        var name = new Option<string>("--name") { Required = true };
        var port = new Option<int>("--port") { Required = true };
        var coldStart = new Option<int>("--cold-start-ms") { DefaultValueFactory = _ => 1000 };
        var command = new Command(Name, "One app of the demo, run by the demo as a child process.") { name, port, coldStart };
        command.Hidden = true;
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            string app = parseResult.GetValue(name)!;
            await using var server = new DemoAppServer(app, parseResult.GetValue(port)) { ColdStart = TimeSpan.FromMilliseconds(parseResult.GetValue(coldStart)) };
            await console.Out.WriteLineAsync($"listening 127.0.0.1:{server.Port}").ConfigureAwait(false);
            await console.Out.FlushAsync(cancellationToken).ConfigureAwait(false);
            await WaitForEndOfInputAsync(cancellationToken).ConfigureAwait(false);

            ServedRequest[] served = [.. server.Served];
            try
            {
                await console.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                    $"served {served.Count(r => r.Path != "/warmup")} cold-users {served.Count(r => r.Cold && r.Path != "/warmup")} cold-warmups {served.Count(r => r.Cold && r.Path == "/warmup")}")).ConfigureAwait(false);
                await console.Out.FlushAsync(CancellationToken.None).ConfigureAwait(false);
            }
            catch (IOException)
            {
                // the demo is gone: nobody reads this
            }

            return ExitCodes.Success;
        });
        return command;
    }

    /// <summary>
    /// How to run this CLI again: the Native AOT binary or apphost itself, <c>dotnet haproxy-autoscale.dll</c> when
    /// run that way, and from an embedding process (the tests run the CLI in-process) the CLI next to it.
    /// </summary>
    public static IReadOnlyList<string> SelfInvocation()
    {
        string process = Environment.ProcessPath ?? throw new InvalidOperationException("the path of this process is unknown");
        bool viaDotnet = Path.GetFileNameWithoutExtension(process) == "dotnet";
        if (!viaDotnet && Assembly.GetEntryAssembly()?.GetName().Name == "haproxy-autoscale")
        {
            return [process]; // the native binary, the apphost or the tool's shim
        }

        string dll = Path.Combine(AppContext.BaseDirectory, "haproxy-autoscale.dll");
        if (viaDotnet)
        {
            return [process, Environment.GetCommandLineArgs() is [var first, ..] && first.EndsWith(".dll", StringComparison.OrdinalIgnoreCase) ? first : dll];
        }

        string apphost = Path.Combine(AppContext.BaseDirectory, "haproxy-autoscale");
        return File.Exists(apphost) ? [apphost] : [Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet", dll];
    }

    // Standard input ends when the demo closes it or exits (even killed); Ctrl-C in the terminal ends the app too.
    private static async Task WaitForEndOfInputAsync(CancellationToken cancellationToken)
    {
        Stream input = Console.OpenStandardInput();
        Task reading = Task.Run(async () =>
        {
            byte[] buffer = new byte[256];
            while (await input.ReadAsync(buffer, CancellationToken.None).ConfigureAwait(false) > 0)
            {
            }
        }, CancellationToken.None);

        // A read of standard input cannot always be cancelled: wait for either, leave the read to the process's end.
        await Task.WhenAny(reading, Task.Delay(Timeout.Infinite, cancellationToken)).ConfigureAwait(false);
    }
}

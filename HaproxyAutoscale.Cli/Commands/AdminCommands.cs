using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using HaproxyAutoscale.Cli.Admin;

namespace HaproxyAutoscale.Cli.Commands;

/// <summary>
/// <c>explain BACKEND</c>, <c>pause BACKEND [--for 30m]</c>, <c>resume BACKEND</c> and <c>reload</c>: ask a running daemon through its
/// admin endpoint (<c>run --admin</c>). Errors (daemon not running, unknown backend) are one line on stderr, exit 1.
/// </summary>
internal static class AdminCommands
{
    public static Option<string> AdminOption(string description) => new("--admin")
    {
        Description = description,
        DefaultValueFactory = _ => AdminAddress.Default,
    };

    public static Command CreateExplain(CliConsole console)
    {
        var backend = new Argument<string>("BACKEND") { Description = "The backend to explain." };
        var admin = AdminOption($"The daemon's admin endpoint (run --admin): 127.0.0.1:PORT or unix:/path. Default {AdminAddress.Default}.");
        var json = new Option<bool>("--json") { Description = "Print the backend's object (GET /backends/NAME, as in GET /status)." };
        var command = new Command("explain", "Show what the running autoscaler sees for a backend and why it last decided what it did.") { backend, admin, json };
        command.SetAction((parseResult, cancellationToken) => WithClientAsync(console, parseResult.GetValue(admin)!, async client =>
        {
            string name = parseResult.GetValue(backend)!;
            (JsonElement? found, string? unknown) = await client.BackendAsync(name, cancellationToken).ConfigureAwait(false);
            if (found is not { } status)
            {
                return console.Fail(unknown!);
            }

            if (parseResult.GetValue(json))
            {
                console.Out.WriteLine(JsonOutput.Write(status.WriteTo));
            }
            else
            {
                WriteExplanation(console.Out, status);
            }

            return ExitCodes.Success;
        }));
        return command;
    }

    public static Command CreatePause(CliConsole console)
    {
        var backend = new Argument<string>("BACKEND") { Description = "The backend to pause." };
        var forHowLong = new Option<string?>("--for") { Description = "How long: 30s, 5m, 1h or 00:05:00. Without it: until resume." };
        var admin = AdminOption($"The daemon's admin endpoint (run --admin). Default {AdminAddress.Default}.");
        var command = new Command("pause", "Pause a backend in the running autoscaler: it keeps deciding and logging, but acts on nothing.") { backend, forHowLong, admin };
        command.SetAction((parseResult, cancellationToken) =>
        {
            string query = parseResult.GetValue(forHowLong) is { } duration ? "?for=" + Uri.EscapeDataString(duration) : "";
            return PostAsync(console, parseResult.GetValue(admin)!, $"backends/{Uri.EscapeDataString(parseResult.GetValue(backend)!)}/pause{query}", cancellationToken);
        });
        return command;
    }

    public static Command CreateResume(CliConsole console)
    {
        var backend = new Argument<string>("BACKEND") { Description = "The backend to resume." };
        var admin = AdminOption($"The daemon's admin endpoint (run --admin). Default {AdminAddress.Default}.");
        var command = new Command("resume", "End a pause: the running autoscaler acts on its decisions for the backend again.") { backend, admin };
        command.SetAction((parseResult, cancellationToken) =>
            PostAsync(console, parseResult.GetValue(admin)!, $"backends/{Uri.EscapeDataString(parseResult.GetValue(backend)!)}/resume", cancellationToken));
        return command;
    }

    public static Command CreateReload(CliConsole console)
    {
        var admin = AdminOption($"The daemon's admin endpoint (run --admin). Default {AdminAddress.Default}.");
        var command = new Command("reload", "Make the running autoscaler read its configuration file again and apply it (as SIGHUP does); an invalid one is rejected with its problems and the running one kept.") { admin };
        command.SetAction((parseResult, cancellationToken) => PostAsync(console, parseResult.GetValue(admin)!, "reload", cancellationToken));
        return command;
    }

    private static Task<int> PostAsync(CliConsole console, string address, string path, CancellationToken cancellationToken) =>
        WithClientAsync(console, address, async client =>
        {
            (int status, JsonElement body) = await client.SendAsync(HttpMethod.Post, path, cancellationToken).ConfigureAwait(false);
            if (status != 200)
            {
                return console.Fail(AdminClient.MessageOf(body));
            }

            console.Out.WriteLine(AdminClient.MessageOf(body));
            return ExitCodes.Success;
        });

    /// <summary>Parses the address (usage error: exit 2) and runs <paramref name="use"/>; an unreachable daemon is one line, exit 1.</summary>
    public static async Task<int> WithClientAsync(CliConsole console, string address, Func<AdminClient, Task<int>> use)
    {
        if (!AdminAddress.TryParse(address, out AdminAddress? parsed, out string? error))
        {
            return console.Fail(error!, ExitCodes.Usage);
        }

        using var client = new AdminClient(parsed!);
        try
        {
            return await use(client).ConfigureAwait(false);
        }
        catch (AdminUnreachableException e)
        {
            return console.Fail(e.Message);
        }
    }

    // One fact per line, in the order an operator asks: what it sees, whether it may act, what it did and why.
    internal static void WriteExplanation(TextWriter output, JsonElement b)
    {
        output.WriteLine($"backend: {b.GetProperty("backend").GetString()}");
        JsonElement window = b.GetProperty("window");
        int samples = window.GetProperty("samples").GetInt32();
        output.WriteLine(window.GetProperty("valueMs") is { ValueKind: JsonValueKind.Number } value
            ? string.Create(CultureInfo.InvariantCulture, $"window: {value.GetDouble():0.#} ms over {samples} sample{(samples == 1 ? "" : "s")}")
            : "window: empty (no request logged in the window)");
        output.WriteLine(b.GetProperty("coverage") is { ValueKind: JsonValueKind.Number } coverage
            ? string.Create(CultureInfo.InvariantCulture, $"coverage: {coverage.GetDouble():0.##} (requests logged / requests HAProxy counted)")
            : "coverage: unknown (HAProxy's counters not read yet, or no request counted)");
        output.WriteLine(b.GetProperty("blind").GetBoolean()
            ? "blind: yes (HAProxy counts requests the logs do not show: no scale-down)"
            : "blind: no");
        // An older daemon's /status has no openSessions.
        output.WriteLine(b.TryGetProperty("openSessions", out JsonElement open) && open.ValueKind == JsonValueKind.Number
            ? string.Create(CultureInfo.InvariantCulture, $"open sessions: {open.GetInt32()} (HAProxy's scur + qcur: in flight now, logged or not; not idle while above 0)")
            : "open sessions: unknown (HAProxy's counters not read yet)");
        output.WriteLine(!b.GetProperty("paused").GetBoolean() ? "paused: no"
            : b.GetProperty("pausedUntil").GetString() is { } until ? $"paused: until {until} (decisions are logged, no action is taken)"
            : "paused: until resumed (decisions are logged, no action is taken)");
        output.WriteLine(b.TryGetProperty("waking", out JsonElement waking) && waking.ValueKind == JsonValueKind.Object
            ? $"zero: waking since {waking.GetProperty("since").GetString()}, {waking.GetProperty("held").GetInt32()} request(s) held by HAProxy"
            : b.TryGetProperty("zero", out JsonElement zero) && zero.ValueKind == JsonValueKind.True
            ? "zero: yes (no active server, by choice: HAProxy holds the next request and wakes it)"
            : "zero: no");
        foreach (JsonElement server in b.GetProperty("servers").EnumerateArray())
        {
            output.WriteLine($"server {server.GetProperty("server").GetString()}: {server.GetProperty("role").GetString()}");
        }

        if (b.TryGetProperty("forecast", out JsonElement forecast) && forecast.ValueKind == JsonValueKind.Object)
        {
            output.WriteLine(forecast.GetProperty("mode").GetString() == "on"
                ? $"forecast: on, at least {forecast.GetProperty("servers").GetInt32()} active: {forecast.GetProperty("reason").GetString()}"
                : $"forecast: forecast-only, would keep at least {forecast.GetProperty("servers").GetInt32()} active (not acted on): {forecast.GetProperty("reason").GetString()}");
        }

        if (b.GetProperty("lastDecision") is not { ValueKind: JsonValueKind.Object } d)
        {
            output.WriteLine("last decision: none yet");
        }
        else
        {
            string servers = string.Join(", ", d.GetProperty("servers").EnumerateArray().Select(s => s.GetString()));
            output.WriteLine($"last decision: {d.GetProperty("action").GetString()}{(servers.Length > 0 ? " " + servers : "")} at {d.GetProperty("time").GetString()}: {d.GetProperty("reason").GetString()}");
            if (d.GetProperty("heldBy").GetString() is { } rule)
            {
                output.WriteLine($"held back by: {rule}");
            }
        }

        WriteCapacity(output, b);
    }

    // An older daemon's /status has no capacity.
    private static void WriteCapacity(TextWriter output, JsonElement b)
    {
        if (!b.TryGetProperty("capacity", out JsonElement c) || c.ValueKind != JsonValueKind.Object)
        {
            output.WriteLine("capacity: not learned yet (no request with a server response time logged)");
            return;
        }

        string atLeast = c.GetProperty("saturated").GetBoolean() ? "" : "at least ";
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"capacity: {atLeast}{c.GetProperty("workers").GetDouble():0.##} workers per server, service time {c.GetProperty("serviceMeanMs").GetDouble():0.#} ms (p95 {c.GetProperty("serviceP95Ms").GetDouble():0.#} ms): {c.GetProperty("perServerAtSlo").GetDouble():0.#} req/s per server within p95 {c.GetProperty("sloP95Ms").GetDouble():0.#} ms{(c.GetProperty("sloReachable").GetBoolean() ? "" : " (unreachable: sized at half the workers busy)")}"));
        output.WriteLine(c.GetProperty("confident").GetBoolean()
            ? $"capacity confident: yes ({c.GetProperty("basis").GetString()})"
            : $"capacity confident: no, {c.GetProperty("basis").GetString()}");
        if (c.GetProperty("drift").GetString() is { } drift)
        {
            output.WriteLine($"capacity drift: {drift} at {c.GetProperty("driftedAt").GetString()}");
        }
    }
}

using System.CommandLine;

namespace HaproxyAutoscale.Cli.Commands;

/// <summary>
/// <c>lua</c>: prints the HAProxy Lua script that holds a request while its backend has no usable server and wakes
/// the autoscaler (<c>http-request lua.autoscale-hold</c>). The script is a resource of the binary, so a Native AOT
/// install needs no file beside it.
/// </summary>
internal static class LuaCommand
{
    /// <summary>The manifest resource name of the script (deploy/haproxy-autoscale.lua, see the csproj).</summary>
    public const string ResourceName = "haproxy-autoscale.lua";

    public static Command Create(CliConsole console)
    {
        var command = new Command("lua", "Print the HAProxy Lua script that holds requests for a backend at zero (lua-load it in haproxy.cfg's global section).");
        command.SetAction(async (_, cancellationToken) =>
        {
            await console.Out.WriteAsync(await ReadScriptAsync(cancellationToken).ConfigureAwait(false)).ConfigureAwait(false);
            await console.Out.FlushAsync(cancellationToken).ConfigureAwait(false);
            return ExitCodes.Success;
        });
        return command;
    }

    /// <summary>The script's text, as shipped.</summary>
    public static async Task<string> ReadScriptAsync(CancellationToken cancellationToken = default)
    {
        await using Stream stream = typeof(LuaCommand).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"the resource {ResourceName} is missing from {typeof(LuaCommand).Assembly.GetName().Name}");
        using var reader = new StreamReader(stream);
        return await reader.ReadToEndAsync(cancellationToken).ConfigureAwait(false);
    }
}

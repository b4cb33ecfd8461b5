using System.Globalization;
using HaproxyAutoscale.Control;
using HaproxyAutoscale.Providers;

namespace HaproxyAutoscale.Configuration;

// The rules of a backend's "provider" and "pool".
public static partial class AutoscaleOptionsValidator
{
    private static void ProviderAndPool(Rules rules, BackendOptions backend, string path, ServerProviderRegistry providers)
    {
        if (backend.Provider is { } provider)
        {
            string at = path + ".provider";
            rules.NotNegative(at, "keepWarm", provider.KeepWarm);
            rules.Positive(at, "timeout", provider.Timeout);

            // The provider's own factory checks its settings, so a custom provider's rules apply here too.
            var errors = new List<string>();
            providers.TryCreate(new ServerProviderSettings(backend.Name, provider, at), errors);
            foreach (string error in errors)
            {
                rules.Problems.Add(new ConfigurationProblem(at, error));
            }
        }

        if (backend.Pool is not { } pool)
        {
            return;
        }

        string poolPath = path + ".pool";
        if (backend.Provider is null)
        {
            rules.Add(poolPath, "a pool needs a provider to start its servers (backends.<name>.provider)");
        }

        if (pool.Max is < 1 or > 1000)
        {
            rules.Add(poolPath + ".max", "expected an integer from 1 to 1000");
        }

        string last = pool.Prefix + pool.Max.ToString(CultureInfo.InvariantCulture);
        if (string.IsNullOrEmpty(pool.Prefix) || !HaproxyControlExtensions.IsValidName(last) || pool.Prefix.StartsWith('#'))
        {
            rules.Add(poolPath + ".prefix", $"'{pool.Prefix}' does not make valid HAProxy server names ({HaproxyNames.Description})");
        }
        else if (backend.Servers.FirstOrDefault(s => s?.Name is { } name && PoolSlots.IsSlotName(pool, name)) is { } clash)
        {
            rules.Add(poolPath + ".prefix", $"the configured server '{clash.Name}' has a pool slot's name");
        }

        if (pool.ServerOptions is null || pool.ServerOptions.AsSpan().IndexOfAny(";\r\n#") >= 0 || pool.ServerOptions.Contains("<<", StringComparison.Ordinal))
        {
            rules.Add(poolPath + ".serverOptions", "server keywords on one line, without ';', '#' or '<<'");
        }

        if (pool.WarmupPath is { } warmupPath && (!warmupPath.StartsWith('/') || !Uri.TryCreate("http://127.0.0.1:1" + warmupPath, UriKind.Absolute, out _)))
        {
            rules.Add(poolPath + ".warmupPath", "expected a URL path starting with '/'");
        }
    }
}

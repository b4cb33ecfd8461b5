using HaproxyAutoscale.Providers;

namespace HaproxyAutoscale.Configuration;

// The schema of a backend's "provider" and "pool" objects.
internal sealed partial class OptionsReader
{
    private void ReadProviderOrPool(BackendOptions backend, string key, ConfigNode node, string path)
    {
        if (key == "provider")
        {
            var provider = new ServerProviderOptions();
            backend.Provider = provider;
            // "type", "keepWarm" and "timeout" are the engine's; every other key is the provider's own setting.
            Object(node, path, null, (k, v, p) =>
            {
                if (string.Equals(k, "type", StringComparison.OrdinalIgnoreCase))
                {
                    SetText(String(v, p), type => provider.Type = type);
                }
                else if (string.Equals(k, "keepWarm", StringComparison.OrdinalIgnoreCase))
                {
                    Set(Duration(v, p), d => provider.KeepWarm = d);
                }
                else if (string.Equals(k, "timeout", StringComparison.OrdinalIgnoreCase))
                {
                    Set(Duration(v, p), d => provider.Timeout = d);
                }
                else if (v.Scalar is { } value)
                {
                    provider.Settings[k] = value;
                }
                else if (v.Items() is { } items)
                {
                    var list = new List<string>();
                    foreach ((string index, ConfigNode item) in items)
                    {
                        SetText(String(item, $"{p}[{index}]"), list.Add);
                    }

                    provider.Lists[k] = list;
                }
                else
                {
                    _problems.Add(ConfigurationProblem.At(p, "expected a value or an array of strings"));
                }
            });
            return;
        }

        var pool = new ServerPoolOptions();
        backend.Pool = pool;
        Object(node, path, ["prefix", "max", "serverOptions", "warmupPath"], (k, v, p) =>
        {
            switch (k)
            {
                case "prefix":
                    SetText(String(v, p), prefix => pool.Prefix = prefix);
                    break;
                case "max":
                    Set(Int(v, p), max => pool.Max = max);
                    break;
                case "serverOptions":
                    SetText(String(v, p), options => pool.ServerOptions = options);
                    break;
                case "warmupPath":
                    // null: no warm-up
                    pool.WarmupPath = v.Scalar is null && v.Members() is null && v.Items() is null ? null : String(v, p);
                    break;
            }
        });
    }
}

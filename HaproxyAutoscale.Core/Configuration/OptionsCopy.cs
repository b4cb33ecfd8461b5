namespace HaproxyAutoscale.Configuration;

/// <summary>
/// Deep copies of validated options, along <see cref="OptionsSchema"/>: the engine keeps its own, so a caller that
/// changes its options object after <see cref="Hosting.AutoscalerBuilder.Build"/> cannot slip an unvalidated value
/// (a zero interval, a new server) into a running autoscaler.
/// </summary>
internal static class OptionsCopy
{
    public static AutoscaleOptions Of(AutoscaleOptions source) => OptionsSchema.Root.Copy(source);

    /// <summary>
    /// The engine's options over the engine's own copy of the configured ones: every backend without a pool is shared
    /// with <paramref name="configured"/> (nothing changes a backend's options once validated but a pool's slots,
    /// added to the engine's copy only), so that 10,000 backends' options are held once (~11 MB), not twice.
    /// </summary>
    public static AutoscaleOptions ForEngine(AutoscaleOptions configured)
    {
        AutoscaleOptions engine = Of(configured);
        for (int i = 0; i < engine.Backends.Count; i++)
        {
            if (configured.Backends[i].Pool is null)
            {
                engine.Backends[i] = configured.Backends[i];
            }
        }

        // Server names repeat from backend to backend (s1, s2…): each distinct name is held once, not once per server
        // (80,000 strings, ~2 MB, at 10,000 backends of 8).
        var names = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (BackendOptions backend in engine.Backends)
        {
            foreach (ServerOptions server in backend.Servers)
            {
                server.Name = names.TryAdd(server.Name, server.Name) ? server.Name : names[server.Name];
            }
        }

        return engine;
    }
}

namespace HaproxyAutoscale.Configuration;

/// <summary>
/// Deep copies of validated options, along <see cref="OptionsSchema"/>: the engine keeps its own, so a caller that
/// changes its options object after <see cref="Hosting.AutoscalerBuilder.Build"/> cannot slip an unvalidated value
/// (a zero interval, a new server) into a running autoscaler.
/// </summary>
internal static class OptionsCopy
{
    public static AutoscaleOptions Of(AutoscaleOptions source) => OptionsSchema.Root.Copy(source);
}

namespace HaproxyAutoscale.Scaling;

/// <summary>
/// Writes into objects that live as long as the run (the backends and their parts), done at every evaluation.
/// A reference written into such an object costs at the next young collection, changed or not, in a Native AOT
/// process: its write barrier marks the card of every reference it writes into the heap (with the GC's regions it
/// cannot tell an old object from a young one), and the collection scans every marked card. At 10,000 backends the
/// last decision's reason, one write per backend per evaluation, was 10,000 cards at each collection (results/scale.md).
/// </summary>
internal static class OldObjects
{
    /// <summary>Sets <paramref name="field"/> to <paramref name="value"/> unless it already holds that object.</summary>
    public static void Set<T>(ref T field, T value)
        where T : class?
    {
        if (!ReferenceEquals(field, value))
        {
            field = value;
        }
    }
}

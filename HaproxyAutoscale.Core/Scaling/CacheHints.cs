using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;

namespace HaproxyAutoscale.Scaling;

/// <summary>
/// Asks the CPU to bring memory into its caches ahead of use, so that a cache miss overlaps other work instead of
/// stalling it. A hint, never a fault: an object the collector moved meanwhile only wastes the hint. Nothing happens
/// on a CPU without the instruction.
/// </summary>
internal static class CacheHints
{
    /// <summary>The first <paramref name="lines"/> cache lines of <paramref name="value"/> (its first fields).</summary>
    public static unsafe void Prefetch(object? value, int lines = 1)
    {
        if (Sse.IsSupported && value is not null)
        {
            byte* start = *(byte**)Unsafe.AsPointer(ref value);
            for (int line = 0; line < lines; line++)
            {
                Sse.Prefetch0(start + (64 * line));
            }
        }
    }

    /// <summary>The cache line holding <paramref name="at"/> (an element of an array, a field of an object).</summary>
    public static unsafe void Prefetch<T>(ref T at)
    {
        if (Sse.IsSupported)
        {
            Sse.Prefetch0(Unsafe.AsPointer(ref at));
        }
    }
}

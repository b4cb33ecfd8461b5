using System.Runtime.CompilerServices;

namespace HaproxyAutoscale.Capacity;

/// <summary>The tally's figures as columns (the capacity file's shape), and how they are laid out in the object.</summary>
internal sealed partial class CapacityTally
{
    /// <summary>The length of a column (<see cref="CountsColumn"/>, …): one value per concurrency or per bucket.</summary>
    internal static int ColumnLength(int column) => column is AloneColumn or FewColumn ? Buckets : MaxConcurrency + 1;

    /// <summary>One column of the decayed figures into <paramref name="into"/> (<see cref="ColumnLength"/> values).</summary>
    internal void CopyColumn(int column, Span<float> into)
    {
        for (int i = 0; i < ColumnLength(column); i++)
        {
            into[i] = Cell(column, i);
        }
    }

    /// <summary>Sets one column of the decayed figures from <paramref name="values"/> (<see cref="ColumnLength"/> values).</summary>
    internal void SetColumn(int column, ReadOnlySpan<float> values)
    {
        for (int i = 0; i < ColumnLength(column); i++)
        {
            Cell(column, i) = values[i];
        }
    }

    private ref float Cell(int column, int i)
    {
        switch (column)
        {
            case CountsColumn:
                return ref _levels[i][Decayed].Count;
            case SumsColumn:
                return ref _levels[i][Decayed].Sum;
            case QueuedColumn:
                return ref _levels[i][Decayed].Queued;
            case AloneColumn:
                return ref _buckets[i][Decayed].Alone;
            default:
                return ref _buckets[i][Decayed].Few;
        }
    }

    private struct Level
    {
        public float Count;
        public float Sum;
        public float Queued;
    }

    private struct Bucket
    {
        public float Alone;
        public float Few;
    }

    // The decayed figures [Decayed] and the generation's [Generation], side by side.
    [InlineArray(2)]
    private struct Both<T>
    {
        private T _first;
    }

    [InlineArray(MaxConcurrency + 1)]
    private struct PerConcurrency
    {
        private Both<Level> _first;
    }

    [InlineArray(Buckets)]
    private struct PerBucket
    {
        private Both<Bucket> _first;
    }
}

namespace HaproxyAutoscale.Capacity;

/// <summary>
/// Where a <see cref="CapacityLearner"/> keeps its current model: a slot of an array shared with the learners made
/// around the same time, instead of a field of its own. A refit that changes the model leaves a new (young) object,
/// and a young collection finds it through the card of whatever old object holds it: about 4 µs a card when they are
/// spread over the heap (one per learner at 10,000 backends, up to 1,000 a pass), about 0.25 µs when they sit side by
/// side in one array (results/scale.md, session 33).
/// </summary>
/// <remarks>
/// Slots are never handed back: an array lives as long as one of its learners, so a removed backend's model is
/// kept at most until the other learners of its array are gone too (at most <see cref="Size"/> − 1 models each).
/// </remarks>
internal readonly struct ModelSlot
{
    /// <summary>Slots per shared array: 64 references, two cards of the collector's.</summary>
    internal const int Size = 64;

    private static Block s_current = new();

    private readonly LearnedCapacity?[] _models;
    private readonly int _index;

    private ModelSlot(LearnedCapacity?[] models, int index) => (_models, _index) = (models, index);

    /// <summary>The model kept here, or <see langword="null"/>.</summary>
    public LearnedCapacity? Value => _models[_index];

    /// <summary>A new slot, in the array being filled (thread-safe: simulations make learners on several threads).</summary>
    public static ModelSlot Take()
    {
        while (true)
        {
            Block block = Volatile.Read(ref s_current);
            int index = Interlocked.Increment(ref block.Taken) - 1;
            if (index < Size)
            {
                return new ModelSlot(block.Models, index);
            }

            Interlocked.CompareExchange(ref s_current, new Block(), block); // full: the first to see it starts the next
        }
    }

    /// <summary>Keeps <paramref name="model"/>, writing only when it is another object (see <see cref="Scaling.OldObjects"/>).</summary>
    public void Set(LearnedCapacity? model) => Scaling.OldObjects.Set(ref _models[_index], model);

    private sealed class Block
    {
        public readonly LearnedCapacity?[] Models = new LearnedCapacity?[Size];
        public int Taken;
    }
}

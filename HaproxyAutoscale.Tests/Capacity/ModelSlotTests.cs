using HaproxyAutoscale.Capacity;

namespace HaproxyAutoscale.Tests.Capacity;

/// <summary>The learners' model slots, shared arrays handed out on several threads at once (simulations run in parallel).</summary>
public sealed class ModelSlotTests
{
    [Fact]
    public void Slots_taken_at_once_on_several_threads_each_keep_their_own_model()
    {
        const int PerThread = 500;
        var slots = new ModelSlot[4 * PerThread];
        Parallel.For(0, 4, new ParallelOptions { MaxDegreeOfParallelism = 4 }, thread =>
        {
            for (int i = 0; i < PerThread; i++)
            {
                slots[(thread * PerThread) + i] = ModelSlot.Take();
            }
        });

        var models = new LearnedCapacity[slots.Length];
        for (int i = 0; i < slots.Length; i++)
        {
            slots[i].Value.Should().BeNull();
            models[i] = new LearnedCapacity { Workers = i + 1 };
            slots[i].Set(models[i]);
        }

        for (int i = 0; i < slots.Length; i++)
        {
            slots[i].Value.Should().BeSameAs(models[i], "slot {0} is nobody else's", i);
        }
    }
}

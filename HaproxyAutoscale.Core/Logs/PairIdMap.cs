namespace HaproxyAutoscale.Logs;

/// <summary>
/// Values found once per backend/server pair and then looked up per line by the parser's pair id
/// (<see cref="HaproxyLogParser.LastPairId"/>): an array index instead of hashing names. Bounded by the parser's
/// pair table capacity; a pair without an id (-1) is simply never stored.
/// </summary>
internal sealed class PairIdMap<TValue>
    where TValue : class
{
    private (bool Known, TValue? Value)[] _slots = new (bool, TValue?)[16];

    public bool TryGet(int pairId, out TValue? value)
    {
        if ((uint)pairId < (uint)_slots.Length && _slots[pairId].Known)
        {
            value = _slots[pairId].Value;
            return true;
        }

        value = null;
        return false;
    }

    public void Set(int pairId, TValue? value)
    {
        if (pairId < 0)
        {
            return;
        }

        if (pairId >= _slots.Length)
        {
            Array.Resize(ref _slots, Math.Max(pairId + 1, _slots.Length * 2));
        }

        _slots[pairId] = (true, value);
    }
}

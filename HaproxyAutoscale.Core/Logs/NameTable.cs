using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace HaproxyAutoscale.Logs;

/// <summary>
/// Maps short UTF-8 tokens read from log lines (proxy and server names, backend/server pairs) to values made once,
/// so that parsing a known token allocates nothing; each kept token also gets a small id (0, 1, 2, … in order of
/// arrival). Bounded: past its capacity (junk input) nothing more is kept and <see cref="Add"/> returns -1.
/// </summary>
internal sealed class NameTable<TValue>
    where TValue : class
{
    internal const int DefaultCapacity = 16_384;

    private readonly int _capacity;
    private Entry[] _buckets = new Entry[256];
    private int _count;

    public NameTable(int capacity = DefaultCapacity) => _capacity = capacity;

    public bool TryGet(ReadOnlySpan<byte> utf8, [NotNullWhen(true)] out TValue? value, out int id)
    {
        (ulong head, ulong tail) = Ends(utf8);
        int hash = Hash(head, tail, utf8.Length);
        Entry[] buckets = _buckets;
        int mask = buckets.Length - 1;
        for (int i = hash & mask; ; i = (i + 1) & mask)
        {
            Entry entry = buckets[i];
            if (entry.Value is null)
            {
                (value, id) = (null, -1);
                return false;
            }

            // Up to 16 bytes, the two ends and the length are the whole token: no byte-by-byte compare.
            // The length is in the entry: a short token is compared without reading its bytes' array (a cache miss).
            if (entry.Head == head && entry.Tail == tail && entry.Length == utf8.Length
                && (utf8.Length <= 2 * sizeof(ulong) || utf8.SequenceEqual(entry.Utf8)))
            {
                (value, id) = (entry.Value, entry.Id);
                return true;
            }
        }
    }

    /// <summary>
    /// Asks the CPU for the bucket <see cref="TryGet"/> will read first for <paramref name="utf8"/> (a hint only): at
    /// tens of thousands of tokens the table is megabytes, and the bucket a cache miss that other work can overlap.
    /// </summary>
    public void Prefetch(ReadOnlySpan<byte> utf8)
    {
        (ulong head, ulong tail) = Ends(utf8);
        Entry[] buckets = _buckets;
        ref Entry entry = ref buckets[Hash(head, tail, utf8.Length) & (buckets.Length - 1)];
        Scaling.CacheHints.Prefetch(ref entry);
        Scaling.CacheHints.Prefetch(ref Unsafe.AddByteOffset(ref entry, Unsafe.SizeOf<Entry>() - 1)); // it may span two lines
    }

    /// <summary>Keeps a token that <see cref="TryGet"/> did not find; returns its id, or -1 when the table is full.</summary>
    public int Add(ReadOnlySpan<byte> utf8, TValue value)
    {
        if (_count >= _capacity)
        {
            return -1;
        }

        if ((_count + 1) * 2 > _buckets.Length)
        {
            Entry[] old = _buckets;
            _buckets = new Entry[old.Length * 2];
            foreach (Entry e in old)
            {
                if (e.Value is not null)
                {
                    Insert(_buckets, e);
                }
            }
        }

        int id = _count++;
        (ulong head, ulong tail) = Ends(utf8);
        Insert(_buckets, new Entry(utf8.Length, head, tail, id, utf8.ToArray(), value));
        return id;
    }

    private static void Insert(Entry[] buckets, Entry entry)
    {
        int mask = buckets.Length - 1;
        int i = Hash(entry.Head, entry.Tail, entry.Length) & mask;
        while (buckets[i].Value is not null)
        {
            i = (i + 1) & mask;
        }

        buckets[i] = entry;
    }

    // O(1) whatever the length: the first and last eight bytes and the length. Tokens that share both ends only
    // collide into longer probes, and the table is bounded, so hostile input cannot make it degrade without bound.
    private static int Hash(ulong head, ulong tail, int length)
    {
        ulong hash = (head * 0x9E3779B97F4A7C15) ^ ((tail + (ulong)length) * 0xC2B2AE3D27D4EB4F);
        return (int)((hash ^ (hash >> 29)) & 0x7FFFFFFF);
    }

    // The first and last eight bytes; a token shorter than eight bytes is all in the first word.
    private static (ulong Head, ulong Tail) Ends(ReadOnlySpan<byte> utf8)
    {
        ulong head;
        ulong tail;
        if (utf8.Length >= sizeof(ulong))
        {
            head = MemoryMarshal.Read<ulong>(utf8);
            tail = MemoryMarshal.Read<ulong>(utf8[^sizeof(ulong)..]);
        }
        else
        {
            head = 0;
            foreach (byte b in utf8)
            {
                head = (head << 8) | b;
            }

            tail = 0;
        }

        return (head, tail);
    }

    // 40 bytes: the hash is not kept (the two ends and the length compare as fast, and a growth computes it again).
    private readonly record struct Entry(int Length, ulong Head, ulong Tail, int Id, byte[] Utf8, TValue Value);
}

using System.Diagnostics.CodeAnalysis;
using System.Runtime.InteropServices;
using System.Text;

namespace HaproxyAutoscale.Logs;

/// <summary>
/// Interns proxy and server names read from log lines, so that a parsed record carries a shared string and no
/// fresh allocation per line. Bounded: past its capacity in distinct names (junk input), names are still
/// returned but no longer kept.
/// </summary>
internal sealed class NameTable
{
    private const int DefaultCapacity = 16_384;

    private readonly int _capacity;
    private Entry[] _buckets = new Entry[256];
    private int _count;

    public NameTable(int capacity = DefaultCapacity) => _capacity = capacity;

    /// <summary>Names that did not fit into the table and were allocated per lookup.</summary>
    public long Overflowed { get; private set; }

    public bool TryGet(ReadOnlySpan<byte> utf8, [NotNullWhen(true)] out string? name) => TryGet(utf8, Hash(utf8), out name);

    public string GetOrAdd(ReadOnlySpan<byte> utf8)
    {
        int hash = Hash(utf8);
        if (TryGet(utf8, hash, out string? name))
        {
            return name;
        }

        name = Encoding.UTF8.GetString(utf8);
        if (_count >= _capacity)
        {
            Overflowed++;
            return name;
        }

        Add(new Entry(hash, utf8.ToArray(), name));
        return name;
    }

    private bool TryGet(ReadOnlySpan<byte> utf8, int hash, [NotNullWhen(true)] out string? name)
    {
        Entry[] buckets = _buckets;
        int mask = buckets.Length - 1;
        for (int i = hash & mask; ; i = (i + 1) & mask)
        {
            Entry entry = buckets[i];
            if (entry.Name is null)
            {
                name = null;
                return false;
            }

            if (entry.Hash == hash && utf8.SequenceEqual(entry.Utf8))
            {
                name = entry.Name;
                return true;
            }
        }
    }

    private void Add(Entry entry)
    {
        if ((_count + 1) * 2 > _buckets.Length)
        {
            Entry[] old = _buckets;
            _buckets = new Entry[old.Length * 2];
            foreach (Entry e in old)
            {
                if (e.Name is not null)
                {
                    Insert(_buckets, e);
                }
            }
        }

        Insert(_buckets, entry);
        _count++;
    }

    private static void Insert(Entry[] buckets, Entry entry)
    {
        int mask = buckets.Length - 1;
        int i = entry.Hash & mask;
        while (buckets[i].Name is not null)
        {
            i = (i + 1) & mask;
        }

        buckets[i] = entry;
    }

    // O(1) whatever the length: the first and last eight bytes and the length. Names that share both ends only
    // collide into longer probes, and the table is bounded, so hostile input cannot make it degrade without bound.
    private static int Hash(ReadOnlySpan<byte> utf8)
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

        ulong hash = (head * 0x9E3779B97F4A7C15) ^ ((tail + (ulong)utf8.Length) * 0xC2B2AE3D27D4EB4F);
        return (int)((hash ^ (hash >> 29)) & 0x7FFFFFFF);
    }

    private readonly record struct Entry(int Hash, byte[] Utf8, string Name);
}

using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace HaproxyAutoscale.Cli.Analysis;

/// <summary>
/// The lean scanner's backend/server pairs ("app/srv1") with a value each: a token of up to 32 bytes is compared as
/// two 16-byte vectors (its first and its last 16 bytes) with its length, so the lookup a line makes costs two loads
/// and two compares whatever the name. Bounded like NameTable: past its capacity nothing more is kept.
/// </summary>
/// <remarks>Not thread-safe; one per scanner.</remarks>
internal sealed class PairTable<TValue>
    where TValue : class
{
    private const int VectorBytes = 16;

    private readonly int _capacity;
    private Entry[] _entries = new Entry[64];
    private int _count;

    public PairTable(int capacity) => _capacity = capacity;

    /// <summary>Finds the token made of the first <paramref name="length"/> bytes of <paramref name="text"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryGet(ReadOnlySpan<byte> text, int length, [NotNullWhen(true)] out TValue? value)
    {
        (Vector128<byte> head, Vector128<byte> tail) = Ends(text, length);
        Entry[] entries = _entries;
        int mask = entries.Length - 1;
        for (int i = Hash(head, tail, length) & mask; ; i = (i + 1) & mask)
        {
            ref Entry entry = ref entries[i];
            if (entry.Value is null)
            {
                value = null;
                return false;
            }

            if (entry.Length == length && entry.Head == head && entry.Tail == tail
                && (length <= 2 * VectorBytes || text[..length].SequenceEqual(entry.Utf8)))
            {
                value = entry.Value;
                return true;
            }
        }
    }

    /// <summary>Keeps a token that <see cref="TryGet"/> did not find; false when the table is full.</summary>
    public bool Add(ReadOnlySpan<byte> token, TValue value)
    {
        if (_count >= _capacity || TryGet(token, token.Length, out _))
        {
            return false;
        }

        if ((_count + 1) * 2 > _entries.Length)
        {
            Entry[] old = _entries;
            _entries = new Entry[old.Length * 2];
            foreach (Entry e in old)
            {
                if (e.Value is not null)
                {
                    Insert(e);
                }
            }
        }

        _count++;
        (Vector128<byte> head, Vector128<byte> tail) = Ends(token, token.Length);
        Insert(new Entry { Head = head, Tail = tail, Length = token.Length, Utf8 = token.ToArray(), Value = value });
        return true;
    }

    private void Insert(Entry entry)
    {
        int mask = _entries.Length - 1;
        int i = Hash(entry.Head, entry.Tail, entry.Length) & mask;
        while (_entries[i].Value is not null)
        {
            i = (i + 1) & mask;
        }

        _entries[i] = entry;
    }

    // The first 16 bytes (zero past a shorter token) and the last 16 (zero for a token of 16 bytes or fewer).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector128<byte> Head, Vector128<byte> Tail) Ends(ReadOnlySpan<byte> text, int length)
    {
        if (length >= VectorBytes)
        {
            return (Vector128.Create(text[..VectorBytes]), length > VectorBytes ? Vector128.Create(text.Slice(length - VectorBytes, VectorBytes)) : default);
        }

        return text.Length >= VectorBytes
            ? (Vector128.Create(text[..VectorBytes]) & Vector128.LessThan(Vector128<byte>.Indices, Vector128.Create((byte)length)), default)
            : (Padded(text[..length]), default);
    }

    // Not inlined: a stack buffer in the lookup would make every caller's frame pay for it.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static Vector128<byte> Padded(ReadOnlySpan<byte> token)
    {
        Span<byte> padded = stackalloc byte[VectorBytes];
        padded.Clear();
        token.CopyTo(padded);
        return Vector128.Create(padded);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Hash(Vector128<byte> head, Vector128<byte> tail, int length)
    {
        Vector128<ulong> words = head.AsUInt64() ^ tail.AsUInt64();
        ulong mixed = ((words.GetElement(0) ^ (uint)length) * 0x9E3779B97F4A7C15) ^ (words.GetElement(1) * 0xC2B2AE3D27D4EB4F);
        return (int)(mixed >> 40);
    }

    private struct Entry
    {
        public Vector128<byte> Head;
        public Vector128<byte> Tail;
        public int Length;
        public byte[] Utf8;
        public TValue? Value;
    }
}

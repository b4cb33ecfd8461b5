using System.Buffers.Binary;
using System.IO.Compression;

namespace HaproxyAutoscale.Cli.LogFiles;

/// <summary>What a <see cref="LogInput"/> reads of the gzip format itself: the magic bytes that start it, the size that ends it.</summary>
internal static class GzipFormat
{
    public static ReadOnlySpan<byte> Magic => [0x1f, 0x8b];

    // ISIZE, the uncompressed size modulo 2^32 that ends a gzip member (RFC 1952). In a file of several members
    // (cat a.gz b.gz), rare for logs, it is the last member's only, and such a file is reported as truncated.
    public static uint ReadSizeInTrailer(string name, FileStream file)
    {
        const int SmallestGzip = 10 + 2 + 8; // header, an empty deflate block, CRC-32 and ISIZE
        Span<byte> size = stackalloc byte[4];
        if (file.Length < SmallestGzip || RandomAccess.Read(file.SafeFileHandle, size, file.Length - size.Length) != size.Length)
        {
            throw new LogInputException($"{name}: truncated gzip file ({file.Length} bytes)");
        }

        return BinaryPrimitives.ReadUInt32LittleEndian(size);
    }

    // A stream only shows its first bytes once: they are read here and handed on in front of the rest.
    public static async Task<Stream> DecompressIfGzipAsync(Stream stream, CancellationToken cancellationToken)
    {
        byte[] head = new byte[2];
        int read = await stream.ReadAtLeastAsync(head, head.Length, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
        var whole = new PrefixedStream(head.AsMemory(0, read), stream);
        return read == head.Length && head.AsSpan().SequenceEqual(Magic) ? new GZipStream(whole, CompressionMode.Decompress) : whole;
    }
}

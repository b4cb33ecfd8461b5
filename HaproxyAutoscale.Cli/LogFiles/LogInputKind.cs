namespace HaproxyAutoscale.Cli.LogFiles;

/// <summary>How a <see cref="LogInput"/> is read.</summary>
internal enum LogInputKind
{
    /// <summary>A regular uncompressed file: read by ranges, so <c>analyze</c> can split it across cores.</summary>
    PlainFile,

    /// <summary>A regular file that starts with the gzip magic bytes: decompressed as it is read.</summary>
    GzipFile,

    /// <summary>Readable once, start to end: a pipe, a FIFO, <c>/dev/fd/N</c> of a process substitution, standard input.</summary>
    Stream,
}

namespace HaproxyAutoscale.Logs;

/// <summary>
/// A backend/server pair as <see cref="HaproxyLogParser"/> keeps it, with room for what the one reader of its lines
/// found for the pair (the log reader: the pair's backend): read from the object the parser reads anyway, instead of
/// from a table of its own (one cache miss fewer per line at 10,000 backends).
/// </summary>
internal sealed class ServerPair(string backend, string server)
{
    public string Backend { get; } = backend;

    public string Server { get; } = server;

    /// <summary>What the reader found for the pair, valid while <see cref="FoundIn"/> is what it looked in.</summary>
    public object? Found { get; set; }

    /// <summary>What the reader looked <see cref="Found"/> up in (a version of its set), or <see langword="null"/>: nothing yet.</summary>
    public object? FoundIn { get; set; }
}

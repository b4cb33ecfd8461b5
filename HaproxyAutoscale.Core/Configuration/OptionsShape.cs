namespace HaproxyAutoscale.Configuration;

/// <summary>
/// One key of an options class, written once: its name in the configuration, what it holds (for the key reference),
/// how it is read from a <see cref="ConfigNode"/> and how it is copied. Built by <see cref="Key{T}"/>, no reflection.
/// </summary>
internal sealed class OptionKey<T>
    where T : class
{
    public required string Name { get; init; }

    /// <summary>What the key holds, for the key reference: <c>duration</c>, <c>integer</c>, <c>one of a, b</c>…</summary>
    public required string Type { get; init; }

    /// <summary>Reads the node at the path into the options, adding every shape or type problem to the reader.</summary>
    public required Action<OptionsReader, ConfigNode, string, T> Read { get; init; }

    /// <summary>Copies the value from the first options into the second (deep: no list or object is shared).</summary>
    public required Action<T, T> Copy { get; init; }

    /// <summary>Whether the key holds the same value in both options (deep: objects, lists and maps compared entry by entry).</summary>
    public required Func<T, T, bool> Same { get; init; }

    /// <summary>The value of fresh options, as the key reference shows it.</summary>
    public Func<T, string>? Show { get; init; }

    /// <summary>The options class the key holds (an object, or each entry of a map or array), with the path segment to it.</summary>
    public (IOptionsShape Shape, string Segment)? Child { get; init; }
}

/// <summary>A configuration key as the key reference lists it.</summary>
/// <param name="Path">The path, e.g. <c>backends.NAME.servers.S.weight</c>.</param>
/// <param name="Type">What it holds.</param>
/// <param name="Default">The value when it is not configured, or <see langword="null"/> for an object.</param>
internal readonly record struct KeyReference(string Path, string Type, string? Default);

/// <summary>An options class's shape, whatever the class.</summary>
internal interface IOptionsShape
{
    /// <summary>Every key below <paramref name="path"/>, in declaration order.</summary>
    IEnumerable<KeyReference> Describe(string path);
}

/// <summary>
/// The keys a configuration object may hold besides the shape's own (a policy's or a provider's settings): how they
/// are read and copied. Without it an unknown key is a problem.
/// </summary>
internal sealed class OtherKeys<T>
{
    public required string Type { get; init; }

    public required Action<OptionsReader, string, ConfigNode, string, T> Read { get; init; }

    public required Action<T, T> Copy { get; init; }

    public required Func<T, T, bool> Same { get; init; }
}

/// <summary>
/// The shape of one options class: its keys, which mirror its properties and the JSON. Reading, copying and the key
/// reference all come from it, so a new option is one property and one key here (and its rules in the validator).
/// </summary>
internal sealed class OptionsShape<T>(Func<T> create, params OptionKey<T>[] keys) : IOptionsShape
    where T : class
{
    public IReadOnlyList<OptionKey<T>> Keys => keys;

    public OtherKeys<T>? Others { get; init; }

    public T Create() => create();

    /// <summary>Reads an object of the shape's keys (case-insensitive, reported under their canonical spelling); false when the node is not an object.</summary>
    public bool Read(OptionsReader reader, ConfigNode node, string path, T target)
    {
        if (node.Members() is not { } members)
        {
            reader.Problem(path, "expected an object");
            return false;
        }

        foreach ((string written, ConfigNode value) in members)
        {
            if (KeyNamed(written) is { } key)
            {
                key.Read(reader, value, OptionsReader.Child(path, key.Name), target);
            }
            else if (Others is { } others)
            {
                others.Read(reader, written, value, OptionsReader.Child(path, written), target);
            }
            else
            {
                reader.Problem(OptionsReader.Child(path, written), "unknown key");
            }
        }

        return true;
    }

    // A loop, not Array.Find with a lambda: that made a closure for every key of every backend read.
    private OptionKey<T>? KeyNamed(string written)
    {
        foreach (OptionKey<T> key in keys)
        {
            if (string.Equals(key.Name, written, StringComparison.OrdinalIgnoreCase))
            {
                return key;
            }
        }

        return null;
    }

    public T Copy(T source)
    {
        T copy = create();
        CopyInto(source, copy);
        return copy;
    }

    public void CopyInto(T source, T target)
    {
        foreach (OptionKey<T> key in keys)
        {
            key.Copy(source, target);
        }

        Others?.Copy(source, target);
    }

    /// <summary>Whether every key holds the same value in both options (what a reload compares).</summary>
    public bool Same(T a, T b)
    {
        // No list made: a reload compares every backend's nested options, and at 10,000 backends lists of
        // differences that are almost always empty came to 41 MB a reload (ConfigReloadBenchmarks).
        foreach (OptionKey<T> key in keys)
        {
            if (!key.Same(a, b))
            {
                return false;
            }
        }

        return Others?.Same(a, b) ?? true;
    }

    /// <summary>The names of the keys whose values differ (<c>*</c>: the other keys, a policy's or provider's settings), in declaration order.</summary>
    public IReadOnlyList<string> Differences(T a, T b)
    {
        List<string>? names = null;
        foreach (OptionKey<T> key in keys)
        {
            if (!key.Same(a, b))
            {
                (names ??= []).Add(key.Name);
            }
        }

        if (Others is { } others && !others.Same(a, b))
        {
            (names ??= []).Add("*");
        }

        return names ?? (IReadOnlyList<string>)[];
    }

    public IEnumerable<KeyReference> Describe(string path)
    {
        T defaults = create();
        foreach (OptionKey<T> key in keys)
        {
            string keyPath = OptionsReader.Child(path, key.Name);
            yield return new KeyReference(keyPath, key.Type, key.Show?.Invoke(defaults));
            if (key.Child is ({ } shape, string segment))
            {
                foreach (KeyReference child in shape.Describe(keyPath + segment))
                {
                    yield return child;
                }
            }
        }

        if (Others is { } others)
        {
            yield return new KeyReference(OptionsReader.Child(path, "*"), others.Type, null);
        }
    }
}

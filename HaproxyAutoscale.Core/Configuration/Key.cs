using System.Globalization;

namespace HaproxyAutoscale.Configuration;

/// <summary>
/// Builds the keys of <typeparamref name="T"/>'s shape: one call per option, naming the key and the property (a getter
/// and a setter); reading, copying and the key reference follow from the kind of value.
/// </summary>
internal static class Key<T>
    where T : class
{
    public static OptionKey<T> Duration(string name, Func<T, TimeSpan> get, Action<T, TimeSpan> set) =>
        Value(name, "duration", (r, n, p) => r.Duration(n, p), get, set, Durations.Format);

    /// <summary>A duration that may be left out (<see langword="null"/>); <paramref name="none"/> says what that means.</summary>
    public static OptionKey<T> OptionalDuration(string name, Func<T, TimeSpan?> get, Action<T, TimeSpan?> set, string none) => new()
    {
        Name = name,
        Type = "duration",
        Read = (r, n, p, o) => Set(r.Duration(n, p), o, (o, v) => set(o, v)),
        Copy = (from, to) => set(to, get(from)),
        Same = (a, b) => get(a) == get(b),
        Show = o => get(o) is { } value ? Durations.Format(value) : none,
    };

    public static OptionKey<T> Int(string name, Func<T, int> get, Action<T, int> set) =>
        Value(name, "integer", (r, n, p) => r.Int(n, p), get, set, v => v.ToString(CultureInfo.InvariantCulture));

    public static OptionKey<T> Int(string name, Func<T, int?> get, Action<T, int?> set) => new()
    {
        Name = name,
        Type = "integer",
        Read = (r, n, p, o) => Set(r.Int(n, p), o, (o, v) => set(o, v)),
        Copy = (from, to) => set(to, get(from)),
        Same = (a, b) => get(a) == get(b),
        Show = o => get(o)?.ToString(CultureInfo.InvariantCulture) ?? "none",
    };

    public static OptionKey<T> Number(string name, Func<T, double> get, Action<T, double> set) =>
        Value(name, "number", (r, n, p) => r.Double(n, p), get, set, v => v.ToString(CultureInfo.InvariantCulture));

    public static OptionKey<T> Bool(string name, Func<T, bool> get, Action<T, bool> set) =>
        Value(name, "true or false", (r, n, p) => r.Bool(n, p), get, set, v => v ? "true" : "false");

    public static OptionKey<T> Enum<TEnum>(string name, Func<T, TEnum> get, Action<T, TEnum> set)
        where TEnum : struct, System.Enum =>
        Value(name, $"one of {string.Join(", ", EnumNames<TEnum>())}", (r, n, p) => r.Enum<TEnum>(n, p), get, set, v => v.ToString().ToLowerInvariant());

    /// <summary>A string; <paramref name="normalize"/> applies to what is read (options built in code are copied as they are).</summary>
    public static OptionKey<T> Text(string name, Func<T, string?> get, Action<T, string> set, Func<string, string>? normalize = null) => new()
    {
        Name = name,
        Type = "string",
        Read = (r, n, p, o) =>
        {
            if (r.String(n, p) is { } text)
            {
                set(o, normalize is null ? text : normalize(text));
            }
        },
        Copy = (from, to) => set(to, get(from)!),
        Same = (a, b) => string.Equals(get(a), get(b), StringComparison.Ordinal),
        Show = o => get(o) is { Length: > 0 } text ? text : "none",
    };

    /// <summary>
    /// An array of strings that replaces the list's default entries. An entry that is no string keeps its place (as
    /// empty), so that the rules name the others by their own index.
    /// </summary>
    public static OptionKey<T> Texts(string name, Func<T, IList<string>> get) => new()
    {
        Name = name,
        Type = "array of strings",
        Read = (r, n, p, o) =>
        {
            IList<string> list = get(o);
            list.Clear();
            r.Items(n, p, (item, itemPath) => list.Add(r.String(item, itemPath) ?? ""));
        },
        Copy = (from, to) =>
        {
            IList<string> list = get(to);
            list.Clear();
            foreach (string item in get(from))
            {
                list.Add(item);
            }
        },
        Same = (a, b) => get(a).SequenceEqual(get(b), StringComparer.Ordinal),
        Show = o => get(o).Count == 0 ? "none" : $"[{string.Join(", ", get(o).Select(s => $"\"{s}\""))}]",
    };

    /// <summary>An object the options always hold (a get-only property).</summary>
    public static OptionKey<T> Object<TChild>(string name, Func<T, TChild> get, OptionsShape<TChild> shape)
        where TChild : class => new()
    {
        Name = name,
        Type = "object",
        Read = (r, n, p, o) => shape.Read(r, n, p, get(o)),
        Copy = (from, to) => shape.CopyInto(get(from), get(to)),
        Same = (a, b) => shape.Same(get(a), get(b)),
        Child = (shape, ""),
    };

    /// <summary>An object that is <see langword="null"/> until configured (<c>ha</c>, <c>provider</c>, <c>pool</c>).</summary>
    public static OptionKey<T> Optional<TChild>(string name, Func<T, TChild?> get, Action<T, TChild?> set, OptionsShape<TChild> shape)
        where TChild : class => new()
    {
        Name = name,
        Type = "object",
        Read = (r, n, p, o) =>
        {
            TChild child = shape.Create();
            set(o, child);
            shape.Read(r, n, p, child);
        },
        Copy = (from, to) => set(to, get(from) is { } child ? shape.Copy(child) : null),
        Same = (a, b) => (get(a), get(b)) is (null, null) || (get(a) is { } x && get(b) is { } y && shape.Same(x, y)),
        Show = _ => "none",
        Child = (shape, ""),
    };

    /// <summary>An object whose keys are names (backends, servers), kept as written, even <c>0</c> and <c>1</c>; each value has the shape.</summary>
    public static OptionKey<T> Named<TChild>(string name, Func<T, IList<TChild>> get, OptionsShape<TChild> shape, Func<TChild, string> nameOf, Action<TChild, string> setName)
        where TChild : class => new()
    {
        Name = name,
        Type = "object of names",
        Read = (r, n, p, o) =>
        {
            if (n.Members() is not { } members)
            {
                r.Problem(p, "expected an object");
                return;
            }

            foreach ((string childName, ConfigNode value) in members)
            {
                TChild child = shape.Create();
                setName(child, childName);
                get(o).Add(child);
                shape.Read(r, value, OptionsReader.Child(p, childName), child);
            }
        },
        Copy = (from, to) =>
        {
            foreach (TChild source in get(from))
            {
                TChild copy = shape.Copy(source);
                setName(copy, nameOf(source));
                get(to).Add(copy);
            }
        },
        Same = (a, b) => SameItems(get(a), get(b), shape, nameOf),
        Show = _ => "none",
        Child = (shape, ".NAME"),
    };

    /// <summary>An array of objects of the shape (a backend's <c>schedule</c>).</summary>
    public static OptionKey<T> Array<TChild>(string name, Func<T, IList<TChild>> get, OptionsShape<TChild> shape)
        where TChild : class => new()
    {
        Name = name,
        Type = "array of objects",
        Read = (r, n, p, o) => r.Items(n, p, (item, itemPath) =>
        {
            TChild child = shape.Create();
            get(o).Add(child);
            shape.Read(r, item, itemPath, child);
        }),
        Copy = (from, to) =>
        {
            foreach (TChild source in get(from))
            {
                get(to).Add(shape.Copy(source));
            }
        },
        Same = (a, b) => SameItems(get(a), get(b), shape, nameOf: null),
        Show = _ => "none",
        Child = (shape, "[]"),
    };

    /// <summary>A key read its own way (a URL, a value that may be <c>null</c>).</summary>
    public static OptionKey<T> Custom<TValue>(string name, string type, Action<OptionsReader, ConfigNode, string, T> read, Func<T, TValue> get, Action<T, TValue> set, Func<TValue, string> show) => new()
    {
        Name = name,
        Type = type,
        Read = read,
        Copy = (from, to) => set(to, get(from)),
        Same = (a, b) => EqualityComparer<TValue>.Default.Equals(get(a), get(b)),
        Show = o => show(get(o)),
    };

    public static IEnumerable<string> EnumNames<TEnum>()
        where TEnum : struct, System.Enum => System.Enum.GetNames<TEnum>().Select(n => n.ToLowerInvariant());

    private static OptionKey<T> Value<TValue>(string name, string type, Func<OptionsReader, ConfigNode, string, TValue?> read, Func<T, TValue> get, Action<T, TValue> set, Func<TValue, string> show)
        where TValue : struct => new()
    {
        Name = name,
        Type = type,
        Read = (r, n, p, o) => Set(read(r, n, p), o, set),
        Copy = (from, to) => set(to, get(from)),
        Same = (a, b) => EqualityComparer<TValue>.Default.Equals(get(a), get(b)),
        Show = o => show(get(o)),
    };

    // Entry by entry (and name by name, for named entries), without Zip's enumerators or a delegate per call: a reload
    // compares every backend's servers.
    private static bool SameItems<TChild>(IList<TChild> a, IList<TChild> b, OptionsShape<TChild> shape, Func<TChild, string>? nameOf)
        where TChild : class
    {
        if (a.Count != b.Count)
        {
            return false;
        }

        for (int i = 0; i < a.Count; i++)
        {
            if ((nameOf is not null && !string.Equals(nameOf(a[i]), nameOf(b[i]), StringComparison.Ordinal)) || !shape.Same(a[i], b[i]))
            {
                return false;
            }
        }

        return true;
    }

    private static void Set<TValue>(TValue? value, T options, Action<T, TValue> set)
        where TValue : struct
    {
        if (value is { } v)
        {
            set(options, v);
        }
    }
}

namespace HaproxyAutoscale.Lab;

/// <summary>A fresh folder under /tmp (short, so UNIX socket paths stay under 108 bytes), deleted on dispose.</summary>
public sealed class TempDirectory : IDisposable
{
    /// <param name="prefix">The start of the folder's name.</param>
    public TempDirectory(string prefix = "hpa-")
        : this(System.IO.Path.Combine("/tmp", prefix + Guid.NewGuid().ToString("N")[..10]), exact: true)
    {
    }

    private TempDirectory(string path, bool exact)
    {
        _ = exact;
        Path = path;
        Directory.CreateDirectory(Path);
    }

    /// <summary>The folder at <paramref name="path"/>, created if missing, deleted on dispose.</summary>
    public static TempDirectory At(string path) => new(path, exact: true);

    public string Path { get; }

    /// <summary>The path of <paramref name="name"/> in this folder.</summary>
    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

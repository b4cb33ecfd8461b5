namespace HaproxyAutoscale.Lab;

/// <summary>
/// The repository's folders, found from the test or benchmark binaries (not from <c>CallerFilePath</c>: a CI build
/// maps source paths to <c>/_/</c>).
/// </summary>
public static class Repository
{
    /// <summary>The folder holding <c>HaproxyAutoscale.sln</c>, above the running binaries.</summary>
    public static string Root { get; } = FindRoot();

    /// <summary>A path below <see cref="Root"/>.</summary>
    public static string File(params string[] parts) => Path.Combine([Root, .. parts]);

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (System.IO.File.Exists(Path.Combine(dir.FullName, "HaproxyAutoscale.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("the repository root (HaproxyAutoscale.sln) is not above the running binaries");
    }
}

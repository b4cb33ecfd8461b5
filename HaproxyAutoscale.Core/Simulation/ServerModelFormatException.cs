namespace HaproxyAutoscale.Simulation;

/// <summary>A server model file that cannot be read: every problem, as <c>path: message</c>.</summary>
internal sealed class ServerModelFormatException : FormatException
{
    /// <summary>Creates the exception for <paramref name="errors"/>.</summary>
    public ServerModelFormatException(IReadOnlyList<string> errors)
        : base(Format(errors))
    {
        Errors = errors;
    }

    /// <summary>Every problem, as <c>path: message</c>, e.g. <c>backends[0].workers: expected a number of 1 or more</c>.</summary>
    public IReadOnlyList<string> Errors { get; }

    private static string Format(IReadOnlyList<string> errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        return $"The server model has {errors.Count} problem(s):{Environment.NewLine}  " + string.Join(Environment.NewLine + "  ", errors);
    }
}

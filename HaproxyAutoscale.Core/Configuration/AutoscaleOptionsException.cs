namespace HaproxyAutoscale.Configuration;

/// <summary>
/// The options break rules of <see cref="AutoscaleOptionsValidator"/>. Thrown by <c>AutoscalerBuilder.Build</c> and at
/// the host's start by <c>AddHaproxyAutoscale</c>; the message and <see cref="Errors"/> list every problem, each with
/// its configuration path (<c>evaluationInterval: must be more than 0</c>).
/// </summary>
public sealed class AutoscaleOptionsException : InvalidOperationException
{
    /// <summary>Creates the exception for <paramref name="errors"/> (<c>path: message</c> each).</summary>
    public AutoscaleOptionsException(IReadOnlyList<string> errors)
        : base(Format(errors))
    {
        Errors = errors;
    }

    /// <summary>Every problem, as <c>path: message</c>.</summary>
    public IReadOnlyList<string> Errors { get; }

    private static string Format(IReadOnlyList<string> errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        return $"The HaproxyAutoscale configuration has {errors.Count} problem(s):{Environment.NewLine}  " + string.Join(Environment.NewLine + "  ", errors);
    }
}

namespace HaproxyAutoscale.Policies;

/// <summary>
/// A decision's reason: its text, or a template and the figures it is made of, formatted only when read (a log line
/// that is written, the status, a test). A backend holds at nearly every evaluation, and at ten thousand backends
/// formatting every hold's numbers would be most of what a pass allocates; the built-in policies keep the figures.
/// </summary>
/// <remarks>
/// The template is an object the policy keeps (made again when its options change), so a backend that keeps its last
/// reason keeps no new object either. Reading <see cref="ToString"/> twice formats twice: read it once.
/// </remarks>
/// <remarks>Equal when the texts are: decisions compare by their reasons' text, kept or not.</remarks>
internal readonly struct DecisionReason : IEquatable<DecisionReason>
{
    private readonly string? _text;
    private readonly ReasonTemplate? _template;
    private readonly double _value;
    private readonly int _first;
    private readonly int _second;
    private readonly int _third;

    public DecisionReason(string text) => _text = text;

    public DecisionReason(ReasonTemplate template, double value, int first = 0, int second = 0, int third = 0) =>
        (_template, _value, _first, _second, _third) = (template, value, first, second, third);

    /// <summary>Whether there is no reason at all (a default decision's).</summary>
    public bool IsEmpty => _text is null && _template is null;

    /// <summary>The text; <see langword="null"/> for a default decision (as its <c>Reason</c> has always been).</summary>
    public override string ToString() => _text ?? _template?.Format(_value, _first, _second, _third)!;

    public bool Equals(DecisionReason other) => string.Equals(ToString(), other.ToString(), StringComparison.Ordinal);

    public override bool Equals(object? obj) => obj is DecisionReason other && Equals(other);

    public override int GetHashCode() => ToString()?.GetHashCode(StringComparison.Ordinal) ?? 0;
}

/// <summary>The fixed part of a reason, with the figures of one decision put in by <see cref="Format"/>.</summary>
internal abstract class ReasonTemplate
{
    /// <summary>The reason's text for these figures (what each means is the template's).</summary>
    public abstract string Format(double value, int first, int second, int third);
}

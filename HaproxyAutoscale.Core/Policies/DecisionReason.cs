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
internal struct DecisionReason : IEquatable<DecisionReason>
{
    // Not readonly for Keep alone: every other member is.
    private string? _text;
    private ReasonTemplate? _template;
    private bool _templated; // which of the two is the reason (Keep leaves the other in place)
    private double _value;
    private int _first;
    private int _second;
    private int _third;

    public DecisionReason(string text) => _text = text;

    public DecisionReason(ReasonTemplate template, double value, int first = 0, int second = 0, int third = 0) =>
        (_template, _templated, _value, _first, _second, _third) = (template, true, value, first, second, third);

    /// <summary>Whether there is no reason at all (a default decision's).</summary>
    public readonly bool IsEmpty => !_templated && _text is null;

    /// <summary>
    /// Becomes <paramref name="reason"/> where it is kept in a long-lived object (the backend's last decision),
    /// writing a reference only when it changes (see <see cref="Scaling.OldObjects"/>): a backend whose reason goes
    /// from a template to a text and back (a quiet one: "no request ended" every other evaluation) keeps both.
    /// </summary>
    public void Keep(in DecisionReason reason)
    {
        _templated = reason._templated;
        if (!_templated)
        {
            Scaling.OldObjects.Set(ref _text, reason._text);
            return;
        }

        Scaling.OldObjects.Set(ref _template, reason._template);
        (_value, _first, _second, _third) = (reason._value, reason._first, reason._second, reason._third);
    }

    /// <summary>The text; <see langword="null"/> for a default decision (as its <c>Reason</c> has always been).</summary>
    public override readonly string ToString() => _templated ? _template!.Format(_value, _first, _second, _third) : _text!;

    public readonly bool Equals(DecisionReason other) => string.Equals(ToString(), other.ToString(), StringComparison.Ordinal);

    public override readonly bool Equals(object? obj) => obj is DecisionReason other && Equals(other);

    public override readonly int GetHashCode() => ToString()?.GetHashCode(StringComparison.Ordinal) ?? 0;
}

/// <summary>The fixed part of a reason, with the figures of one decision put in by <see cref="Format"/>.</summary>
internal abstract class ReasonTemplate
{
    /// <summary>The reason's text for these figures (what each means is the template's).</summary>
    public abstract string Format(double value, int first, int second, int third);
}

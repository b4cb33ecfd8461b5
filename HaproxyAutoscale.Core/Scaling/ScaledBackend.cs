using HaproxyAutoscale.Configuration;
using HaproxyAutoscale.Policies;
using HaproxyAutoscale.Windows;

namespace HaproxyAutoscale.Scaling;

/// <summary>
/// One backend's parts: its servers' lifecycle table and its decider, and the lock that guards both (log reading,
/// evaluation, actions and reconcile each take it only to read or update state, never across I/O).
/// </summary>
internal sealed class ScaledBackend
{
    private ScaledBackend(BackendOptions options, ServerTable servers, BackendDecider decider)
    {
        Options = options;
        Servers = servers;
        Decider = decider;
    }

    public BackendOptions Options { get; }

    public string Name => Options.Name;

    public ServerTable Servers { get; }

    public BackendDecider Decider { get; }

    public object Gate { get; } = new();

    /// <summary>Until when the backend is paused by an operator (it decides and logs, acts on nothing). Under <see cref="Gate"/>.</summary>
    public DateTimeOffset? PausedUntil { get; set; }

    /// <summary>The last evaluation's outcome. Under <see cref="Gate"/>.</summary>
    public BackendDecision? LastDecision { get; set; }

    /// <summary>Creates the backend's policy and window from validated options.</summary>
    public static ScaledBackend Create(BackendOptions options, ScalingPolicyRegistry policies, ResponseTimeWindowRegistry windows, TimeProvider time, Random? random = null)
    {
        var errors = new List<string>();
        var settings = new PolicySettings(options.PolicyKind, options.PolicySettings.ToDictionary(), $"backends.{options.Name}.policy");
        IScalingPolicy policy = policies.TryCreate(settings, errors)
            ?? throw new ArgumentException($"invalid policy for backend '{options.Name}': {string.Join("; ", errors)}", nameof(options));
        var servers = new ServerTable(options, time);
        var decider = new BackendDecider(options, policy, windows.Create(options.Window, time), servers, time, random);
        return new ScaledBackend(options, servers, decider);
    }

    public BackendSnapshot Snapshot()
    {
        lock (Gate)
        {
            WindowValue window;
            try
            {
                window = Decider.Window.Evaluate();
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                window = WindowValue.Empty; // the evaluation loop reports the window's failure
            }

            return new BackendSnapshot(Name, window, [.. Servers.Roles]) { PausedUntil = PausedUntil, LastDecision = LastDecision };
        }
    }
}

using HaproxyAutoscale.Configuration;

namespace HaproxyAutoscale.Policies;

/// <summary>Names of the built-in policies, as configured in <c>"policy": {"kind": …}</c>.</summary>
public static class ScalingPolicyNames
{
    /// <summary>N consecutive evaluations above a threshold add a server; an idle period removes one.</summary>
    public const string Threshold = "threshold";

    /// <summary>Upper and lower thresholds with hysteresis, cooldowns and stabilization.</summary>
    public const string Band = "band";

    /// <summary>Target tracking as in the Kubernetes HPA.</summary>
    public const string Target = "target";

    /// <summary>Requests in flight per server, with a stable and a panic window, as Knative.</summary>
    public const string Concurrency = "concurrency";
}

/// <summary>
/// Creates a backend's policy from its settings; reads them through <see cref="PolicySettings"/>' getters, which
/// collect problems instead of throwing. An <see cref="ArgumentException"/> thrown by the factory is reported as a
/// problem of the backend's policy too.
/// </summary>
public delegate IScalingPolicy ScalingPolicyFactory(PolicySettings settings);

/// <summary>
/// Creates the built-in policies from options built in code, under the same rules as configuration (for example a
/// <c>band</c> needs <c>lowerMs</c> below <c>upperMs</c>). Useful to register a built-in policy with fixed settings
/// under a name of its own: <c>registry.Add("api", _ => ScalingPolicies.Band(new BandPolicyOptions { UpperMs = 500, LowerMs = 100 }))</c>.
/// </summary>
public static class ScalingPolicies
{
    /// <summary>A <c>threshold</c> policy; the options are read at every decision, so change them only before.</summary>
    /// <exception cref="ArgumentException">The options break a rule; the message lists every problem.</exception>
    public static IScalingPolicy Threshold(ThresholdPolicyOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        PolicyRules.ThrowIfInvalid(ScalingPolicyNames.Threshold, options.Validate);
        return new ThresholdPolicy(options);
    }

    /// <summary>A <c>band</c> policy; the options are read at every decision, so change them only before.</summary>
    /// <exception cref="ArgumentException">The options break a rule; the message lists every problem.</exception>
    public static IScalingPolicy Band(BandPolicyOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        PolicyRules.ThrowIfInvalid(ScalingPolicyNames.Band, options.Validate);
        return new BandPolicy(options);
    }

    /// <summary>A <c>target</c> policy; the options are read at every decision, so change them only before.</summary>
    /// <exception cref="ArgumentException">The options break a rule; the message lists every problem.</exception>
    public static IScalingPolicy Target(TargetPolicyOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        PolicyRules.ThrowIfInvalid(ScalingPolicyNames.Target, options.Validate);
        return new TargetPolicy(options);
    }

    /// <summary>A <c>concurrency</c> policy; the options are read at every decision, so change them only before.</summary>
    /// <exception cref="ArgumentException">The options break a rule; the message lists every problem.</exception>
    public static IScalingPolicy Concurrency(ConcurrencyPolicyOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        PolicyRules.ThrowIfInvalid(ScalingPolicyNames.Concurrency, options.Validate);
        return new ConcurrencyPolicy(options);
    }
}

/// <summary>
/// The policies available by name: the built-in ones plus any registered. Names are case-insensitive; registering a
/// name twice is an error, and so is configuring a name nobody registered.
/// </summary>
public sealed class ScalingPolicyRegistry
{
    private readonly NamedFactories<ScalingPolicyFactory> _factories = new("scaling policy");

    /// <summary>A registry with <c>threshold</c>, <c>band</c>, <c>target</c> and <c>concurrency</c>.</summary>
    public ScalingPolicyRegistry()
    {
        Add(ScalingPolicyNames.Threshold, ThresholdPolicy.Create);
        Add(ScalingPolicyNames.Band, BandPolicy.Create);
        Add(ScalingPolicyNames.Target, TargetPolicy.Create);
        Add(ScalingPolicyNames.Concurrency, ConcurrencyPolicy.Create);
    }

    /// <summary>The registered names.</summary>
    public IEnumerable<string> Names => _factories.Names;

    /// <summary>Registers a policy under <paramref name="name"/>.</summary>
    /// <exception cref="ArgumentException">The name is already registered.</exception>
    public ScalingPolicyRegistry Add(string name, ScalingPolicyFactory factory)
    {
        _factories.Add(name, factory, nameof(name));
        return this;
    }

    /// <summary>Whether a policy of that name exists.</summary>
    public bool Contains(string name) => _factories.Contains(name);

    /// <summary>
    /// Creates the policy <paramref name="settings"/> name; returns <see langword="null"/> and adds to
    /// <paramref name="errors"/> when the name is unknown or a setting is wrong.
    /// </summary>
    public IScalingPolicy? TryCreate(PolicySettings settings, ICollection<string> errors)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(errors);
        if (!_factories.TryGet(settings.Kind, out ScalingPolicyFactory? factory))
        {
            errors.Add($"{settings.Path}.kind: {_factories.Unknown("policy", settings.Kind)}");
            return null;
        }

        // A factory that checks its settings by throwing (ScalingPolicies.Band…) is a configuration problem, not a crash.
        return NamedFactories<ScalingPolicyFactory>.Create(() => factory(settings), settings.Path, settings.ReportUnknownKeys, settings.Errors, errors);
    }
}

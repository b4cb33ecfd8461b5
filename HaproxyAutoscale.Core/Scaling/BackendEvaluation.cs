using HaproxyAutoscale.Forecasting;
using HaproxyAutoscale.Policies;
using Microsoft.Extensions.Logging;

namespace HaproxyAutoscale.Scaling;

/// <summary>
/// An engine rule applied to a backend's plan after its decider, under the backend's lock (a pause, a standby): it
/// may turn the plan into a hold. The evaluation tells the policy about every decision a step held back.
/// </summary>
internal interface IPlanStep
{
    /// <summary>The plan as this rule lets it through (<paramref name="plan"/> itself, or a hold naming the rule).</summary>
    ScalingPlan Apply(ScaledBackend backend, ScalingPlan plan);
}

/// <summary>
/// One evaluation of one backend: decide, apply the steps and claim the servers under the backend's lock (so
/// reconcile cannot slip in between), then report the decider's fault, log the plan and start its actions outside it.
/// </summary>
internal sealed class BackendEvaluation(IReadOnlyList<IPlanStep> steps, ILogger logger, AutoscaleMetrics metrics)
{
    /// <summary>Evaluates <paramref name="backend"/>; <paramref name="actuator"/> starts the plan's actions (none for a hold).</summary>
    public ScalingPlan Evaluate(ScaledBackend backend, Actuator actuator, CancellationToken cancellationToken)
    {
        ScalingPlan plan = Decide(backend);
        if (plan.Decision.Action == ScalingAction.Hold)
        {
            return plan;
        }

        string action = plan.Decision.Action == ScalingAction.Up ? "up" : "down";
        foreach (string server in plan.Servers)
        {
            Log.Decision(logger, plan.Backend, action, server, plan.Decision.Reason, Log.Value(plan.Window));
            metrics.Decisions.Add(1, AutoscaleMetrics.Tags(plan.Backend, action));
        }

        actuator.Start(backend, plan, cancellationToken);
        return plan;
    }

    /// <summary>The backend's plan after every step, its servers claimed; a hold is logged here.</summary>
    public ScalingPlan Decide(ScaledBackend backend)
    {
        ScalingPlan plan;
        DecisionFault? fault;
        bool firstHeldBack;
        (string? LoadNote, ForecastStatus? Changed, bool Ended) forecast;
        lock (backend.Gate)
        {
            plan = backend.Decider.Decide();
            fault = backend.Decider.TakeFault();
            for (int i = 0; i < steps.Count; i++) // indexed: no enumerator per evaluation
            {
                ScalingPlan before = plan;
                plan = steps[i].Apply(backend, plan);
                if (plan.Gate is { } gate && !ReferenceEquals(gate, before.Gate))
                {
                    backend.Decider.HeldAfterDecide(gate); // the policy's decision was not carried out
                }
            }

            // An action a pause or blindness holds back is worth seeing without --verbose, once per spell.
            firstHeldBack = plan.Gate is { IsSpell: true } && backend.HeldBackBy != plan.Gate;
            backend.HeldBackBy = backend.PausedUntil is not null || backend.Coverage?.Blind == true ? plan.Gate ?? backend.HeldBackBy : null;
            backend.Decided(plan);
            Actuator.Claim(backend, plan);
            forecast = backend.Decider.TakeForecastNews();
        }

        ForecastNews(backend.Name, forecast);

        if (fault is not null)
        {
            string error = $"{fault.Exception.GetType().Name}: {fault.Exception.Message}" + (fault.Count > 1 ? $" ({fault.Count} times since the last evaluation)" : "");
            Log.ExtensionFailed(logger, backend.Name, "-", fault.Extension, error);
            metrics.ExtensionFailures.Add(fault.Count, AutoscaleMetrics.ExtensionTags(backend.Name, fault.Extension));
        }

        if (plan.Decision.Action != ScalingAction.Hold)
        {
            return plan;
        }

        if (plan.Gate is { } holding)
        {
            metrics.Holds.Add(1, new("backend", plan.Backend), new("gate", holding.Name)); // the tags on the stack, not in an array per hold
        }

        // The reason is formatted only for a line that is written (a hold's is at debug level).
        if (firstHeldBack)
        {
            Log.HeldBack(logger, plan.Backend, plan.Gate!.Name, plan.Decision.Reason);
        }
        else if (!logger.IsEnabled(LogLevel.Debug))
        {
            return plan;
        }
        else if (plan.Gate is { IsFault: false } gate)
        {
            // A rule of the engine held it back (a fault of the policy or window is event 3, and event 15).
            Log.HeldByGate(logger, plan.Backend, gate.Name, plan.Decision.Reason);
        }
        else
        {
            Log.Hold(logger, plan.Backend, plan.Decision.Reason);
        }

        return plan;
    }

    private void ForecastNews(string backend, (string? LoadNote, ForecastStatus? Changed, bool Ended) news)
    {
        if (news.LoadNote is { } note)
        {
            Log.ForecastHistoryRead(logger, backend, note);
        }

        if (news.Changed is { } forecast)
        {
            Log.ForecastChanged(logger, backend, forecast.Mode == ForecastMode.On ? "forecast on" : "forecast-only, not acted on", forecast.Reason);
        }
        else if (news.Ended)
        {
            Log.ForecastChanged(logger, backend, "forecast", "no forecast floor now (no past day has history at this time)");
        }
    }
}

/// <summary>
/// An operator's pause (<see cref="Autoscaler.Pause"/>): while it lasts, the backend decides and logs but every
/// action is held; once it has ended, the backend resumes.
/// </summary>
internal sealed class PauseStep(ILogger logger) : IPlanStep
{
    public ScalingPlan Apply(ScaledBackend backend, ScalingPlan plan)
    {
        if (backend.PausedUntil is not { } until)
        {
            return plan;
        }

        if (plan.Time < until)
        {
            return plan.HeldByRule(HoldGate.Paused, until == DateTimeOffset.MaxValue ? "paused until resumed" : $"paused until {until:u}");
        }

        backend.PausedUntil = null;
        Log.Resumed(logger, backend.Name, "the pause ended");
        return plan;
    }
}

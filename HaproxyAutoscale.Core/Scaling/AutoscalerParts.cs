using System.Diagnostics.Metrics;
using HaproxyAutoscale.Control;
using HaproxyAutoscale.HighAvailability;
using HaproxyAutoscale.Logs;
using HaproxyAutoscale.Policies;
using HaproxyAutoscale.Providers;
using HaproxyAutoscale.Windows;
using Microsoft.Extensions.Logging;

namespace HaproxyAutoscale.Scaling;

/// <summary>What an autoscaler talks to: its log source, HAProxy (one instance or a fan-out), the warm-up, and the leader election (null: it acts alone).</summary>
internal sealed record EngineConnections(ILogSource Source, IHaproxyControl Control, IWarmup Warmup, ILeaderElection? Election = null);

/// <summary>The registries the backends' policies, windows and providers are created from.</summary>
internal sealed record EngineRegistries(ScalingPolicyRegistry Policies, ResponseTimeWindowRegistry Windows, ServerProviderRegistry Providers);

/// <summary>Time, logging and metrics, and whether commands that change HAProxy are only logged (dry run).</summary>
internal sealed record EngineRuntime(TimeProvider Time, ILoggerFactory Loggers, IMeterFactory? Meters, bool DryRun);

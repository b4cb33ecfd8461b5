using System.Globalization;
using HaproxyAutoscale.Scaling;
using Microsoft.Extensions.Logging;

namespace HaproxyAutoscale.Capacity;

/// <summary>
/// The engine's side of the learned capacity: reads each backend's model from the state directory when the backend
/// is made, and in one pass over every backend (every <see cref="PassEvery"/>, not a timer per backend) logs what
/// became confident or drifted and writes the models that changed, each at most every <see cref="SaveEvery"/> and all
/// of them at stop. Files are written outside the backends' locks.
/// </summary>
internal sealed class CapacityStore(string? directory, TimeProvider time, ILogger logger)
{
    /// <summary>How often the pass runs.</summary>
    internal static readonly TimeSpan PassEvery = TimeSpan.FromSeconds(10);

    /// <summary>A backend's model is written at most this often (it moves slowly: a half-life of 10 minutes).</summary>
    internal static readonly TimeSpan SaveEvery = TimeSpan.FromMinutes(5);

    private bool _failing; // a spell of failed writes is logged once

    /// <summary>Reads <paramref name="backend"/>'s saved model, if the state directory holds one; a file that cannot be read is logged and ignored.</summary>
    public void Restore(ScaledBackend backend)
    {
        if (directory is null)
        {
            return;
        }

        string path = CapacityFile.PathOf(directory, backend.Name);
        CapacityTally? saved = CapacityFile.Load(path, out string? problem);
        if (problem is not null)
        {
            CapacityLog.NotRestored(logger, backend.Name, path, problem);
            return;
        }

        if (saved is null)
        {
            return;
        }

        string basis;
        lock (backend.Gate)
        {
            CapacityLearner learner = backend.Decider.Capacity;
            learner.Restore(saved, time.GetUtcNow());
            learner.ReportedConfident = learner.Current?.Confident ?? false;
            basis = learner.Current?.Basis ?? "no request with a response time";
        }

        CapacityLog.Restored(logger, backend.Name, path, basis);
    }

    /// <summary>One pass (see the class); <paramref name="all"/>: write every changed model now (at stop).</summary>
    public void Pass(IEnumerable<ScaledBackend> backends, bool all = false)
    {
        DateTimeOffset now = time.GetUtcNow();
        foreach (ScaledBackend backend in backends)
        {
            LearnedCapacity? learned;
            bool becameConfident;
            string? drift = null;
            CapacityTally? copy = null;
            lock (backend.Gate)
            {
                CapacityLearner learner = backend.Decider.Capacity;
                learned = learner.Current;
                becameConfident = learned is { Confident: true } && !learner.ReportedConfident;
                learner.ReportedConfident = learned?.Confident ?? false;
                if (learned?.DriftedAt is { } at && at != learner.ReportedDrift)
                {
                    (drift, learner.ReportedDrift) = (learned.Drift, at);
                }

                if (directory is not null && learner.Changed && (all || now - learner.LastSaved >= SaveEvery))
                {
                    copy = new CapacityTally();
                    copy.CopyFrom(learner.Tally);
                    learner.TakeChanged();
                    learner.LastSaved = now;
                }
            }

            if (drift is not null)
            {
                CapacityLog.Drift(logger, backend.Name, drift);
            }

            if (becameConfident)
            {
                CapacityLog.Learned(logger, backend.Name, Number(learned!.Workers), Number(learned.ServiceMeanMs), Number(learned.ServiceP95Ms),
                    Number(learned.PerServerAtSlo), Number(learned.SloP95Ms), learned.Basis);
            }

            if (copy is not null)
            {
                Save(backend.Name, copy, learned, now);
            }
        }
    }

    private void Save(string backend, CapacityTally tally, LearnedCapacity? learned, DateTimeOffset now)
    {
        string path = CapacityFile.PathOf(directory!, backend);
        try
        {
            Directory.CreateDirectory(directory!);
            CapacityFile.Save(path, backend, tally, learned, now);
            _failing = false;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            if (!_failing)
            {
                CapacityLog.SaveFailed(logger, backend, path, e.Message);
            }

            _failing = true;
        }
    }

    private static string Number(double value) => value.ToString("0.##", CultureInfo.InvariantCulture);
}

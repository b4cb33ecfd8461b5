using HaproxyAutoscale.Forecasting;

namespace HaproxyAutoscale.Scaling;

/// <summary>What the autoscaler learns and keeps in the state directory: each backend's capacity and demand history.</summary>
public sealed partial class Autoscaler
{
    private readonly DemandHistoryStore? _history; // the forecasts' demand history in the state directory; null: memory only
    private Task _flushing = Task.CompletedTask;
    private readonly Capacity.CapacityStore _capacity;

    // The minutes the pass completed go to the state directory off the evaluation loop (measured: a flush of one minute
    // for 10,000 backends took 4.8 s on a loaded machine), one flush at a time; minutes completed meanwhile wait for the next.
    private void FlushHistory()
    {
        if (_history is not { } history || !_flushing.IsCompleted)
        {
            return;
        }

        _flushing = Task.Run(() =>
        {
            if (history.Flush() is { } error)
            {
                Log.ForecastHistoryFailed(_logger, error);
            }
        });
    }

    private Task LearnedCapacityPassAsync(CancellationToken cancellationToken)
    {
        _capacity.Pass(_backends.Values);
        return Task.CompletedTask;
    }
}

namespace HaproxyAutoscale.Simulation;

/// <summary>Placeholder of the fitted model's shape (replaced by the fit's own file).</summary>
public sealed class ServerModel
{
    /// <summary>The backends.</summary>
    public IList<BackendModel> Backends { get; } = [];

    /// <summary>The backend's model, or null.</summary>
    public BackendModel? Find(string backend) => Backends.FirstOrDefault(b => b.Backend == backend);
}

/// <summary>Placeholder.</summary>
public sealed class BackendModel
{
    /// <summary>Backend.</summary>
    public string Backend { get; set; } = "";

    /// <summary>p0..p100.</summary>
    public IList<double> ServiceTimeQuantilesMs { get; } = [];

    /// <summary>k.</summary>
    public double Workers { get; set; } = 1;

    /// <summary>maxconn.</summary>
    public int? MaxConn { get; set; }

    /// <summary>Cold start.</summary>
    public double ColdStartMs { get; set; }

    /// <summary>Idle to cold.</summary>
    public double IdleToColdS { get; set; } = 300;

    /// <summary>Lines used.</summary>
    public long FittedRequests { get; set; }

    /// <summary>Inverse CDF.</summary>
    public double SampleServiceMs(double uniform01)
    {
        double position = uniform01 * (ServiceTimeQuantilesMs.Count - 1);
        int i = (int)position;
        return i >= ServiceTimeQuantilesMs.Count - 1 ? ServiceTimeQuantilesMs[^1] : ServiceTimeQuantilesMs[i] + ((position - i) * (ServiceTimeQuantilesMs[i + 1] - ServiceTimeQuantilesMs[i]));
    }

    /// <summary>Latency at a concurrency.</summary>
    public double LatencyMs(double serviceMs, int concurrency) => serviceMs * Math.Max(1, concurrency / Workers);
}

using HaproxyAutoscale.Capacity;
using HaproxyAutoscale.Forecasting;
using HaproxyAutoscale.Scaling;
using HaproxyAutoscale.Tests.Infrastructure;
using HaproxyAutoscale.Windows;

namespace HaproxyAutoscale.Tests.Scaling;

/// <summary>
/// The learned capacity's and the forecast's gauges (the dashboard's "Learned capacity" and "Forecast" panels read
/// them) are exported per backend from its snapshot, and absent for a backend without a model or a forecast. A short
/// end-to-end run has neither a confident model nor days of history, so the dashboard scrape test leaves them to this one.
/// </summary>
public sealed class LearnedAndForecastMetricsTests
{
    [Fact]
    public void Gauges_BackendWithModelAndForecast_ExportedPerBackend_NoneWithout()
    {
        var learned = new LearnedCapacity { Workers = 2, ServiceMeanMs = 40, ServiceP95Ms = 60, Confident = true, SloP95Ms = 200, PerServerAtSlo = 33.5 };
        BackendSnapshot[] snapshots =
        [
            new("app", WindowValue.Empty, []) { Capacity = learned, Forecast = new ForecastStatus(ForecastMode.ForecastOnly, 5, TimeSpan.FromMinutes(2), 7, "forecast") },
            new("quiet", WindowValue.Empty, []),
        ];
        using var recorder = new MeterRecorder();
        using var metrics = new AutoscaleMetrics(() => [], () => snapshots, recorder);

        recorder.Latest("capacity_per_server", "app").Should().Be(33.5);
        recorder.Latest("capacity_workers", "app").Should().Be(2);
        recorder.Latest("capacity_service_ms", "app").Should().Be(40);
        recorder.Latest("capacity_confident", "app").Should().Be(1);
        recorder.Latest("forecast_servers", "app").Should().Be(5);
        foreach (string gauge in new[] { "capacity_per_server", "capacity_workers", "capacity_service_ms", "capacity_confident", "forecast_servers" })
        {
            recorder.Latest(gauge, "quiet").Should().BeNull($"{gauge}: no model or forecast, no measurement (not a 0 that reads as one)");
        }
    }
}

using System.IO.Abstractions;
using HaproxyAutoscale.Configuration;
using HaproxyAutoscale.Forecasting;
using HaproxyAutoscale.Policies;
using HaproxyAutoscale.Scaling;
using HaproxyAutoscale.Windows;
using Microsoft.Extensions.Time.Testing;

namespace HaproxyAutoscale.Tests.Forecasting;

public sealed class ForecastFloorTests
{
    // Thursday 26 November 2026, 07:50 UTC: the morning ramp of the days before came at 08:00.
    private static readonly DateTimeOffset Morning = new(2026, 11, 26, 7, 50, 0, TimeSpan.Zero);
    private readonly FakeTimeProvider _time = new(Morning);

    private static BackendOptions Backend(ForecastMode mode, TimeSpan? spread = null)
    {
        var backend = new BackendOptions { Name = "app" };
        backend.Servers.Add(new ServerOptions { Name = "s1", AlwaysUp = true });
        foreach (string name in new[] { "s2", "s3", "s4" })
        {
            backend.Servers.Add(new ServerOptions { Name = name });
        }

        backend.Forecast.Mode = mode;
        backend.Forecast.Spread = spread ?? TimeSpan.Zero;
        return backend;
    }

    // A history in which the backend needed `servers` from 08:00 to 09:00 on each of the `days` days before Morning, 1 otherwise.
    private static DemandHistory Ramps(int days, int servers = 4)
    {
        var history = new DemandHistory();
        long today = DemandHistory.MinuteOf(new DateTimeOffset(Morning.Date, TimeSpan.Zero));
        for (long minute = today - (days * 1440); minute < today; minute++)
        {
            history.Add(minute, (minute - today + (days * 1440)) % 1440 is >= 480 and < 540 ? servers : 1);
        }

        return history;
    }

    private (BackendDecider Decider, ServerTable Servers, BackendForecast Forecast) Create(BackendOptions options, IScalingPolicy policy, DemandHistory history)
    {
        var servers = new ServerTable(options, _time);
        var forecast = new BackendForecast(options.Name, options.Forecast, store: null);
        forecast.UseHistory(history);
        var decider = new BackendDecider(options, policy, ResponseTimeWindows.Create(options.Window, _time), servers, _time) { Forecast = forecast };
        return (decider, servers, forecast);
    }

    [Fact]
    public void On_RaisesTheFloorAheadOfTheRamp_ByTheMeasuredLead()
    {
        var policy = new Fixed(ScalingDecision.Hold("quiet"));
        (BackendDecider decider, _, BackendForecast forecast) = Create(Backend(ForecastMode.On), policy, Ramps(days: 2));

        decider.Decide().Decision.Action.Should().Be(ScalingAction.Hold, "07:50 + the 1 min least lead is before the ramp");

        forecast.NoteReady(TimeSpan.FromMinutes(12)); // a slow start + warm-up was measured
        _time.Advance(TimeSpan.FromMinutes(1));
        ScalingPlan plan = decider.Decide();

        plan.Decision.Action.Should().Be(ScalingAction.Up);
        plan.Servers.Should().Equal("s2", "s3", "s4");
        plan.Decision.Reason.Should().StartWith("forecast floor of 4 (p90 of 2 past days' peaks at 07:51–08:03 UTC");
        forecast.Current!.Lead.Should().Be(TimeSpan.FromMinutes(12));
    }

    [Fact]
    public void On_NeverLowers_APolicyAboveTheForecastIsFollowed_AndNoScaleDownComesFromIt()
    {
        var policy = new Fixed(ScalingDecision.Up(3, "busy"));
        _time.Advance(TimeSpan.FromMinutes(20)); // 08:10: the forecast asks for 2
        (BackendDecider decider, ServerTable servers, _) = Create(Backend(ForecastMode.On), policy, Ramps(days: 1, servers: 2));
        decider.Decide().Decision.Should().Be(ScalingDecision.Up(3, "busy"), "the policy wants more than the forecast: the forecast is only a floor");
        foreach (string s in new[] { "s2", "s3", "s4" })
        {
            servers.Set(s, ServerLifecycleState.Active);
        }

        policy.Next = ScalingDecision.Hold("steady");
        decider.Decide().Decision.Action.Should().Be(ScalingAction.Hold, "a forecast below the active servers takes none away");

        policy.Next = ScalingDecision.Down(3, "quiet");
        ScalingPlan plan = decider.Decide();
        plan.Decision.Should().Be(ScalingDecision.Down(2, "quiet"), "the policy goes down, but not below the forecast floor of 2");
    }

    [Fact]
    public void ForecastOnly_ShowsTheFloorButDoesNotAct()
    {
        var policy = new Fixed(ScalingDecision.Hold("quiet"));
        _time.Advance(TimeSpan.FromMinutes(15));
        (BackendDecider decider, _, BackendForecast forecast) = Create(Backend(ForecastMode.ForecastOnly), policy, Ramps(days: 1));

        decider.Decide().Decision.Action.Should().Be(ScalingAction.Hold);
        policy.Last.MinActive.Should().Be(1);
        forecast.Current.Should().NotBeNull();
        forecast.Current!.Servers.Should().Be(4);
        forecast.Current.Mode.Should().Be(ForecastMode.ForecastOnly);
        forecast.TakeNews().Changed!.Servers.Should().Be(4, "the first forecast is logged (event 90)");
        forecast.TakeNews().Changed.Should().BeNull("and not again while it stays");
    }

    [Fact]
    public void Off_NoForecastAndNoHistoryKept()
    {
        (BackendDecider decider, _, BackendForecast forecast) = Create(Backend(ForecastMode.Off), new Fixed(ScalingDecision.Hold("quiet")), Ramps(days: 1));
        _time.Advance(TimeSpan.FromMinutes(15));

        decider.Decide();

        forecast.Current.Should().BeNull();
    }

    [Fact]
    public void Rule_SameWeekdayWeighsThreeTimes_ThePercentileOfThePeaks()
    {
        var history = new DemandHistory();
        long today = DemandHistory.MinuteOf(Morning);
        for (int d = 1; d <= 7; d++)
        {
            history.Add(today - (d * 1440), d == 7 ? 6 : 2); // a week ago (the same weekday) 6, other days 2
        }

        var options = new ForecastOptions { Spread = TimeSpan.Zero, Lookback = TimeSpan.FromDays(7), Percentile = 50 };
        ForecastRule.Forecast(history, today, today, options).Should().Be((2, 7), "weights 6 × 1 + 3 (same weekday): the median is 2");
        options.Percentile = 70;
        ForecastRule.Forecast(history, today, today, options).Should().Be((6, 7), "the same weekday holds a third of the weight");
        options.Percentile = 100;
        ForecastRule.Forecast(history, today - 5, today - 1, options).Should().BeNull("no past day has a record in the range");
    }

    [Fact]
    public void Restart_HistoryWrittenByOneDaemon_IsReadByTheNext()
    {
        string directory = Directory.CreateTempSubdirectory("hpa-forecast-").FullName;
        try
        {
            // Yesterday the backend needed 4 servers from 08:00 to 09:00: the daemon records it from its evaluations.
            var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 25, 7, 0, 0, TimeSpan.Zero));
            var store = new DemandHistoryStore(new FileSystem(), directory);
            BackendOptions options = Backend(ForecastMode.On, spread: TimeSpan.FromMinutes(10));
            var policy = new Fixed(ScalingDecision.Hold("quiet"));
            var first = new BackendDecider(options, policy, ResponseTimeWindows.Create(options.Window, time), new ServerTable(options, time), time)
            {
                Forecast = new BackendForecast("app", options.Forecast, store),
            };
            for (int minute = 0; minute < 180; minute++)
            {
                policy.Next = minute is >= 60 and < 120 ? ScalingDecision.Up(3, "busy") : ScalingDecision.Hold("quiet");
                first.Decide();
                store.Flush().Should().BeNull();
                time.Advance(TimeSpan.FromMinutes(1));
            }

            // Today at 07:50 a new daemon (new store, new decider) reads it and raises the floor before 08:00.
            var next = new BackendDecider(options, new Fixed(ScalingDecision.Hold("quiet")), ResponseTimeWindows.Create(options.Window, _time), new ServerTable(options, _time), _time)
            {
                Forecast = new BackendForecast("app", options.Forecast, new DemandHistoryStore(new FileSystem(), directory)),
            };
            ScalingPlan plan = next.Decide();

            plan.Decision.Should().Be(ScalingDecision.Up(3, plan.Decision.Reason));
            plan.Decision.Reason.Should().StartWith("forecast floor of 4");
            next.Forecast.TakeNews().LoadNote.Should().Be("read 179 minutes of demand history");
            File.Exists(Path.Combine(directory, "demand", "app.bin")).Should().BeTrue();
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Theory]
    [InlineData("\"mode\": \"sometimes\"", "backends.app.forecast.mode: 'sometimes' is not one of off, forecast-only, on")]
    [InlineData("\"percentile\": 0", "backends.app.forecast.percentile: must be a number from 1 to 100, not 0")]
    [InlineData("\"lookback\": \"720h\"", "backends.app.forecast.lookback: must be from 1 day (\"24h\") to 14 days (\"336h\")")]
    [InlineData("\"spread\": \"3h\"", "backends.app.forecast.spread: must be from 0 to 2 hours")]
    [InlineData("\"minLead\": \"2h\"", "backends.app.forecast.minLead: must be from 0 to 1 hour")]
    [InlineData("\"often\": true", "backends.app.forecast.often: unknown key")]
    public void Configuration_AWrongForecastSetting_IsAProblemAtItsKeyPath(string setting, string problem)
    {
        ConfigurationResult result = AutoscaleConfiguration.Parse($$"""
            { "haproxy": { "endpoints": ["127.0.0.1:9999"] },
              "backends": { "app": { "servers": { "s1": { "alwaysUp": true }, "s2": {} }, "forecast": { {{setting}} } } } }
            """);

        result.Errors.Should().Contain(problem);
    }

    [Fact]
    public void Configuration_ForecastOnly_IsRead()
    {
        ConfigurationResult result = AutoscaleConfiguration.Parse("""
            { "haproxy": { "endpoints": ["127.0.0.1:9999"] },
              "backends": { "app": { "servers": { "s1": { "alwaysUp": true }, "s2": {} }, "forecast": { "mode": "forecast-only", "spread": "5m", "percentile": 95 } } } }
            """);

        result.Errors.Should().BeEmpty();
        ForecastOptions forecast = result.Options!.Backends[0].Forecast;
        (forecast.Mode, forecast.Spread, forecast.Percentile, forecast.Lookback).Should().Be((ForecastMode.ForecastOnly, TimeSpan.FromMinutes(5), 95.0, TimeSpan.FromDays(14)));
    }

    private sealed class Fixed(ScalingDecision decision) : IScalingPolicy
    {
        public ScalingDecision Next { get; set; } = decision;

        public ScalingContext Last { get; private set; }

        public ScalingDecision Decide(ScalingContext context)
        {
            Last = context;
            return Next;
        }
    }
}

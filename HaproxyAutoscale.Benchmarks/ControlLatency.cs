using System.Diagnostics;
using System.Globalization;
using HaproxyAutoscale.Control;
using HaproxyAutoscale.Lab;

namespace HaproxyAutoscale.Benchmarks;

/// <summary>
/// Per-call latency distribution of Runtime API round trips to a real local HAProxy: every call timed on its own, so
/// p99 is a percentile of calls (BenchmarkDotNet's columns are statistics of iteration means).
/// </summary>
public static class ControlLatency
{
    public static async Task RunAsync(int calls)
    {
        await using Haproxy haproxy = ControlBenchmarks.StartHaproxy(out int port);
        var oneShot = new HaproxyControlOptions { Persistent = false };
        (string Transport, string Endpoint)[] transports = [("UNIX", "unix@" + haproxy.ReadySocket), ("TCP", $"ipv4@127.0.0.1:{port}")];
        Console.WriteLine($"{"command",-12} {"transport",-9} {"session",-10} {"p50 µs",8} {"p99 µs",8} {"max µs",8}   ({calls} calls each, after 2,000 warm-up calls)");
        foreach ((string command, Func<IHaproxyControl, Task> call) in new (string, Func<IHaproxyControl, Task>)[]
        {
            ("show info", c => c.ShowInfoAsync()),
            ("set weight", c => c.SetWeightAsync("app", "s1", 10)),
        })
        {
            foreach ((string transport, string endpoint) in transports)
            {
                foreach (bool persistent in new[] { true, false })
                {
                    await using IHaproxyControl control = HaproxyControl.Create(endpoint, persistent ? new HaproxyControlOptions() : oneShot);
                    double[] micros = await MeasureAsync(control, call, calls);
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"{command,-12} {transport,-9} {(persistent ? "persistent" : "one-shot"),-10} {Percentile(micros, 50),8:F1} {Percentile(micros, 99),8:F1} {micros[^1],8:F1}"));
                }
            }
        }
    }

    private static async Task<double[]> MeasureAsync(IHaproxyControl control, Func<IHaproxyControl, Task> call, int calls)
    {
        for (int i = 0; i < 2000; i++)
        {
            await call(control);
        }

        var micros = new double[calls];
        for (int i = 0; i < calls; i++)
        {
            long start = Stopwatch.GetTimestamp();
            await call(control);
            micros[i] = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
        }

        Array.Sort(micros);
        return micros;
    }

    // Nearest rank.
    private static double Percentile(double[] sorted, double percent) =>
        sorted[Math.Max(0, (int)Math.Ceiling(percent / 100 * sorted.Length) - 1)];
}

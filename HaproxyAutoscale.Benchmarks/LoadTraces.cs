using System.Globalization;

namespace HaproxyAutoscale.Benchmarks;

/// <summary>
/// The load traces of the policy comparison (<c>policy-comparison.sh</c>), generated deterministically from a
/// seed: open-loop Poisson arrivals of backend <c>app</c>, time-compressed. Only the accept dates matter (the
/// comparison simulates with a given server model, <c>simulate --model</c>); the timers are placeholders.
/// <list type="bullet">
/// <item><c>step</c>: 40 requests/s for 30 s, then 150 requests/s for 120 s (the issue's closed-loop step, at 75 % of four servers' 200 requests/s).</item>
/// <item><c>spike</c>: 30 requests/s for 60 s, 150 requests/s for 15 s, 30 requests/s for 75 s.</item>
/// <item><c>noisy</c>: 120 requests/s ± 35 % for 150 s: each second's rate drawn uniformly from 78 to 162 (the issue's
/// noisy trace; steady on average, at 60 % of four servers' 200 requests/s).</item>
/// <item><c>diurnal</c>: a day compressed to 24 minutes (one minute per hour): 15 requests/s at night, up to 155 in
/// the afternoon (a squared sine from 6:00 to 20:00), the rate multiplied every 5 s by log-normal noise (σ 0.25), at most 170 (four servers serve 200).</item>
/// <item><c>threeday</c>: three days in real time (not compressed: the forecast goes by the time of day), a quiet night (3
/// requests/s), 10 requests/s from 7:00, a morning ramp from 10 to 150 requests/s over the minute from 8:00, 150 until
/// 9:00, down to 12 by 9:05 and 12 until 19:00; the same every day (the forecast backtest, <c>forecast-backtest.sh</c>).</item>
/// </list>
/// </summary>
public static class LoadTraces
{
    public static readonly string[] Kinds = ["step", "spike", "noisy", "diurnal", "threeday"];

    public static void Write(TextWriter output, string kind, int seed)
    {
        var random = new Random(seed);
        (double Seconds, Func<double, double> Rate) trace = kind switch
        {
            "step" => (150, t => t < 30 ? 40 : 150),
            "spike" => (150, t => t is >= 60 and < 75 ? 150 : 30),
            "noisy" => (150, Noisy(new Random(seed + 1))),
            "diurnal" => (1440, Diurnal(new Random(seed + 1))),
            "threeday" => (3 * 86400, MorningRamps),
            _ => throw new ArgumentException($"unknown trace '{kind}' (known: {string.Join(", ", Kinds)})", nameof(kind)),
        };
        var start = new DateTime(2026, 11, 27, 0, 0, 0, DateTimeKind.Utc);
        double t = 0;
        int n = 0;
        while (true)
        {
            // Poisson arrivals at a rate that changes over time: thinning against the highest rate.
            const double MaxRate = 400;
            t += -Math.Log(1 - random.NextDouble()) / MaxRate;
            if (t >= trace.Seconds)
            {
                break;
            }

            if (random.NextDouble() * MaxRate > trace.Rate(t))
            {
                continue;
            }

            DateTime at = start.AddSeconds(t);
            int server = (n++ % 4) + 1;
            output.Write(string.Create(CultureInfo.InvariantCulture,
                $"{at:MMM dd HH:mm:ss} lb1 haproxy[1]: 127.0.0.1:40000 [{at:dd/MMM/yyyy:HH:mm:ss.fff}] fe app/s{server} 0/0/0/40/41 200 512 - - ---- 1/1/0/0/0 0/0 \"GET / HTTP/1.1\"\n"));
        }
    }

    private static double MorningRamps(double t)
    {
        double hour = t % 86400 / 3600;
        return hour switch
        {
            < 7 or >= 19 => 3,
            < 8 => 10,
            < 8 + (1.0 / 60) => 10 + (140 * (hour - 8) * 60), // 10 → 150 within the minute from 8:00
            < 9 => 150,
            < 9 + (5.0 / 60) => 150 - (138 * (hour - 9) * 12), // 150 → 12 within five minutes from 9:00
            _ => 12,
        };
    }

    private static Func<double, double> Diurnal(Random noise)
    {
        double[] factors = [.. Enumerable.Range(0, (1440 / 5) + 1).Select(_ => Math.Exp(0.25 * Gaussian(noise)))];
        return t =>
        {
            double hour = t / 60;
            double day = hour is > 6 and < 20 ? Math.Pow(Math.Sin(Math.PI * (hour - 6) / 14), 2) : 0;
            return Math.Min(170, (15 + (140 * day)) * factors[(int)(t / 5)]);
        };
    }

    private static Func<double, double> Noisy(Random noise)
    {
        double[] rates = [.. Enumerable.Range(0, 150).Select(_ => 120 * (1 + (0.35 * ((2 * noise.NextDouble()) - 1))))];
        return t => rates[Math.Min((int)t, rates.Length - 1)];
    }

    private static double Gaussian(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}

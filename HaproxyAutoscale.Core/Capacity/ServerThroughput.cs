namespace HaproxyAutoscale.Capacity;

/// <summary>
/// How many requests per second one server takes before its p95 response time passes the SLO, from its learned
/// workers W and service time S.
/// </summary>
/// <remarks>
/// <para>The server is taken as W workers fed from one queue (HAProxy's, with <c>maxconn</c> W; or the app's own):
/// the M/M/W queue. At an arrival rate λ the offered load is a = λ·S (busy workers on average, below W); a request
/// waits with the Erlang C probability P(a), and then for an exponential time of mean S / (W − a). Its p95 response
/// time is taken as the service time's own p95 plus the wait's p95, ln(P / 0.05) · S / (W − a) (0 when P ≤ 5 %):
/// adding two p95s over-states the p95 of their sum a little, which errs on the side of one more server. Service
/// times less variable than the exponential's wait less: the wait is scaled by (1 + c²) / 2, c² the service time's
/// squared coefficient of variation (the Allen–Cunneen approximation of M/G/W).</para>
/// <para>The largest a whose p95 stays under the SLO (found by bisection: the p95 grows with a) gives the throughput
/// a / S. When the service time's p95 alone is over the SLO, no number of servers meets it: the server is then sized
/// at half its workers busy (<see cref="Utilization"/> 0.5), the point past which queueing grows fastest.</para>
/// </remarks>
internal static class ServerThroughput
{
    /// <summary>The load a server is sized at when the SLO cannot be met (its service time alone is slower).</summary>
    internal const double Utilization = 0.5;

    /// <summary>
    /// Requests per second per server at which the p95 stays within <paramref name="sloMs"/>, and whether the SLO can
    /// be met at all. <paramref name="workers"/> is rounded to the nearest whole number (at least 1).
    /// </summary>
    public static (double PerSecond, bool Reachable) AtSlo(double workers, double serviceMeanMs, double serviceP95Ms, double sloMs, double squaredVariation = 1)
    {
        double variability = (1 + Math.Clamp(squaredVariation, 0, 10)) / 2;
        int w = Math.Max(1, (int)Math.Round(workers)); // a fit of 1.95 is 2 workers, not 1
        double s = Math.Max(serviceMeanMs, 0.001) / 1000;
        if (serviceP95Ms >= sloMs)
        {
            return (Utilization * w / s, false);
        }

        double low = 0, high = w;
        for (int i = 0; i < 50; i++)
        {
            double a = (low + high) / 2;
            if (P95Ms(w, a, s, serviceP95Ms, variability) <= sloMs)
            {
                low = a;
            }
            else
            {
                high = a;
            }
        }

        return (low / s, true);
    }

    /// <summary>The p95 response time in milliseconds at offered load <paramref name="a"/> (see the remarks).</summary>
    internal static double P95Ms(int workers, double a, double serviceS, double serviceP95Ms, double variability = 1)
    {
        double waiting = ErlangC(workers, a);
        double wait = waiting <= 0.05 ? 0 : variability * Math.Log(waiting / 0.05) * serviceS / (workers - a);
        return serviceP95Ms + (wait * 1000);
    }

    /// <summary>The probability that a request waits in an M/M/<paramref name="workers"/> queue at offered load <paramref name="a"/> (Erlang B's recursion, then C).</summary>
    internal static double ErlangC(int workers, double a)
    {
        if (a >= workers)
        {
            return 1;
        }

        double b = 1;
        for (int k = 1; k <= workers; k++)
        {
            b = a * b / (k + (a * b));
        }

        return workers * b / (workers - (a * (1 - b)));
    }
}

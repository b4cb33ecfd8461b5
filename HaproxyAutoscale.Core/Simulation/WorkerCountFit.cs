namespace HaproxyAutoscale.Simulation;

/// <summary>
/// The number of workers k that best explains how a backend's mean response time grows with concurrency c:
/// least squares of the mean <c>Tr</c> per concurrency against <c>meanLow × max(1, c / k)</c>, relative residuals
/// weighted by the line count.
/// </summary>
internal static class WorkerCountFit
{
    // 5 % of a chi-square with one degree of freedom: the growth with srv_conn must explain more than noise would.
    private const double GrowthSignificance = 3.84;

    /// <summary>
    /// The fitted k (rounded to 3 decimals, at least 1), or <see langword="null"/> when the growth is not significant
    /// (the log shows no limit). <paramref name="buckets"/> holds at least two concurrencies, in increasing order.
    /// </summary>
    public static double? SaturatingWorkers(List<(int C, long N, double Mean)> buckets, double meanLow)
    {
        int top = buckets[^1].C;
        double Error(double k)
        {
            double error = 0;
            foreach ((int c, long n, double mean) in buckets)
            {
                double r = (mean / (meanLow * Math.Max(1, c / k))) - 1;
                error += n * r * r;
            }

            return error;
        }

        double best = top, bestError = Error(top);
        for (double k = 1; k < top; k *= 1.01)
        {
            double error = Error(k);
            if (error < bestError)
            {
                (best, bestError) = (k, error);
            }
        }

        // Golden-section search around the best grid point.
        double lo = Math.Max(1, best / 1.01), hi = Math.Min(top, best * 1.01);
        const double Ratio = 0.6180339887498949;
        for (int i = 0; i < 40; i++)
        {
            double a = hi - (Ratio * (hi - lo)), b = lo + (Ratio * (hi - lo));
            if (Error(a) <= Error(b))
            {
                hi = b;
            }
            else
            {
                lo = a;
            }
        }

        double refined = (lo + hi) / 2;
        if (Error(refined) < bestError)
        {
            (best, bestError) = (refined, Error(refined));
        }

        double gain = Error(top) - bestError;
        double noise = bestError / (buckets.Count - 1);
        return best < top && gain > 0 && gain > GrowthSignificance * noise ? Math.Round(Math.Max(1, best), 3) : null;
    }
}

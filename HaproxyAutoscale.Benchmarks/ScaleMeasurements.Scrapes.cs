using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;

namespace HaproxyAutoscale.Benchmarks;

public static partial class ScaleMeasurements
{
    // SCRAPES=N: N Prometheus scrapes of /metrics 5 s apart while the lines keep coming at the rate, the daemon's RSS
    // read every 20 ms: its largest between the scrapes and during them (what a scrape of every backend's series costs).
    private static async Task<string> ScrapeRssAsync(Socket socket, byte[][] blocks, int rate, HttpClient http, Uri metrics, int pid, int count)
    {
        long between = 0, during = 0, bytes = 0;
        var took = new List<double>();
        var before = new List<long>();
        bool scraping = false;
        using var done = new CancellationTokenSource();
        Task sampling = Task.Run(async () =>
        {
            while (!done.IsCancellationRequested)
            {
                long rss = DaemonMeasurements.CpuAndRss(pid).RssKb;
                if (Volatile.Read(ref scraping))
                {
                    during = Math.Max(during, rss);
                }
                else
                {
                    between = Math.Max(between, rss);
                }

                await Task.Delay(20);
            }
        });
        for (int i = 0; i < count; i++)
        {
            await SendPacedAsync(socket, blocks, rate, TimeSpan.FromSeconds(5));
            before.Add(DaemonMeasurements.CpuAndRss(pid).RssKb);
            var clock = Stopwatch.StartNew();
            Volatile.Write(ref scraping, true);
            bytes = (await http.GetByteArrayAsync(metrics)).Length;
            await Task.Delay(200); // the collection after the scrape, if any, is still the scrape's
            Volatile.Write(ref scraping, false);
            took.Add(clock.Elapsed.TotalMilliseconds - 200);
        }

        await done.CancelAsync();
        await sampling;
        return string.Create(CultureInfo.InvariantCulture,
            $"; {count} scrapes of {bytes:N0} bytes, median {took.Order().ElementAt(count / 2):0} ms: RSS right before each {string.Join(" ", before.Select(kb => (kb / 1024.0).ToString("0", CultureInfo.InvariantCulture)))} MB, at most {between / 1024.0:0.0} MB between them, {during / 1024.0:0.0} MB during them (and 200 ms after)");
    }
}

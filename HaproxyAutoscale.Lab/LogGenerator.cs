using System.Globalization;
using System.Text;

namespace HaproxyAutoscale.Lab;

/// <summary>
/// Writes a synthetic but realistic HAProxy httplog file in rsyslog's file format (what <c>halog</c> reads):
/// several backends and servers, mostly 2xx with some 3xx/4xx/5xx, <c>&lt;NOSRV&gt;</c> 503s, aborted requests with -1
/// timers, captured headers with spaces. Deterministic for a given seed.
/// </summary>
public static class LogGenerator
{
    private static readonly string[] Backends = ["app1backend", "app2backend", "static.be"];
    private static readonly string[] Paths = ["/", "/index.html?q=1", "/api/v1/items/42", "/static/app.js", "/login"];

    public static void Write(TextWriter output, int lines, int seed = 42, DateTime? start = null)
    {
        var random = new Random(seed);
        DateTime time = start ?? new DateTime(2026, 11, 26, 15, 0, 0);
        var line = new StringBuilder(320);
        for (int i = 0; i < lines; i++)
        {
            time = time.AddMilliseconds(random.Next(0, 4));
            string backend = Backends[random.Next(Backends.Length)];
            int roll = random.Next(1000);
            line.Clear();
            line.Append(CultureInfo.InvariantCulture, $"{time:MMM dd HH:mm:ss} lb1 haproxy[12853]: 10.0.{random.Next(256)}.{random.Next(1, 255)}:{random.Next(1024, 65535)} [{time:dd/MMM/yyyy:HH:mm:ss.fff}] fe_http ");
            if (roll < 5)
            {
                line.Append(CultureInfo.InvariantCulture, $"{backend}/<NOSRV> 0/-1/-1/-1/0 503 217 - - SC-- 3/3/0/0/0 0/0 \"GET / HTTP/1.1\"");
            }
            else
            {
                int tr = roll < 10 ? -1 : (int)Math.Min(60_000, 5 + (random.NextDouble() * random.NextDouble() * 400));
                int tw = random.Next(100) < 3 ? random.Next(1, 50) : 0;
                int tc = random.Next(0, 3);
                int ta = Math.Max(0, tr) + tw + tc + random.Next(0, 3);
                int status = roll < 10 ? 502 : roll < 40 ? 404 : roll < 60 ? 302 : roll < 65 ? 500 : 200;
                string termination = roll < 10 ? "SH--" : "----";
                line.Append(CultureInfo.InvariantCulture,
                    $"{backend}/server{random.Next(1, 5)} 0/{tw}/{tc}/{tr}/{ta} {status} {random.Next(100, 20000)} - - {termination} 12/12/{random.Next(8)}/{random.Next(4)}/0 0/0 {{10.0.0.1|Mozilla/5.0 (X11; Linux x86_64) spaced agent}} \"GET {Paths[random.Next(Paths.Length)]} HTTP/1.1\"");
            }

            output.Write(line);
            output.Write('\n');
        }
    }

    /// <summary>
    /// Writes a log shaped like the ones operators have: 30 % of the lines carry captured headers
    /// (<c>{host|agent}</c>), 70 % none; 1 % are what the common shape does not cover: <c>&lt;NOSRV&gt;</c> 503s, aborted
    /// requests (-1 timers), <c>+</c> totals (<c>option logasap</c>) and lines that are not request logs (server
    /// state changes); two HAProxy processes (a reload) write interleaved. Deterministic for a given seed.
    /// </summary>
    public static void WriteMixed(TextWriter output, int lines, int seed = 42, DateTime? start = null)
    {
        var random = new Random(seed);
        DateTime time = start ?? new DateTime(2026, 11, 26, 15, 0, 0);
        var line = new StringBuilder(320);
        for (int i = 0; i < lines; i++)
        {
            time = time.AddMilliseconds(random.Next(0, 4));
            string backend = Backends[random.Next(Backends.Length)];
            int roll = random.Next(1000);
            int pid = random.Next(8) == 0 ? 12853 : 13011; // the old process still finishing its connections after a reload
            line.Clear();
            line.Append(CultureInfo.InvariantCulture, $"{time:MMM dd HH:mm:ss} lb1 haproxy[{pid}]: ");
            if (roll < 2)
            {
                line.Append(CultureInfo.InvariantCulture, $"Server {backend}/server{random.Next(1, 5)} is UP, reason: Layer7 check passed, code: 200, check duration: 1ms. 4 active and 0 backup servers online. 0 sessions requeued, 0 total in queue.");
                output.Write(line);
                output.Write('\n');
                continue;
            }

            line.Append(CultureInfo.InvariantCulture, $"10.0.{random.Next(256)}.{random.Next(1, 255)}:{random.Next(1024, 65535)} [{time:dd/MMM/yyyy:HH:mm:ss.fff}] fe_http ");
            if (roll < 4)
            {
                line.Append(CultureInfo.InvariantCulture, $"{backend}/<NOSRV> 0/-1/-1/-1/0 503 217 - - SC-- 3/3/0/0/0 0/0 \"GET / HTTP/1.1\"");
            }
            else
            {
                bool aborted = roll < 7;
                int tr = aborted ? -1 : (int)Math.Min(60_000, 5 + (random.NextDouble() * random.NextDouble() * 400));
                int tw = random.Next(100) < 3 ? random.Next(1, 50) : 0;
                int tc = random.Next(0, 3);
                int ta = Math.Max(0, tr) + tw + tc + random.Next(0, 3);
                string total = roll < 10 && !aborted ? "+" + ta.ToString(CultureInfo.InvariantCulture) : ta.ToString(CultureInfo.InvariantCulture);
                int status = aborted ? 502 : roll < 40 ? 404 : roll < 60 ? 302 : roll < 65 ? 500 : 200;
                string termination = aborted ? "SH--" : "----";
                string captures = random.Next(10) < 3 ? "{10.0.0.1|Mozilla/5.0 (X11; Linux x86_64) spaced agent} " : "";
                line.Append(CultureInfo.InvariantCulture,
                    $"{backend}/server{random.Next(1, 5)} 0/{tw}/{tc}/{tr}/{total} {status} {random.Next(100, 20000)} - - {termination} 12/12/{random.Next(8)}/{random.Next(4)}/0 0/0 {captures}\"GET {Paths[random.Next(Paths.Length)]} HTTP/1.1\"");
            }

            output.Write(line);
            output.Write('\n');
        }
    }

    /// <summary>
    /// Writes a scenario for one backend: phases of steady traffic to <paramref name="server"/> at a rate with a
    /// fixed server response time; a phase with rate 0 is silence (no line at all).
    /// </summary>
    public static void WritePhases(TextWriter output, DateTime start, string backend, string server, params (TimeSpan Duration, int PerSecond, int ResponseMs)[] phases)
    {
        DateTime time = start;
        foreach ((TimeSpan duration, int perSecond, int responseMs) in phases)
        {
            DateTime end = time + duration;
            if (perSecond > 0)
            {
                TimeSpan step = TimeSpan.FromTicks(TimeSpan.TicksPerSecond / perSecond);
                for (DateTime t = time; t < end; t += step)
                {
                    output.Write(string.Create(CultureInfo.InvariantCulture,
                        $"{t:MMM dd HH:mm:ss} lb1 haproxy[1]: 127.0.0.1:40000 [{t:dd/MMM/yyyy:HH:mm:ss.fff}] fe_http {backend}/{server} 0/0/0/{responseMs}/{responseMs + 1} 200 512 - - ---- 1/1/0/0/0 0/0 \"GET / HTTP/1.1\"\n"));
                }
            }

            time = end;
        }
    }

    /// <summary>
    /// Writes <paramref name="lines"/> requests of backend <c>app</c> whose rate steps between 30 and 250 requests/s
    /// every 10 minutes (Poisson arrivals), 30–70 ms each, spread round robin over four servers; <c>srv_conn</c> is
    /// each server's requests in flight. For <c>simulate</c> and <c>tune</c>.
    /// </summary>
    public static void WriteSteps(TextWriter output, int lines, int seed = 1)
    {
        var random = new Random(seed);
        var start = new DateTime(2026, 11, 27, 0, 0, 0, DateTimeKind.Utc);
        var inFlight = new Queue<double>[4];
        for (int i = 0; i < inFlight.Length; i++)
        {
            inFlight[i] = new Queue<double>();
        }

        double t = 0;
        for (int n = 0; n < lines; n++)
        {
            t += -Math.Log(1 - random.NextDouble()) / ((int)(t / 600) % 2 == 0 ? 30 : 250);
            int server = n % 4;
            Queue<double> busy = inFlight[server];
            while (busy.Count > 0 && busy.Peek() <= t)
            {
                busy.Dequeue();
            }

            int tr = random.Next(30, 71);
            busy.Enqueue(t + (tr / 1000.0));
            DateTime at = start.AddSeconds(t);
            output.Write(string.Create(CultureInfo.InvariantCulture,
                $"{at:MMM dd HH:mm:ss} lb1 haproxy[1]: 127.0.0.1:40000 [{at:dd/MMM/yyyy:HH:mm:ss.fff}] fe app/s{server + 1} 0/0/0/{tr}/{tr + 1} 200 512 - - ---- 9/9/{busy.Count}/{busy.Count - 1}/0 0/0 \"GET / HTTP/1.1\"\n"));
        }
    }
}

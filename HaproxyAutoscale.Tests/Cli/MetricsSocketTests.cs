using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using HaproxyAutoscale.Cli;

namespace HaproxyAutoscale.Tests.Cli;

/// <summary>
/// The metrics endpoint's own socket server on loopback, IPv4 and IPv6: what it serves (the same text the exposition
/// writes to a stream, in chunks), what it refuses, and clients that connect too early or send nothing. A meter name
/// of its own per test: other tests' meters never mix in.
/// </summary>
public sealed class MetricsSocketTests
{
    private const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    [Theory]
    [InlineData("127.0.0.1", "127.0.0.1")]
    [InlineData("[::1]", "[::1]")]
    [InlineData("[::]", "127.0.0.1")] // every interface: IPv4 too
    [InlineData("[::]", "[::1]")]
    public async Task Scrape_OnIPv4AndIPv6Loopback_ServesTheMeterAndTheProcessMetrics(string bind, string connect)
    {
        string meterName = NewMeterName();
        using var meter = new Meter(meterName);
        meter.CreateObservableGauge("up", () => 1, "1", "Up.");
        int port = Ports.FreeTcp();
        await using MetricsEndpoint endpoint = Start($"{bind}:{port}", meterName);

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        using HttpResponseMessage response = await http.GetAsync(new Uri($"http://{connect}:{port}/metrics"));

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        response.Content.Headers.ContentType!.ToString().Should().Be(ContentType);
        (await response.Content.ReadAsStringAsync()).Should().Contain($"\n{Prefix(meterName)}_up 1\n").And.Contain("\n# TYPE process_cpu_seconds_total counter\n");
    }

    [Fact]
    public async Task Scrape_CountersTaggedGaugesAndHistograms_ExactlyTheTextTheWriterWritesToAStream()
    {
        string meterName = NewMeterName();
        int port = Ports.FreeTcp();
        await using MetricsEndpoint endpoint = Start($"127.0.0.1:{port}", meterName);
        using var reference = new MeterExposition(meterName, MetricsEndpoint.Buckets);
        using var meter = new Meter(meterName);
        Counter<long> decisions = meter.CreateCounter<long>("decisions", "{decision}", "Up and down decisions (tags: backend, action).");
        decisions.Add(0, new("backend", "app"), new("action", "down"));
        decisions.Add(3, new("backend", "app"), new("action", "up"));
        // Tagged gauges over several of the writer's 64 KB buffers (chunks), escapes and numbers of every kind included.
        meter.CreateObservableGauge("in_flight", () => Enumerable.Range(0, 5000).Select(i => new Measurement<double>(i / 7.0, new("backend", $"be{i:D5}"), new("state", i % 2 == 0 ? "a\"b\\c\nd" : "é"))), "{request}", "In flight.");
        meter.CreateObservableGauge("servers_max", () => new Measurement<int>(int.MaxValue, new KeyValuePair<string, object?>("backend", "app")), "{server}", "Max.");
        meter.CreateObservableGauge("huge", () => new[] { double.PositiveInfinity, double.NaN, 1e300, -0.0 }.Select(v => new Measurement<double>(v, new KeyValuePair<string, object?>("v", v.ToString(System.Globalization.CultureInfo.InvariantCulture)))), "1", "Odd values.");
        Histogram<double> lag = meter.CreateHistogram("scale_up_lag_seconds", "s", "Lag.", tags: null, new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.05, 0.1, 2.5] });
        Histogram<double> plain = meter.CreateHistogram<double>("plain_seconds", "s", "No advice: prometheus-net's buckets.");
        lag.Record(0.05, new KeyValuePair<string, object?>("backend", "app"));
        lag.Record(3, new KeyValuePair<string, object?>("backend", "app"));
        plain.Record(0.3);

        string written = await WriteToStreamAsync(reference);
        string served = await ScrapeAsync(port);

        written.Length.Should().BeGreaterThan(3 * 64 * 1024, "the body spans several chunks");
        served.Should().EndWith(written, "the served text is the process metrics then exactly the meter's text as the writer writes it");
        served[..^written.Length].Should().Contain("# TYPE process_cpu_seconds_total counter").And.NotContain(Prefix(meterName));
    }

    [Theory]
    [InlineData("GET /other HTTP/1.1", "HTTP/1.1 404 Not Found\r\n")]
    [InlineData("GET / HTTP/1.1", "HTTP/1.1 404 Not Found\r\n")]
    [InlineData("POST /metrics HTTP/1.1", "HTTP/1.1 405 Method Not Allowed\r\n")]
    [InlineData("HEAD /metrics HTTP/1.1", "HTTP/1.1 405 Method Not Allowed\r\n")]
    [InlineData("HELLO", "HTTP/1.1 400 Bad Request\r\n")]
    public async Task Request_AnythingButGetMetrics_IsRefused(string requestLine, string statusLine)
    {
        int port = Ports.FreeTcp();
        await using MetricsEndpoint endpoint = Start($"127.0.0.1:{port}", NewMeterName());

        string answer = await RawAsync(port, $"{requestLine}\r\nHost: 127.0.0.1\r\n\r\n");

        answer.Should().StartWith(statusLine);
        if (statusLine.Contains("405", StringComparison.Ordinal))
        {
            answer.Should().Contain("\r\nAllow: GET\r\n");
        }
    }

    [Fact]
    public async Task Request_Http10_GetsTheBodyUntilTheConnectionCloses()
    {
        string meterName = NewMeterName();
        using var meter = new Meter(meterName);
        meter.CreateObservableGauge("up", () => 1, "1", "Up.");
        int port = Ports.FreeTcp();
        await using MetricsEndpoint endpoint = Start($"127.0.0.1:{port}", meterName);

        string answer = await RawAsync(port, "GET /metrics HTTP/1.0\r\n\r\n");

        answer.Should().StartWith("HTTP/1.1 200 OK\r\n").And.NotContain("Transfer-Encoding").And.EndWith($"\n{Prefix(meterName)}_up 1\n");
    }

    [Fact]
    public async Task Start_ConnectionsArrivingMeanwhile_ServedOnceItListens()
    {
        // HttpListener could crash the daemon on a connection that arrived while it started (dotnet/corefx#35191).
        string meterName = NewMeterName();
        using var meter = new Meter(meterName);
        meter.CreateObservableGauge("up", () => 1, "1", "Up.");
        int port = Ports.FreeTcp();
        using var stop = new CancellationTokenSource();
        Task knocking = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                try
                {
                    await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, Volatile.Read(ref port)), stop.Token);
                    await socket.SendAsync("GET /metrics HTTP/1.1\r\n"u8.ToArray(), SocketFlags.None, stop.Token); // and gone half-sent
                }
                catch (Exception e) when (e is SocketException or OperationCanceledException)
                {
                    // not listening yet
                }

                await Task.Delay(1, CancellationToken.None);
            }
        });
        try
        {
            for (int start = 0; start < 3; start++)
            {
                Volatile.Write(ref port, Ports.FreeTcp());
                await Task.Delay(20); // knocked on while nothing listens
                await using MetricsEndpoint endpoint = Start($"127.0.0.1:{port}", meterName);
                (await ScrapeAsync(port)).Should().EndWith($"\n{Prefix(meterName)}_up 1\n");
            }
        }
        finally
        {
            await stop.CancelAsync();
            await knocking;
        }
    }

    [Fact]
    public async Task Scrape_WhileAClientSendsNothing_IsServedAtOnce_AndTheSilentOneIsClosedAtItsTimeout()
    {
        string meterName = NewMeterName();
        using var meter = new Meter(meterName);
        meter.CreateObservableGauge("up", () => 1, "1", "Up.");
        int port = Ports.FreeTcp();
        await using MetricsEndpoint endpoint = Start($"127.0.0.1:{port}", meterName, requestTimeout: TimeSpan.FromSeconds(1));
        await ScrapeAsync(port); // the first scrape's start-up costs (the process metrics' first collection) out of the way
        using var silent = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await silent.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port));
        using var halfSent = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await halfSent.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port));
        await halfSent.SendAsync("GET /metrics HTTP/1.1\r\nHost: x\r\n"u8.ToArray(), SocketFlags.None);

        (await ScrapeAsync(port)).Should().EndWith($"\n{Prefix(meterName)}_up 1\n");
        silent.Poll(0, SelectMode.SelectRead).Should().BeFalse("the scrape was served while the silent clients wait, each in a slot of its own");

        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(3));
        (await silent.ReceiveAsync(new byte[16], SocketFlags.None, deadline.Token)).Should().Be(0, "closed at the request timeout");
        (await halfSent.ReceiveAsync(new byte[16], SocketFlags.None, deadline.Token)).Should().Be(0, "closed at the request timeout");
    }

    private static MetricsEndpoint Start(string address, string meterName, TimeSpan? requestTimeout = null)
    {
        MetricsEndpoint? endpoint = MetricsEndpoint.TryStart(address, out string? error, requestTimeout, meterName);
        error.Should().BeNull();
        return endpoint!;
    }

    private static string NewMeterName() => $"Exposition.{Guid.NewGuid():N}";

    private static string Prefix(string meterName) => meterName.Replace('.', '_').ToLowerInvariant();

    private static async Task<string> ScrapeAsync(int port)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        using HttpResponseMessage response = await http.GetAsync(new Uri($"http://127.0.0.1:{port}/metrics"));
        response.EnsureSuccessStatusCode();
        response.Headers.TransferEncodingChunked.Should().BeTrue();
        return await response.Content.ReadAsStringAsync();
    }

    private static async Task<string> RawAsync(int port, string request)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port));
        await socket.SendAsync(Encoding.ASCII.GetBytes(request), SocketFlags.None);
        using var answer = new MemoryStream();
        byte[] buffer = new byte[64 * 1024];
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        int read;
        while ((read = await socket.ReceiveAsync(buffer, SocketFlags.None, deadline.Token)) > 0)
        {
            answer.Write(buffer, 0, read);
        }

        return Encoding.UTF8.GetString(answer.ToArray());
    }

    private static async Task<string> WriteToStreamAsync(MeterExposition exposition)
    {
        using var stream = new MemoryStream();
        using (var writer = new PrometheusTextWriter(stream))
        {
            await exposition.WriteAsync(writer, CancellationToken.None);
            writer.Flush();
        }

        return Encoding.UTF8.GetString(stream.ToArray());
    }
}

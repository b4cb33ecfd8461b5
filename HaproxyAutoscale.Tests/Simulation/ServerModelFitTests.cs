using System.Globalization;
using System.Text;
using HaproxyAutoscale.Simulation;

namespace HaproxyAutoscale.Tests.Simulation;

public sealed class ServerModelFitTests
{
    private const double MedianMs = 40, Sigma = 0.5;

    // The true service distribution: log-normal, median 40 ms, p95 = 40 × e^(1.645 × 0.5) ≈ 91 ms.
    private static readonly double TrueP95 = MedianMs * Math.Exp(1.6448536 * Sigma);

    [Theory]
    [InlineData(4.0)]
    [InlineData(2.5)]
    [InlineData(9.0)]
    public void Fit_ProcessorSharingLog_RecoversWorkersAndServiceTime(double workers)
    {
        var fitter = new ServerModelFitter();
        var random = new Random(12);
        for (int i = 0; i < 100_000; i++)
        {
            int concurrency = random.Next(1, 25);
            double service = LogNormal(random);
            fitter.AddLine(Line("app", $"s{i % 3}", tr: (int)Math.Round(service * Math.Max(1, concurrency / workers)), concurrency: concurrency));
        }

        ServerModelFitResult result = fitter.Fit();

        result.Errors.Should().BeEmpty();
        BackendModel model = result.Model.Find("app")!;
        model.Workers.Should().BeApproximately(workers, workers * 0.10);
        model.ServiceTimeQuantilesMs.Should().HaveCount(101).And.BeInAscendingOrder();
        model.ServiceTimeQuantilesMs[50].Should().BeApproximately(MedianMs, MedianMs * 0.05);
        model.ServiceTimeQuantilesMs[95].Should().BeApproximately(TrueP95, TrueP95 * 0.05);
        model.MaxConn.Should().BeNull();
        model.FittedRequests.Should().Be(100_000);
        fitter.Requests.Should().Be(100_000);
    }

    [Fact]
    public void Fit_FewRequestsAloneOnTheirServer_WidensToTheLowestSrvConnValuesAndSaysSo()
    {
        var fitter = new ServerModelFitter();
        var random = new Random(3);
        for (int i = 0; i < 50_000; i++)
        {
            int concurrency = random.Next(3, 30);
            fitter.AddLine(Line("busy", "s1", tr: (int)Math.Round(LogNormal(random) * Math.Max(1, concurrency / 10.0)), concurrency: concurrency));
        }

        ServerModelFitResult result = fitter.Fit();

        BackendModel model = result.Model.Find("busy")!;
        model.ServiceTimeQuantilesMs[50].Should().BeApproximately(MedianMs, MedianMs * 0.05);
        model.Workers.Should().BeApproximately(10, 1);
        result.Notes.Should().ContainSingle(n => n.Contains("srv_conn <= 2", StringComparison.Ordinal) && n.Contains("'busy'", StringComparison.Ordinal));
    }

    [Fact]
    public void Fit_ResponseTimeDoesNotGrowWithSrvConn_WorkersIsTheLargestSrvConnWithANote()
    {
        var fitter = new ServerModelFitter();
        var random = new Random(5);
        for (int i = 0; i < 20_000; i++)
        {
            fitter.AddLine(Line("calm", "s1", tr: (int)Math.Round(LogNormal(random)), concurrency: random.Next(1, 13)));
        }

        ServerModelFitResult result = fitter.Fit();

        result.Model.Find("calm")!.Workers.Should().Be(12);
        result.Notes.Should().ContainSingle(n => n.Contains("does not grow with srv_conn", StringComparison.Ordinal));
    }

    [Fact]
    public void Fit_LinesThatWaitedInAQueue_MaxConnIsTheLargestSrvConn()
    {
        var fitter = new ServerModelFitter();
        var random = new Random(7);
        for (int i = 0; i < 5_000; i++)
        {
            int concurrency = random.Next(1, 9);
            fitter.AddLine(Line("capped", "s1", tr: (int)Math.Round(LogNormal(random) * Math.Max(1, concurrency / 2.0)), concurrency: concurrency, tw: concurrency == 8 ? 15 : 0));
            fitter.AddLine(Line("open", "s1", tr: (int)Math.Round(LogNormal(random)), concurrency: concurrency));
        }

        ServerModelFitResult result = fitter.Fit();

        result.Model.Find("capped")!.MaxConn.Should().Be(8);
        result.Model.Find("open")!.MaxConn.Should().BeNull();
    }

    [Fact]
    public void Fit_AFewQueuedLinesLogSrvConnEqualToMaxconn_MaxConnIgnoresThem()
    {
        // As a real HAProxy 2.6 logs a queue behind maxconn 4: mostly srv_conn 3, and 4 when the next queued request took
        // the freed place before the line was written.
        var fitter = new ServerModelFitter();
        for (int i = 0; i < 1_000; i++)
        {
            fitter.AddLine(Line("q", "s1", tr: 20, concurrency: i % 50 == 0 ? 5 : 4, tw: 300));
        }

        fitter.Fit().Model.Find("q")!.MaxConn.Should().Be(4);
    }

    [Fact]
    public void Fit_TcplogOnlyBackend_ErrorNamesTheBackendAndOptionHttplogWhileOthersAreFitted()
    {
        var fitter = new ServerModelFitter();
        for (int i = 0; i < 500; i++)
        {
            fitter.AddLine(Encoding.ASCII.GetBytes($"127.0.0.1:4000 [27/Nov/2026:10:00:00.000] fe_tcp db/pg1 0/1/{100 + i} 2000 -- 3/3/3/2/0 0/0"));
            fitter.AddLine(Line("web", "s1", tr: 10 + (i % 7), concurrency: 1 + (i % 3)));
        }

        ServerModelFitResult result = fitter.Fit();

        result.Succeeded.Should().BeFalse();
        result.Errors.Should().ContainSingle().Which.Should().Contain("backend 'db'").And.Contain("tcplog").And.Contain("option httplog").And.Contain("Tr");
        result.Model.Backends.Select(b => b.Backend).Should().Equal("web");
    }

    [Fact]
    public void Fit_NoRequestLogLineAtAll_ErrorSaysSo()
    {
        var fitter = new ServerModelFitter();
        fitter.AddLine("<133>Nov 27 10:00:00 haproxy[1]: Proxy app started."u8);
        fitter.AddLine("not a log line"u8);

        ServerModelFitResult result = fitter.Fit();

        result.Model.Backends.Should().BeEmpty();
        result.Errors.Should().ContainSingle().Which.Should().Contain("no HAProxy request log line among the 2 lines").And.Contain("option httplog");
    }

    [Fact]
    public void Fit_EveryRequestAloneOnItsServer_OneWorkerWithANote()
    {
        var fitter = new ServerModelFitter();
        for (int i = 0; i < 300; i++)
        {
            fitter.AddLine(Line("quiet", "s1", tr: 20 + (i % 5), concurrency: 1));
        }

        ServerModelFitResult result = fitter.Fit();

        result.Errors.Should().BeEmpty();
        result.Model.Find("quiet")!.Workers.Should().Be(1);
        result.Notes.Should().ContainSingle().Which.Should().Contain("backend 'quiet'").And.Contain("no limit below it");
    }

    [Fact]
    public void Fit_NoRequestReachedAServer_LeftOutWithANoteNotAnError()
    {
        var fitter = new ServerModelFitter();
        fitter.AddLine(Encoding.ASCII.GetBytes("127.0.0.1:4000 [27/Nov/2026:10:00:00.000] fe fe/<NOSRV> -1/-1/-1/-1/0 400 0 - - CR-- 1/1/0/0/0 0/0 \"<BADREQ>\""));
        fitter.AddLine(Line("app", "s1", tr: 5, concurrency: 1));

        ServerModelFitResult result = fitter.Fit();

        result.Succeeded.Should().BeTrue();
        result.Model.Backends.Select(b => b.Backend).Should().Equal("app");
        result.Notes.Should().Contain(n => n.StartsWith("backend 'fe': left out", StringComparison.Ordinal));
    }

    [Fact]
    public void Fit_NoServerEverAnswered_ErrorSaysTrIsMissing()
    {
        var fitter = new ServerModelFitter();
        fitter.AddLine(Encoding.ASCII.GetBytes("127.0.0.1:4000 [27/Nov/2026:10:00:00.000] fe down/s1 0/0/0/-1/5002 504 217 - - sH-- 1/1/0/0/0 0/0 \"GET / HTTP/1.1\""));

        ServerModelFitResult result = fitter.Fit();

        result.Errors.Should().ContainSingle().Which.Should().Contain("backend 'down'").And.Contain("Tr is -1");
    }

    [Fact]
    public void Fit_ColdStartGiven_EveryBackendCarriesIt()
    {
        var fitter = new ServerModelFitter(coldStartMs: 1500, idleToColdS: 60);
        fitter.AddLine(Line("app", "s1", tr: 5, concurrency: 1));

        BackendModel model = fitter.Fit().Model.Backends.Single();

        (model.ColdStartMs, model.IdleToColdS).Should().Be((1500.0, 60.0));
    }

    [Fact]
    public void Fit_RecordsAddedAlreadyParsed_SameModelAsLines()
    {
        var fromLines = new ServerModelFitter();
        var fromRecords = new ServerModelFitter();
        var parser = new HaproxyAutoscale.Logs.HaproxyLogParser();
        var random = new Random(9);
        for (int i = 0; i < 3_000; i++)
        {
            int concurrency = random.Next(1, 6);
            byte[] line = Line(i % 2 == 0 ? "a" : "b", "s1", tr: (int)Math.Round(LogNormal(random) * Math.Max(1, concurrency / 2.0)), concurrency: concurrency);
            fromLines.AddLine(line);
            parser.TryParse(line, out HaproxyAutoscale.Logs.RequestRecord record).Should().BeTrue();
            fromRecords.Add(record);
        }

        ServerModelJson.Write(fromRecords.Fit().Model).Should().Be(ServerModelJson.Write(fromLines.Fit().Model));
    }

    [Fact]
    public void SampleServiceMs_BetweenQuantiles_InterpolatesLinearly()
    {
        var model = new BackendModel();
        for (int p = 0; p <= 100; p++)
        {
            model.ServiceTimeQuantilesMs.Add(p * 2);
        }

        model.SampleServiceMs(0).Should().Be(0);
        model.SampleServiceMs(0.505).Should().BeApproximately(101, 1e-9);
        model.SampleServiceMs(1).Should().Be(200);
        model.SampleServiceMs(1.5).Should().Be(200);
    }

    [Fact]
    public void LatencyMs_ConcurrencyAboveWorkers_GrowsInProportion()
    {
        var model = new BackendModel { Workers = 4 };

        model.LatencyMs(10, 2).Should().Be(10);
        model.LatencyMs(10, 8).Should().Be(20);
    }

    private static double LogNormal(Random random)
    {
        // Box-Muller.
        double normal = Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
        return MedianMs * Math.Exp(Sigma * normal);
    }

    // A line as HAProxy 2.x logs it: srv_conn counts the other requests still on the server, so it is concurrency - 1.
    private static byte[] Line(string backend, string server, int tr, int concurrency, int tw = 0) =>
        Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture,
            $"<134>Nov 27 10:00:00 haproxy[1]: 127.0.0.1:4000 [27/Nov/2026:10:00:00.000] fe {backend}/{server} 0/{tw}/0/{tr}/{tr + tw + 1} 200 100 - - ---- {concurrency + 2}/{concurrency + 2}/{concurrency}/{concurrency - 1}/0 0/0 \"GET / HTTP/1.1\""));
}

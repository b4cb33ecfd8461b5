using System.Globalization;
using System.IO.Compression;
using System.Text;
using HaproxyAutoscale.Cli;
using HaproxyAutoscale.Cli.Commands;
using HaproxyAutoscale.Simulation;

namespace HaproxyAutoscale.Tests.Simulation;

public sealed class SimulateFitOutputTests
{
    [Fact]
    public async Task PrintFitAsync_PlainAndGzipFiles_PrintsTheModelOfBothAsOneLog()
    {
        using var dir = new TempDirectory();
        File.WriteAllLines(dir.File("a.log"), Lines("app", 0, 300));
        await using (var gzip = new GZipStream(File.Create(dir.File("b.log.gz")), CompressionLevel.Fastest))
        {
            gzip.Write(Encoding.ASCII.GetBytes(string.Join('\n', Lines("app", 300, 300)) + "\n"));
        }

        var (exitCode, output, error) = await RunAsync([dir.File("a.log"), dir.File("b.log.gz")]);

        exitCode.Should().Be(ExitCodes.Success, error);
        ServerModel model = ServerModelJson.Read(output);
        model.Backends.Single().FittedRequests.Should().Be(600);
        model.Backends.Single().ColdStartMs.Should().Be(250);
    }

    [Fact]
    public async Task PrintFitAsync_TcplogBackend_ErrorOnStandardErrorAndFailure()
    {
        using var dir = new TempDirectory();
        File.WriteAllLines(dir.File("tcp.log"), Enumerable.Range(0, 50).Select(i =>
            string.Create(CultureInfo.InvariantCulture, $"127.0.0.1:4000 [27/Nov/2026:10:00:00.000] fe_tcp db/pg1 0/1/{100 + i} 2000 -- 3/3/3/2/0 0/0")));

        var (exitCode, output, error) = await RunAsync([dir.File("tcp.log")]);

        exitCode.Should().Be(ExitCodes.Failure);
        output.Should().BeEmpty();
        error.Should().StartWith("error: backend 'db':").And.Contain("option httplog");
    }

    [Fact]
    public async Task PrintFitAsync_MissingFile_FailsNamingIt()
    {
        using var dir = new TempDirectory();

        var (exitCode, _, error) = await RunAsync([dir.File("none.log")]);

        exitCode.Should().Be(ExitCodes.Failure);
        error.Should().Contain("none.log: no such file");
    }

    private static async Task<(int ExitCode, string Output, string Error)> RunAsync(string[] paths)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int exitCode = await SimulateFitOutput.PrintFitAsync(
            new CliConsole(output, error), paths, coldStartMs: 250, idleToColdS: 300, () => Stream.Null, TestContext.Current.CancellationToken);
        return (exitCode, output.ToString(), error.ToString());
    }

    private static IEnumerable<string> Lines(string backend, int start, int count) =>
        Enumerable.Range(start, count).Select(i => string.Create(CultureInfo.InvariantCulture,
            $"127.0.0.1:4000 [27/Nov/2026:10:00:00.000] fe {backend}/s1 0/0/0/{20 + (i % 11)}/30 200 100 - - ---- 3/3/{1 + (i % 4)}/{1 + (i % 4)}/0 0/0 \"GET / HTTP/1.1\""));
}

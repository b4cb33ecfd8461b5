using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using HaproxyAutoscale.Capacity;
using HaproxyAutoscale.Configuration;
using HaproxyAutoscale.Hosting;
using HaproxyAutoscale.Scaling;
using HaproxyAutoscale.Tests.Infrastructure;
using Microsoft.Extensions.Logging;

namespace HaproxyAutoscale.Tests.Capacity;

/// <summary>
/// The daemon's engine reading real UDP datagrams with a state directory; its HAProxy endpoint answers nothing, so
/// no server is acted on. A stop writes what was learned; the next start reads it.
/// </summary>
public sealed class LearnedCapacityRestartTests
{
    [Fact]
    public async Task RunAsync_Restart_KeepsTheLearnedModel()
    {
        using var dir = new TempDirectory();
        string state = dir.File("state"); // not there yet: made at the first write
        var logs = new ListLoggerProvider();
        using ILoggerFactory loggers = LoggerFactory.Create(b => b.AddProvider(logs));

        int port = Ports.FreeUdp();
        await using (Autoscaler first = Build(dir, state, port, loggers))
        {
            using var stop = new CancellationTokenSource();
            Task running = first.RunAsync(stop.Token);
            await first.Started;
            await SendAsync(port, lines: 300, responseMs: 100);
            await Poll.UntilAsync(() => first.LogCounters.Lines >= 300, TimeSpan.FromSeconds(5), "300 lines read");
            await stop.CancelAsync();
            await running;
        }

        string file = CapacityFile.PathOf(state, "app");
        File.Exists(file).Should().BeTrue("a stop writes every model that learned something");

        await using Autoscaler second = Build(dir, state, Ports.FreeUdp(), loggers);
        LearnedCapacity restored = second.Snapshot().Single().Capacity!;
        restored.Should().NotBeNull("the model is read when the backend is made, before any new line");
        restored.ServiceMeanMs.Should().BeApproximately(100, 1);
        restored.Samples.Should().BeApproximately(300, 5);
        restored.Confident.Should().BeFalse("every request was alone on its server: the workers are unknown");
        logs.Entries.Should().Contain(e => e.EventId == AutoscaleEventIds.CapacityRestored && e.Message.Contains(file, StringComparison.Ordinal));
    }

    private static Autoscaler Build(TempDirectory dir, string state, int port, ILoggerFactory loggers)
    {
        var options = new AutoscaleOptions { EvaluationInterval = TimeSpan.FromMilliseconds(100), StateDirectory = state };
        options.Haproxy.Endpoints.Add(dir.File("nobody.sock"));
        options.Logs.Source = $"udp@127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}";
        var app = new BackendOptions { Name = "app" };
        app.Servers.Add(new ServerOptions { Name = "s1", AlwaysUp = true });
        app.Servers.Add(new ServerOptions { Name = "s2" });
        options.Backends.Add(app);
        return new AutoscalerBuilder(options).UseLoggerFactory(loggers).Build();
    }

    private static async Task SendAsync(int port, int lines, int responseMs)
    {
        using var writer = new StringWriter();
        LogGenerator.WritePhases(writer, DateTime.UtcNow, "app", "s1", (TimeSpan.FromSeconds(1), lines, responseMs));
        using var client = new UdpClient();
        foreach (string line in writer.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            await client.SendAsync(Encoding.ASCII.GetBytes(line), new IPEndPoint(IPAddress.Loopback, port));
        }
    }
}

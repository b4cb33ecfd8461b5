using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using HaproxyAutoscale.Logs;
using HaproxyAutoscale.Scaling;

namespace HaproxyAutoscale.Tests.EndToEnd;

/// <summary>
/// Chaos test f of issue 11: a sender outside <c>logs.allowFrom</c> sends well-formed HAProxy log lines claiming huge
/// response times. They must be rejected and counted, and nothing may scale up because of them.
/// </summary>
[Trait("Category", "Haproxy")]
public sealed class SpoofedLogsChaosTests
{
    [Fact]
    public async Task SpoofedSenderOutsideAllowFrom_ClaimsHugeResponseTimes_RejectedCountedAndNoScaleUp()
    {
        await using AutoscaleRig rig = await AutoscaleRig.StartAsync(configureOptions: options =>
        {
            options.Logs.AllowFrom.Clear();
            options.Logs.AllowFrom.Add("127.0.0.1"); // HAProxy's own address; the spoofer sends from 127.0.0.2
        });
        await rig.WaitForStatusAsync("s2", s => s == "MAINT", "parked at start");

        // The spoofed lines would breach the 150 ms threshold on every evaluation if they were read.
        new HaproxyLogParser().TryParse(Encoding.ASCII.GetBytes(SpoofedLine(DateTime.UtcNow)), out RequestRecord spoofed).Should().BeTrue();
        (spoofed.Backend, spoofed.Server, spoofed.ResponseTime).Should().Be(("app", "s1", 5000));

        // A bounded spoofer: 50 datagrams a second, at most 750 of them and 15 seconds.
        using var stopSpoofing = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        long sent = 0;
        Task spoofer = Task.Run(async () =>
        {
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            socket.Bind(new IPEndPoint(IPAddress.Parse("127.0.0.2"), 0));
            for (int i = 0; i < 750 && !stopSpoofing.IsCancellationRequested; i++)
            {
                socket.SendTo(Encoding.ASCII.GetBytes(SpoofedLine(DateTime.UtcNow)), rig.LogEndPoint);
                Interlocked.Increment(ref sent);
                try
                {
                    await Task.Delay(20, stopSpoofing.Token);
                }
                catch (OperationCanceledException)
                {
                }
            }
        });

        // Evaluations ran while the spoofed lines kept coming: ten more holds (2 s at 200 ms; the threshold policy
        // needs 2 breaches, 400 ms, to decide up) after 50 spoofed datagrams had been sent.
        await Poll.UntilAsync(() => Interlocked.Read(ref sent) >= 50, TimeSpan.FromSeconds(10), "50 spoofed datagrams sent");
        int holdsBefore = Holds(rig);
        long sentBefore = Interlocked.Read(ref sent);
        await Poll.UntilAsync(() => Holds(rig) >= holdsBefore + 10, TimeSpan.FromSeconds(15), "ten evaluations while spoofing");
        Interlocked.Read(ref sent).Should().BeGreaterThan(sentBefore, "the spoofer was still sending during those evaluations");
        await stopSpoofing.CancelAsync();
        await spoofer;

        rig.Logs.Should().NotContain(l => l.EventId == AutoscaleEventIds.Decision, "spoofed response times must not scale anything");
        (await rig.StatusOfAsync("s2")).Should().Be("MAINT");
        (await rig.StatusOfAsync("s3")).Should().Be("MAINT");

        long total = Interlocked.Read(ref sent);
        await Poll.UntilAsync(() => rig.Autoscaler.LogCounters.Rejected == total, TimeSpan.FromSeconds(5), $"all {total} spoofed datagrams counted as rejected");
        rig.Logs.Where(l => l.EventId == AutoscaleEventIds.RejectedSender).Should().ContainSingle()
            .Which.Message.Should().StartWith("Log datagrams from 127.0.0.2 to ").And.Contain("not in logs.allowFrom (127.0.0.1/32)");
    }

    private static int Holds(AutoscaleRig rig) => rig.Logs.Count(l => l.EventId is AutoscaleEventIds.Hold or AutoscaleEventIds.HeldByGate);

    private static string SpoofedLine(DateTime now) => string.Create(CultureInfo.InvariantCulture,
        $"<134>{now:MMM} {now.Day,2} {now:HH:mm:ss} haproxy[1]: 127.0.0.1:40000 [{now:dd/MMM/yyyy:HH:mm:ss.fff}] fe app/s1 0/0/0/5000/5000 200 136 - - ---- 1/1/0/0/0 0/0 \"GET /page HTTP/1.1\"");
}

using System.Diagnostics;
using HaproxyAutoscale.Control;

namespace HaproxyAutoscale.Benchmarks;

/// <summary>A real haproxy (<c>HPA_HAPROXY</c>, else from PATH) with an admin socket in a temp folder, for measurements; stopped by PID.</summary>
public sealed class LocalHaproxy : IDisposable
{
    private readonly Process _process;

    public LocalHaproxy(string backendAndMore, string globalExtra = "")
    {
        Directory = Path.Combine("/tmp", $"hpa-measure-{Environment.ProcessId}-{Guid.NewGuid():N}"[..28]);
        System.IO.Directory.CreateDirectory(Directory);
        Socket = Path.Combine(Directory, "admin.sock");
        string config = $"global\n    stats socket {Socket} mode 600 level admin\n{globalExtra}" +
            "defaults\n    mode http\n    timeout connect 1s\n    timeout client 5s\n    timeout server 5s\n" + backendAndMore;
        File.WriteAllText(Path.Combine(Directory, "haproxy.cfg"), config);
        _process = Process.Start(new ProcessStartInfo(Environment.GetEnvironmentVariable("HPA_HAPROXY") is { Length: > 0 } chosen ? chosen : "haproxy") { ArgumentList = { "-db", "-f", Path.Combine(Directory, "haproxy.cfg") }, RedirectStandardOutput = true, RedirectStandardError = true })
            ?? throw new InvalidOperationException("haproxy did not start");
        IHaproxyControl control = HaproxyControl.Create(Socket, new HaproxyControlOptions { Persistent = false });
        for (int attempt = 0; ; attempt++)
        {
            try
            {
                control.ShowInfoAsync().GetAwaiter().GetResult();
                control.DisposeAsync().AsTask().GetAwaiter().GetResult();
                return;
            }
            catch (HaproxyControlException) when (attempt < 100 && !_process.HasExited)
            {
                Thread.Sleep(50);
            }
        }
    }

    public string Directory { get; }

    public string Socket { get; }

    public void Dispose()
    {
        _process.Kill();
        _process.WaitForExit();
        _process.Dispose();
        System.IO.Directory.Delete(Directory, recursive: true);
    }
}

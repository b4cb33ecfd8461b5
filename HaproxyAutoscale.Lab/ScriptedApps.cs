using System.Diagnostics;
using HaproxyAutoscale.Providers;

namespace HaproxyAutoscale.Lab;

/// <summary>
/// Real app processes for the provider tests: a small Python HTTP server started, stopped and asked about by three
/// bash scripts, the way an operator's own scripts would (pid file per server, <c>ADDRESS:PORT</c> printed by start,
/// status exit 0 running / 3 stopped). Each app records the requests it gets (user agent and path) and answers
/// <c>/slow</c> after 200 ms; a file <c>delay</c> makes it wait before it listens (a cold start). A file <c>mode</c> makes start fail after launching the app (<c>fail</c>) or hang
/// (<c>hang</c>), or fail one start in N after launching the app (<c>fail-every N</c>, the soak's flaky provider).
/// Every PID ever started is recorded; disposing kills whatever still runs, and an app whose owner (this process) is
/// gone exits by itself. Shared by the tests and the soak rig.
/// </summary>
public sealed class ScriptedApps : IDisposable
{
    private const string App = """
        import http.server, os, socketserver, sys, threading, time
        port, state, name = int(sys.argv[1]), sys.argv[2], sys.argv[3]
        owner = open(os.path.join(state, 'owner')).read().strip()
        def exit_when_orphaned():
            # The test or rig that owns the state directory ended without stopping this app (a test that timed out
            # is abandoned, not disposed): exit once its process or the directory is gone.
            while os.path.exists('/proc/' + owner) and os.path.exists(os.path.join(state, 'owner')):
                time.sleep(1)
            os._exit(0)
        threading.Thread(target=exit_when_orphaned, daemon=True).start()
        if os.path.exists(os.path.join(state, 'delay')):
            time.sleep(float(open(os.path.join(state, 'delay')).read()))
        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = 'HTTP/1.0'
            def do_GET(self):
                with open(os.path.join(state, name + '.requests'), 'a') as f:
                    f.write(self.headers.get('User-Agent', '-') + ' ' + self.path + '\n')
                if self.path.startswith('/slow'):
                    time.sleep(0.2)
                body = b'ok ' + name.encode()
                self.send_response(200)
                self.send_header('Content-Length', str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            def log_message(self, *args):
                pass
        class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
            daemon_threads = True
            allow_reuse_address = True
            request_queue_size = 128
        server = Server(('127.0.0.1', port), Handler)
        with open(os.path.join(state, name + '.port.tmp'), 'w') as f:
            f.write(str(server.server_address[1]))
        os.rename(os.path.join(state, name + '.port.tmp'), os.path.join(state, name + '.port'))
        server.serve_forever()
        """;

    private const string Common = """
        set -u
        state="$(dirname "$0")"
        server="$1"
        alive() { [ -r "/proc/$1/stat" ] && ! grep -q '^[0-9]* ([^)]*) Z' "/proc/$1/stat"; }
        """;

    private const string Start = """
        pidfile="$state/$server.pid"
        if [ -f "$pidfile" ] && alive "$(cat "$pidfile")"; then echo "127.0.0.1:$(cat "$state/$server.port")"; exit 0; fi
        port=$(awk -v s="$server" '$1 == s { print $2 }' "$state/ports" 2>/dev/null)
        rm -f "$state/$server.port"
        echo "$server" >> "$state/starts"
        setsid python3 "$state/app.py" "${port:-0}" "$state" "$server" > "$state/$server.log" 2>&1 < /dev/null &
        echo $! > "$pidfile"
        echo $! >> "$state/all.pids"
        mode=$(cat "$state/mode" 2>/dev/null)
        if [ "$mode" = fail ]; then echo "cannot start $server: simulated failure" >&2; exit 1; fi
        case "$mode" in "fail-every "*)
          every=${mode#fail-every }
          if [ $(( $(wc -l < "$state/starts") % every )) -eq 0 ]; then echo "cannot start $server: simulated failure (one start in $every)" >&2; exit 1; fi;;
        esac
        if [ "$mode" = hang ]; then sleep 120; fi
        for i in $(seq 1 200); do [ -f "$state/$server.port" ] && break; sleep 0.05; done
        [ -f "$state/$server.port" ] || { echo "$server did not listen" >&2; exit 1; }
        echo "starting $server"
        echo "127.0.0.1:$(cat "$state/$server.port")"
        """;

    private const string Stop = """
        pidfile="$state/$server.pid"
        echo "$server" >> "$state/stops"
        [ -f "$pidfile" ] || exit 0
        pid=$(cat "$pidfile")
        kill "$pid" 2>/dev/null
        for i in $(seq 1 100); do alive "$pid" || break; sleep 0.05; done
        kill -9 "$pid" 2>/dev/null
        rm -f "$pidfile" "$state/$server.port"
        exit 0
        """;

    private const string Status = """
        pidfile="$state/$server.pid"
        [ -f "$pidfile" ] && alive "$(cat "$pidfile")" && exit 0
        exit 3
        """;

    private readonly TempDirectory _dir = new();

    public ScriptedApps()
    {
        File.WriteAllText(_dir.File("app.py"), App);
        File.WriteAllText(_dir.File("owner"), Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        File.WriteAllText(_dir.File("start.sh"), "#!/bin/bash\n" + Common + "\n" + Start + "\n");
        File.WriteAllText(_dir.File("stop.sh"), "#!/bin/bash\n" + Common + "\n" + Stop + "\n");
        File.WriteAllText(_dir.File("status.sh"), "#!/bin/bash\n" + Common + "\n" + Status + "\n");
    }

    public string Directory => _dir.Path;

    /// <summary>The <c>exec</c> provider over the scripts.</summary>
    public ServerProviderOptions Provider(TimeSpan keepWarm, TimeSpan? timeout = null)
    {
        var options = new ServerProviderOptions { Kind = ServerProviderNames.Exec, KeepWarm = keepWarm, Timeout = timeout ?? TimeSpan.FromSeconds(20) };
        options.Lists["start"] = ["bash", _dir.File("start.sh"), "{server}"];
        options.Lists["stop"] = ["bash", _dir.File("stop.sh"), "{server}"];
        options.Lists["status"] = ["bash", _dir.File("status.sh"), "{server}"];
        return options;
    }

    /// <summary>Fixes the port a configured server's app listens on (the one haproxy.cfg names).</summary>
    public void SetPort(string server, int port) => File.AppendAllText(_dir.File("ports"), $"{server} {port}\n");

    /// <summary>Makes each app wait this long before it listens (a cold start), from the next start on.</summary>
    public void SetStartDelay(TimeSpan delay) =>
        File.WriteAllText(_dir.File("delay"), delay.TotalSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>Makes the next starts fail (<c>fail</c>), hang (<c>hang</c>), fail one in N (<c>fail-every N</c>) or work (<c>null</c>).</summary>
    public void SetMode(string? mode)
    {
        if (mode is null)
        {
            File.Delete(_dir.File("mode"));
        }
        else
        {
            File.WriteAllText(_dir.File("mode"), mode);
        }
    }

    /// <summary>How many times start launched an app for <paramref name="server"/> (null: for any server).</summary>
    public int Starts(string? server = null) => Lines("starts").Count(s => server is null || s == server);

    public int Stops(string? server = null) => Lines("stops").Count(s => server is null || s == server);

    /// <summary>The requests an app got, in order: user agent and path.</summary>
    public IReadOnlyList<string> Requests(string server) => Lines(server + ".requests");

    /// <summary>Every app process ever started that still runs.</summary>
    public IReadOnlyList<int> Running() => [.. Lines("all.pids").Select(int.Parse).Where(IsOurs)];

    /// <summary>The PID of the app <paramref name="server"/> runs as, if running.</summary>
    public int? PidOf(string server) =>
        File.Exists(_dir.File(server + ".pid")) && int.TryParse(File.ReadAllText(_dir.File(server + ".pid")).Trim(), out int pid) && IsOurs(pid) ? pid : null;

    public void Dispose()
    {
        foreach (int pid in Running())
        {
            try
            {
                using var process = Process.GetProcessById(pid);
                process.Kill(entireProcessTree: true);
                process.WaitForExit(5000);
            }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException)
            {
                // exited meanwhile
            }
        }

        _dir.Dispose();
    }

    // Running, not a zombie waiting to be reaped, and still one of our apps: a PID is reused once the app exited
    // (within minutes on a busy machine: the soak found an HAProxy worker under an old app's PID, and disposing would
    // have killed it).
    private bool IsOurs(int pid)
    {
        try
        {
            string stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..].StartsWith('Z') is false
                && File.ReadAllText($"/proc/{pid}/cmdline") is { } command
                && command.Contains("app.py", StringComparison.Ordinal)
                && command.Contains(Path.GetFileName(Path.GetDirectoryName(_dir.File("app.py")))!, StringComparison.Ordinal); // our state directory's name
        }
        catch (IOException)
        {
            return false;
        }
    }

    private List<string> Lines(string file)
    {
        try
        {
            return [.. File.ReadAllLines(_dir.File(file)).Where(l => l.Length > 0)];
        }
        catch (FileNotFoundException)
        {
            return [];
        }
    }
}

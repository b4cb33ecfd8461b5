using System.Net;
using System.Net.Sockets;
using System.Text;

namespace HaproxyAutoscale.Lab.Soak;

/// <summary>
/// The soak's syslog daemon for the file mode: appends lines to a file and follows logrotate the way rsyslog does
/// after its HUP, without one: before each write it looks at the path, opens the new file when the path holds
/// another one (rename+create) and writes at the end when the file shrank under it (copytruncate). It also listens
/// for HAProxy's log datagrams on a UDP port and appends each as a line. Counts every line written.
/// </summary>
public sealed class SyslogFile : IDisposable
{
    private readonly string _path;
    private readonly Lock _lock = new();
    private readonly Socket _udp;
    private readonly Thread _receiver;
    private FileStream _file;
    private long _lines;
    private long _datagrams;
    private long _reopened;

    public SyslogFile(string path)
    {
        _path = path;
        _file = Open(path);
        _udp = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp) { ReceiveBufferSize = 4 << 20 };
        _udp.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        UdpPort = ((IPEndPoint)_udp.LocalEndPoint!).Port;
        _receiver = new Thread(Receive) { IsBackground = true, Name = "soak syslog" };
        _receiver.Start();
    }

    /// <summary>Where HAProxy sends its logs (<c>log 127.0.0.1:PORT local0</c>).</summary>
    public int UdpPort { get; }

    /// <summary>Lines written to the file (datagrams and appended blocks).</summary>
    public long Lines => Interlocked.Read(ref _lines);

    /// <summary>HAProxy's datagrams received (each written as a line).</summary>
    public long Datagrams => Interlocked.Read(ref _datagrams);

    /// <summary>How many times the path held a new file (rename+create) and was opened again.</summary>
    public long Reopened => Interlocked.Read(ref _reopened);

    /// <summary>Appends <paramref name="count"/> lines (each ending in LF); returns how many were written.</summary>
    public int Append(int count, byte[] lines)
    {
        lock (_lock)
        {
            FollowRotation();
            _file.Write(lines);
            _file.Flush();
            Interlocked.Add(ref _lines, count);
            return count;
        }
    }

    public void Dispose()
    {
        _udp.Dispose();
        _receiver.Join();
        lock (_lock)
        {
            _file.Dispose();
        }
    }

    private static FileStream Open(string path) => new(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete);

    // The path names another file than ours (renamed away, a new one created or none yet): open the path. Ours was
    // truncated (copytruncate): write at its new end, not at our old offset (which would leave a hole of NULs).
    private void FollowRotation()
    {
        var atPath = new FileInfo(_path);
        long ours = _file.Length;
        if (!atPath.Exists || atPath.Length != ours)
        {
            if (atPath.Exists && atPath.Length < ours && SameFileAfterTruncation())
            {
                _file.Seek(0, SeekOrigin.End);
                return;
            }

            _file.Dispose();
            _file = Open(_path);
            Interlocked.Increment(ref _reopened);
        }
        else if (_file.Position > ours)
        {
            _file.Seek(0, SeekOrigin.End);
        }
    }

    // Our handle's length shrank too: the file itself was truncated, not replaced.
    private bool SameFileAfterTruncation() => _file.Length < _file.Position;

    private void Receive()
    {
        byte[] buffer = new byte[65536];
        while (true)
        {
            int read;
            try
            {
                read = _udp.Receive(buffer);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                return;
            }

            Interlocked.Increment(ref _datagrams);
            int length = read;
            while (length > 0 && buffer[length - 1] is (byte)'\n' or 0)
            {
                length--;
            }

            byte[] line = new byte[length + 1];
            buffer.AsSpan(0, length).CopyTo(line);
            line[length] = (byte)'\n';
            Append(1, line);
        }
    }

    /// <summary>A logrotate configuration for <paramref name="path"/>: rename+create (<paramref name="copyTruncate"/> false) or copytruncate, keeping one old file.</summary>
    public static string LogrotateConfig(string path, bool copyTruncate) =>
        new StringBuilder().Append(path).Append(" {\n    rotate 1\n    missingok\n    nocompress\n    ")
            .Append(copyTruncate ? "copytruncate" : "create").Append("\n}\n").ToString();
}

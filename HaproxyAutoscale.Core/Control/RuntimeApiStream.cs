using System.Buffers;
using System.Net.Sockets;
using System.Text;

namespace HaproxyAutoscale.Control;

/// <summary>
/// Reads one command's answer from a socket and hands it over line by line from a small pooled buffer (a line is
/// decoded when it is complete; '\n' is never part of a UTF-8 sequence), so that no answer is ever held whole. An
/// answer that starts with a severity prefix (<c>[3]: …</c>) is an error or a notice: it is small, kept whole and
/// returned instead, for <see cref="RuntimeApiAnswers.Classify"/>.
/// </summary>
internal sealed class RuntimeApiStream : IDisposable
{
    private static ReadOnlySpan<byte> Prompt => "> "u8;

    private readonly PooledBuffer _bytes = new();
    private readonly IAnswerLines _lines;
    private readonly bool _interactive;
    private char[] _chars = ArrayPool<char>.Shared.Rent(4096);
    private Phase _phase;
    private StringBuilder? _prefixed;
    private int _start; // the first byte not consumed yet
    private bool _taken; // a line was handed over (an error answer is recognised by its first line)

    // interactive: a prompt session (the answer is followed by "> "); otherwise HAProxy answers
    // "set severity-output number" first (an empty answer, skipped), then the command, then closes.
    private RuntimeApiStream(IAnswerLines lines, bool interactive)
    {
        _lines = lines;
        _interactive = interactive;
        _phase = interactive ? Phase.Answer : Phase.Severity;
    }

    private enum Phase
    {
        Severity,
        Answer,
        Prompt,
        Done,
    }

    /// <summary>Reads the answer into <paramref name="lines"/>; returns the answer's text instead when it carries a severity prefix.</summary>
    public static async Task<string?> ReadAsync(Socket socket, bool interactive, IAnswerLines lines, CancellationToken cancellationToken)
    {
        using var stream = new RuntimeApiStream(lines, interactive);
        while (!stream.Consume())
        {
            Memory<byte> free = stream.Free();
            int read = await socket.ReceiveAsync(free, SocketFlags.None, cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                stream.Closed();
                break;
            }

            stream._bytes.Length += read;
        }

        if (stream._prefixed is { } prefixed)
        {
            return prefixed.ToString();
        }

        lines.End();
        return null;
    }

    public void Dispose()
    {
        _bytes.Dispose();
        ArrayPool<char>.Shared.Return(_chars);
    }

    // Hands over every complete line read so far; true once the answer (and its prompt) was read.
    private bool Consume()
    {
        while (_phase != Phase.Done)
        {
            ReadOnlySpan<byte> rest = _bytes.Bytes[_start.._bytes.Length];
            if (_interactive && rest.StartsWith(Prompt))
            {
                _start += Prompt.Length; // the prompt: after the answer's empty line, or on an answer HAProxy did not end
                _phase = Phase.Done;
                break;
            }

            int newline = rest.IndexOf((byte)'\n');
            if (_phase == Phase.Prompt && rest.Length >= Prompt.Length || _phase == Phase.Prompt && newline >= 0)
            {
                throw new IOException("unexpected data after the answer");
            }

            if (newline < 0)
            {
                return false;
            }

            _start += newline + 1;
            if (newline == 0)
            {
                _phase = _phase == Phase.Severity ? Phase.Answer : _interactive ? Phase.Prompt : Phase.Done;
            }
            else if (_phase == Phase.Answer)
            {
                Take(rest[..newline]);
            }
        }

        return true;
    }

    // HAProxy closed the connection: the end of a non-interactive answer (its last line may lack its '\n').
    private void Closed()
    {
        if (_interactive)
        {
            throw new IOException("HAProxy closed the session");
        }

        if (_phase == Phase.Severity)
        {
            throw new IOException("HAProxy closed the connection before answering");
        }

        if (_phase == Phase.Answer && _start < _bytes.Length)
        {
            Take(_bytes.Bytes[_start.._bytes.Length]);
        }
    }

    private void Take(ReadOnlySpan<byte> bytes)
    {
        if (_chars.Length < bytes.Length)
        {
            ArrayPool<char>.Shared.Return(_chars);
            _chars = ArrayPool<char>.Shared.Rent(bytes.Length);
        }

        ReadOnlySpan<char> line = _chars.AsSpan(0, Encoding.UTF8.GetChars(bytes, _chars));
        if (!_taken && _prefixed is null && line is ['[', _, ']', ':', ..])
        {
            _prefixed = new StringBuilder();
        }

        if (_prefixed is not null)
        {
            _prefixed.Append(_prefixed.Length > 0 ? "\n" : "").Append(line);
            return;
        }

        _taken = true;
        _lines.Take(line);
    }

    // Room to read into, after moving the unconsumed bytes to the start (lines are short: the buffer stays small).
    private Memory<byte> Free()
    {
        if (_start > 0)
        {
            _bytes.Bytes[_start.._bytes.Length].CopyTo(_bytes.Bytes);
            _bytes.Length -= _start;
            _start = 0;
        }

        return _bytes.Free(16 * 1024);
    }
}

using System.Buffers;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;

namespace HaproxyAutoscale.Cli;

/// <summary>
/// Writes Prometheus text exposition (format 0.0.4) into a stream through one pooled buffer, written out each time it
/// fills: a scrape of 10,000 backends (~16 MB of text) is never held whole. Names, HELP, TYPE and values are written
/// as prometheus-net's meter adapter wrote them (labels sorted by name, values in "g" format, histograms as _sum,
/// _count, then cumulative _bucket lines).
/// </summary>
internal sealed class PrometheusTextWriter : IDisposable
{
    private const int Reserve = 1024; // room for one name, one value or a short label before the buffer is written out
    private readonly Stream _stream;
    private byte[] _buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
    private int _length;

    public PrometheusTextWriter(Stream stream) => _stream = stream;

    /// <summary><c># HELP name help</c> and <c># TYPE name type</c>.</summary>
    public void Family(string name, string help, string type)
    {
        Ascii("# HELP ").Ascii(name).Char(' ').Escaped(help, label: false).Ascii("\n# TYPE ").Ascii(name).Char(' ').Ascii(type).Char('\n');
    }

    /// <summary>One sample: <c>name{labels} value</c>, the labels as sorted name/value pairs, an optional last label (le).</summary>
    public void Sample(string name, string? suffix, ReadOnlySpan<string> labels, string? lastName, string? lastValue, double value)
    {
        Ascii(name);
        if (suffix is not null)
        {
            Ascii(suffix);
        }

        if (labels.Length > 0 || lastName is not null)
        {
            Char('{');
            for (int i = 0; i < labels.Length; i += 2)
            {
                Label(i == 0 ? null : ",", labels[i], labels[i + 1]);
            }

            if (lastName is not null)
            {
                Label(labels.Length == 0 ? null : ",", lastName, lastValue!);
            }

            Char('}');
        }

        Char(' ').Number(value).Char('\n');
    }

    /// <summary>A sample straight from a measurement's tags (sorted here by name, as the stored series are).</summary>
    public void Sample(string name, ReadOnlySpan<KeyValuePair<string, object?>> tags, double value)
    {
        string[] labels = ArrayPool<string>.Shared.Rent(tags.Length * 2);
        int count = SeriesLabels.Fill(tags, labels);
        Sample(name, null, labels.AsSpan(0, count), null, null, value);
        ArrayPool<string>.Shared.Return(labels, clearArray: true);
    }

    /// <summary>Whether writing to the stream failed (the scraper went away): the scrape stops.</summary>
    public bool Failed { get; private set; }

    public void Flush()
    {
        WriteOut();
        _stream.Flush();
    }

    public void Dispose()
    {
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = [];
    }

    /// <summary>A number as prometheus-net writes it ("g", invariant), infinities as Prometheus reads them.</summary>
    public static string Format(double value) =>
        double.IsPositiveInfinity(value) ? "+Inf" : double.IsNegativeInfinity(value) ? "-Inf" : value.ToString("g", CultureInfo.InvariantCulture);

    private void Label(string? separator, string name, string value)
    {
        if (separator is not null)
        {
            Char(',');
        }

        Ascii(name).Ascii("=\"").Escaped(value, label: true).Char('"');
    }

    private PrometheusTextWriter Number(double value)
    {
        Room(32);
        if (double.IsInfinity(value))
        {
            return Ascii(value > 0 ? "+Inf" : "-Inf");
        }

        value.TryFormat(_buffer.AsSpan(_length), out int written, "g", CultureInfo.InvariantCulture);
        _length += written;
        return this;
    }

    private PrometheusTextWriter Char(char c)
    {
        Room(1);
        _buffer[_length++] = (byte)c;
        return this;
    }

    private PrometheusTextWriter Ascii(string text)
    {
        if (text.Length > Reserve)
        {
            return Escaped(text, label: false);
        }

        Room(text.Length);
        _length += Encoding.ASCII.GetBytes(text, _buffer.AsSpan(_length));
        return this;
    }

    // A label value escapes \, " and line feeds; HELP text escapes \ and line feeds (the text format's rules).
    private PrometheusTextWriter Escaped(string text, bool label)
    {
        foreach (Rune rune in text.EnumerateRunes())
        {
            Room(8);
            string? escape = rune.Value switch
            {
                '\\' => "\\\\",
                '\n' => "\\n",
                '"' when label => "\\\"",
                _ => null,
            };
            _length += escape is null ? rune.EncodeToUtf8(_buffer.AsSpan(_length)) : Encoding.ASCII.GetBytes(escape, _buffer.AsSpan(_length));
        }

        return this;
    }

    private void Room(int bytes)
    {
        if (_length + Math.Max(bytes, Reserve) > _buffer.Length)
        {
            WriteOut();
        }
    }

    private void WriteOut()
    {
        try
        {
            _stream.Write(_buffer, 0, _length);
        }
        catch
        {
            Failed = true;
            throw;
        }

        _length = 0;
    }
}

/// <summary>A measurement's tags as Prometheus labels: sorted by name, names made Prometheus names, values as text.</summary>
internal static class SeriesLabels
{
    /// <summary>Writes name, value, name, value… into <paramref name="labels"/>, sorted by name; returns how many strings.</summary>
    public static int Fill(ReadOnlySpan<KeyValuePair<string, object?>> tags, Span<string> labels)
    {
        int count = 0;
        foreach (KeyValuePair<string, object?> tag in tags)
        {
            string name = PrometheusName(tag.Key), value = tag.Value?.ToString() ?? "";
            int at = count;
            while (at > 0 && string.CompareOrdinal(labels[at - 2], name) > 0)
            {
                labels[at] = labels[at - 2];
                labels[at + 1] = labels[at - 1];
                at -= 2;
            }

            labels[at] = name;
            labels[at + 1] = value;
            count += 2;
        }

        return count;
    }

    /// <summary>As prometheus-net names them: lower case, every other character than a-z, 0-9 and _ made _.</summary>
    public static string PrometheusName(string name)
    {
        if (IsPrometheusName(name))
        {
            return name;
        }

        var text = new StringBuilder(name.Length + 1);
        foreach (char c in name.ToLowerInvariant())
        {
            if (text.Length == 0 && !(char.IsAsciiLetterLower(c) || c == '_'))
            {
                text.Append('_');
                text.Append(char.IsAsciiDigit(c) ? c : '_');
                continue;
            }

            text.Append(char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '_' ? c : '_');
        }

        return text.ToString();
    }

    /// <summary>The family's name: the meter's and the instrument's, joined by _.</summary>
    public static string FamilyName(Instrument instrument) => PrometheusName($"{instrument.Meter.Name}_{instrument.Name}");

    /// <summary>prometheus-net's HELP: (unit) description (instrument type).</summary>
    public static string Help(Instrument instrument) =>
        (string.IsNullOrWhiteSpace(instrument.Unit) ? "" : $"({instrument.Unit}) ") + instrument.Description + $" ({instrument.GetType().Name})";

    private static bool IsPrometheusName(string name) =>
        name.Length > 0 && !char.IsAsciiDigit(name[0]) && name.AsSpan().IndexOfAnyExcept("abcdefghijklmnopqrstuvwxyz0123456789_") < 0;
}

namespace HaproxyAutoscale.Control;

/// <summary>Cutting <c>show stat</c> answers without a string per line or per field.</summary>
internal static partial class RuntimeApiParsers
{
    // The first ranges.Length fields of a CSV line, cut at its commas; a line with a quoted field (a comma may be
    // inside) is parsed whole. HasFields is false when the line has fewer fields.
    private readonly ref struct StatRow
    {
        private readonly ReadOnlySpan<char> _line;
        private readonly Span<Range> _ranges;
        private readonly List<string>? _parsed;

        public StatRow(ReadOnlySpan<char> line, Span<Range> ranges)
        {
            _line = line;
            _ranges = ranges;
            if (line.Contains('"'))
            {
                _parsed = ParseCsvLine(line.ToString());
                HasFields = _parsed.Count >= ranges.Length;
                return;
            }

            ReadOnlySpan<char> text = line;
            int start = 0;
            for (int i = 0; i < ranges.Length; i++)
            {
                int comma = text[start..].IndexOf(',');
                if (comma < 0 && i < ranges.Length - 1)
                {
                    return; // too few fields
                }

                int end = comma < 0 ? text.Length : start + comma;
                ranges[i] = start..end;
                start = end + 1;
            }

            HasFields = true;
        }

        public bool HasFields { get; }

        public ReadOnlySpan<char> this[int index] => _parsed is null ? _line[_ranges[index]] : _parsed[index];
    }

    // The non-empty lines of text from start, as spans (no string per line).
    private ref struct Lines(string text, int start)
    {
        private int _next = start;

        public ReadOnlySpan<char> Current { get; private set; }

        public readonly Lines GetEnumerator() => this;

        public bool MoveNext()
        {
            while (_next < text.Length)
            {
                int newline = text.IndexOf('\n', _next);
                int end = newline < 0 ? text.Length : newline;
                Current = text.AsSpan(_next, end - _next);
                _next = end + 1;
                if (!Current.IsEmpty)
                {
                    return true;
                }
            }

            return false;
        }
    }
}

using System.Diagnostics.CodeAnalysis;
using HaproxyAutoscale.Configuration;

namespace HaproxyAutoscale.Scaling;

internal sealed partial class ServerTable
{
    // One server's entry: 80 bytes (times as UTC ticks, not DateTimeOffset's 16 bytes), 80,000 of them at 10,000
    // backends of 8 servers.
    private sealed class Entry(ServerOptions options, DateTimeOffset now)
    {
        private long _stateSince = now.UtcTicks, _activeSince, _notBefore, _lastRequest; // 0: DateTimeOffset.MinValue

        public ServerOptions Options { get; set; } = options;

        public ServerLifecycleState State { get; set; } = options.AlwaysUp ? ServerLifecycleState.Active : ServerLifecycleState.Parked;

        public ServerRole Role => ServerStates.RoleOf(State);

        public DateTimeOffset StateSince { get => Time(_stateSince); set => _stateSince = value.UtcTicks; }

        public string? Address { get; set; }

        public DateTimeOffset ActiveSince { get => Time(_activeSince); set => _activeSince = value.UtcTicks; }

        public DateTimeOffset NotBefore { get => Time(_notBefore); set => _notBefore = value.UtcTicks; }

        public int Failures { get; set; }

        public int Sessions { get; set; } = -1;

        public DateTimeOffset LastRequest { get => Time(_lastRequest); set => _lastRequest = value.UtcTicks; }

        public bool Unsettled { get; set; }

        public bool Unadopted { get; set; }

        public ServerSnapshot Snapshot() => new(Options.Name, State, Address, StateSince) { Weight = Options.Weight, AlwaysUp = Options.AlwaysUp };

        private static DateTimeOffset Time(long utcTicks) => new(utcTicks, TimeSpan.Zero);
    }

    // The entries by server name: searched in an array for the usual few servers (a dictionary per backend cost ~370
    // bytes at 8 servers, 3.7 MB at 10,000 backends), in a dictionary once a backend has more than LinearLimit.
    private sealed class Entries
    {
        private const int LinearLimit = 16;
        private Entry[] _all;
        private int _count;
        private Dictionary<string, Entry>? _byName;

        public Entries(IEnumerable<Entry> entries)
        {
            _all = [.. entries];
            _count = _all.Length;
            if (_count > LinearLimit)
            {
                _byName = _all.ToDictionary(e => e.Options.Name, StringComparer.Ordinal);
            }
        }

        /// <summary>Every entry (configured ones, and those a reload removed).</summary>
        public ReadOnlySpan<Entry> Values => _all.AsSpan(0, _count);

        public Entry this[string server] => TryGetValue(server, out Entry? entry) ? entry : throw new KeyNotFoundException($"The server '{server}' is not in the table.");

        public bool ContainsKey(string server) => TryGetValue(server, out _);

        public bool TryGetValue(string server, [MaybeNullWhen(false)] out Entry entry)
        {
            entry = _byName is not null ? _byName.GetValueOrDefault(server) : Search(server);
            return entry is not null;
        }

        public string? NameOf(ReadOnlySpan<char> server)
        {
#if NET9_0_OR_GREATER
            Entry? entry = _byName is null ? Search(server) : _byName.GetAlternateLookup<ReadOnlySpan<char>>().TryGetValue(server, out Entry? found) ? found : null;
#else
            Entry? entry = _byName is not null ? _byName.GetValueOrDefault(server.ToString()) : Search(server);
#endif
            return entry?.Options.Name;
        }

        private Entry? Search(ReadOnlySpan<char> server)
        {
            for (int i = 0; i < _count; i++)
            {
                if (server.SequenceEqual(_all[i].Options.Name))
                {
                    return _all[i];
                }
            }

            return null;
        }

        public void Add(Entry entry)
        {
            if (_count == _all.Length)
            {
                Array.Resize(ref _all, Math.Max(4, _count * 2));
            }

            _all[_count++] = entry;
            if (_byName is not null)
            {
                _byName.Add(entry.Options.Name, entry);
            }
            else if (_count > LinearLimit)
            {
                _byName = Values.ToArray().ToDictionary(e => e.Options.Name, StringComparer.Ordinal);
            }
        }
    }
}

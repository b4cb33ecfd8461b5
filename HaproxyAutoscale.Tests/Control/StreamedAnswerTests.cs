using System.Text;
using HaproxyAutoscale.Control;
using HaproxyAutoscale.Tests.Infrastructure;

namespace HaproxyAutoscale.Tests.Control;

/// <summary>
/// Long answers (<c>show stat</c>, <c>show servers state</c> of 300 backends × 8 servers: many socket reads, lines cut
/// across them) read line by line as they come, against a real HAProxy, in a kept session and one connection per exchange.
/// </summary>
[Trait("Category", "Haproxy")]
public sealed class StreamedAnswerTests : IAsyncLifetime
{
    private const int Backends = 300;
    private const int Servers = 8;
    private readonly TempDirectory _dir = new();
    private Haproxy _haproxy = null!;

    public static TheoryData<bool> Persistent => new() { true, false };

    public async ValueTask InitializeAsync()
    {
        // A frontend with a backend's name: HAProxy's show stat finds it first by that name.
        var sections = new StringBuilder($"frontend app5\n    bind unix@{_dir.File("app5.sock")}\n    default_backend app5\n");
        for (int b = 0; b < Backends; b++)
        {
            sections.Append("backend app").Append(b).Append('\n');
            for (int s = 1; s <= Servers; s++)
            {
                sections.Append("    server s").Append(s).Append(" 127.0.0.1:").Append(10_000 + s).Append(s > 1 ? " disabled\n" : "\n");
            }
        }

        sections.Append("backend pool\n"); // a backend without servers
        _haproxy = await Haproxy.StartWithAdminSocketAsync(sections.ToString(), _dir);
    }

    public async ValueTask DisposeAsync()
    {
        await _haproxy.DisposeAsync();
        _dir.Dispose();
    }

    [Theory]
    [MemberData(nameof(Persistent))]
    public async Task ManyRows_AreReadWholeAndTheSessionAnswersTheNextCommand(bool persistent)
    {
        await using IHaproxyControl control = HaproxyControl.Create("unix@" + _dir.File("admin.sock"), new HaproxyControlOptions { Persistent = persistent });

        for (int round = 0; round < 2; round++)
        {
            IReadOnlyList<ServerState> states = await control.ShowServersStateAsync(cancellationToken: TestContext.Current.CancellationToken);
            states.Should().HaveCount(Backends * Servers);
            states.Where(s => s.Backend == "app299" && s.Server == "s1").Should().ContainSingle().Which.AdminState.Should().Be(ServerAdminState.Ready);
            states.Where(s => s.Backend == "app299" && s.Server == "s8").Should().ContainSingle().Which.Port.Should().Be(10_008);
            states.Count(s => s.AdminState == ServerAdminState.Maint).Should().Be(Backends * (Servers - 1));

            IReadOnlyList<BackendStat> backends = await control.ShowBackendStatAsync(TestContext.Current.CancellationToken);
            backends.Select(b => b.Backend).Should().Equal(Enumerable.Range(0, Backends).Select(b => $"app{b}").Append("pool"));

            IReadOnlyList<ServerStat> servers = await control.ShowStatAsync(TestContext.Current.CancellationToken);
            servers.Should().HaveCount(Backends * Servers);
            servers.Last().Should().Match<ServerStat>(s => s.Backend == "app299" && s.Server == "s8" && s.Status.StartsWith("MAINT"));
        }

        // The same session reads a short answer right after the long ones: every prompt was consumed.
        (await control.ShowInfoAsync(TestContext.Current.CancellationToken)).Name.Should().Be("HAProxy");
        await control.Invoking(c => c.ShowServersStateAsync("nope", TestContext.Current.CancellationToken)).Should().ThrowAsync<HaproxyControlException>()
            .Where(e => e.Kind == HaproxyErrorKind.UnknownBackend);
        (await control.ShowServersStateAsync("app7", TestContext.Current.CancellationToken)).Should().HaveCount(Servers);
    }

    [Fact]
    public async Task OneBackendsServerRows_AreAskedForByName_OrById_WhenAFrontendHasTheName()
    {
        var commands = new List<string>();
        await using var control = new FaultInjectingControl(HaproxyControl.Create("unix@" + _dir.File("admin.sock"))) { Fault = c => { commands.Add(c); return null; } };

        (await control.ShowStatForBackendAsync("app7", TestContext.Current.CancellationToken)).Select(s => (s.Backend, s.Server))
            .Should().Equal(Enumerable.Range(1, Servers).Select(s => ("app7", $"s{s}")));
        commands.Should().Equal("show stat app7 6 -1");

        commands.Clear();
        (await control.ShowStatForBackendAsync("app5", TestContext.Current.CancellationToken)).Should().HaveCount(Servers).And.OnlyContain(s => s.Backend == "app5");
        commands.Should().HaveCount(3).And.StartWith(["show stat app5 6 -1", "show servers state app5"]);
        commands[2].Should().MatchRegex("^show stat #[0-9]+ 6 -1$");

        // A backend without servers has its own row: its empty answer is the answer.
        commands.Clear();
        (await control.ShowStatForBackendAsync("pool", TestContext.Current.CancellationToken)).Should().BeEmpty();
        commands.Should().Equal("show stat pool 6 -1");

        await control.Invoking(c => c.ShowStatForBackendAsync("nope", TestContext.Current.CancellationToken)).Should().ThrowAsync<HaproxyControlException>()
            .Where(e => e.Kind == HaproxyErrorKind.UnknownBackend);
    }

    [Fact]
    public async Task WantedBackendsOnly_AreHandedOverWithTheGivenNames()
    {
        await using IHaproxyControl control = HaproxyControl.Create("unix@" + _dir.File("admin.sock"));
        string wanted = "app42";
        var stats = new List<BackendStat>();
        var states = new List<ServerStateRow>();

        await control.ReadBackendStatAsync((string backend, in BackendCounters c) => stats.Add(BackendStat.Of(backend, c)), name => name.SequenceEqual(wanted) ? wanted : null, TestContext.Current.CancellationToken);
        await control.ReadServersStateAsync(null, states.Add, name => name.SequenceEqual(wanted) ? wanted : null, servers: null, TestContext.Current.CancellationToken);

        stats.Should().ContainSingle().Which.Backend.Should().BeSameAs(wanted);
        states.Should().HaveCount(Servers).And.OnlyContain(s => ReferenceEquals(s.Backend, wanted));
    }
}

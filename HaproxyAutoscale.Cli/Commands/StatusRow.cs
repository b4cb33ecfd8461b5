using HaproxyAutoscale.Control;

namespace HaproxyAutoscale.Cli.Commands;

/// <summary>HAProxy's view of one server in <c>status</c>: its <c>show stat</c> line and <c>show servers state</c> entry.</summary>
internal sealed record StatusRow(string Endpoint, ServerStat Stat, ServerState? State)
{
    public string AdminState => (State?.AdminState ?? ServerAdminState.Ready).ToString().ToLowerInvariant();

    // show stat's weight is the effective one. For a server in maintenance after "set weight" it differs by
    // version: 2.6 keeps the weight it last served with, 3.0 reports the new user weight (0 after the immediate
    // scale-down). Show the weight haproxy.cfg gave it (srv_iweight): what the autoscaler enables it with (100 %)
    // unless its configuration sets a weight.
    public int Weight => State is { AdminState: ServerAdminState.Maint } state ? state.InitialWeight : Stat.Weight;

    public string OperState => State?.OperationalState switch
    {
        ServerOperationalState.Up => "up",
        ServerOperationalState.Starting => "starting",
        ServerOperationalState.Stopping => "stopping",
        _ => "down",
    };
}

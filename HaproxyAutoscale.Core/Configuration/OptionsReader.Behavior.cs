namespace HaproxyAutoscale.Configuration;

// The schema of a backend's behaviour, schedule and selection (shape and types only; rules in BehaviorGate.Validate).
internal sealed partial class OptionsReader
{
    private static readonly (string Name, ServerSelection Value)[] Selections =
        [("ordered", ServerSelection.Ordered), ("random", ServerSelection.Random), ("least-sessions", ServerSelection.LeastSessions), ("newest", ServerSelection.Newest)];

    private ServerSelection? Selection(ConfigNode node, string path)
    {
        if (String(node, path) is not { } text)
        {
            return null;
        }

        foreach ((string name, ServerSelection value) in Selections)
        {
            // "least-sessions" as documented, or the enum's name ("LeastSessions").
            if (string.Equals(name, text, StringComparison.OrdinalIgnoreCase) || string.Equals(value.ToString(), text, StringComparison.OrdinalIgnoreCase))
            {
                return value;
            }
        }

        return FailValue<ServerSelection>(path, $"'{text}' is not one of {string.Join(", ", Selections.Select(s => s.Name))}");
    }

    private void ReadBehavior(ConfigNode node, string path, ScalingBehaviorOptions behavior) =>
        Object(node, path, ["up", "down"], (key, n, p) => ReadDirection(n, p, key == "up" ? behavior.Up : behavior.Down, down: key == "down"));

    private void ReadDirection(ConfigNode node, string path, ScalingDirectionOptions direction, bool down) =>
        Object(node, path, down ? ["tolerance", "cooldown", "stabilization", "maxStep", "minIdleBeforePark"] : ["tolerance", "cooldown", "stabilization", "maxStep"], (key, n, p) =>
        {
            switch (key)
            {
                case "tolerance":
                    Set(Double(n, p), v => direction.Tolerance = v);
                    break;
                case "cooldown":
                    Set(Duration(n, p), v => direction.Cooldown = v);
                    break;
                case "stabilization":
                    Set(Duration(n, p), v => direction.Stabilization = v);
                    break;
                case "maxStep":
                    Set(Int(n, p), v => direction.MaxStep = v);
                    break;
                case "minIdleBeforePark":
                    Set(Duration(n, p), v => direction.MinIdleBeforePark = v);
                    break;
            }
        });

    private ScheduledFloorOptions ReadScheduledFloor(ConfigNode node, string path)
    {
        var floor = new ScheduledFloorOptions();
        Object(node, path, ["cron", "for", "minActive", "timeZone"], (key, n, p) =>
        {
            switch (key)
            {
                case "cron":
                    SetText(String(n, p), v => floor.Cron = v);
                    break;
                case "for":
                    Set(Duration(n, p), v => floor.For = v);
                    break;
                case "minActive":
                    Set(Int(n, p), v => floor.MinActive = v);
                    break;
                case "timeZone":
                    SetText(String(n, p), v => floor.TimeZone = v);
                    break;
            }
        });
        return floor;
    }
}

/// <summary>Deep copies of a backend's behaviour and schedule, for <see cref="OptionsCopy"/>.</summary>
internal static class BehaviorOptionsCopy
{
    public static void Into(BackendOptions copy, BackendOptions source)
    {
        Direction(copy.Behavior.Up, source.Behavior.Up);
        Direction(copy.Behavior.Down, source.Behavior.Down);
        foreach (ScheduledFloorOptions floor in source.Schedule)
        {
            copy.Schedule.Add(new ScheduledFloorOptions { Cron = floor.Cron, For = floor.For, MinActive = floor.MinActive, TimeZone = floor.TimeZone });
        }
    }

    private static void Direction(ScalingDirectionOptions copy, ScalingDirectionOptions source) =>
        (copy.Tolerance, copy.Cooldown, copy.Stabilization, copy.MaxStep, copy.MinIdleBeforePark) =
            (source.Tolerance, source.Cooldown, source.Stabilization, source.MaxStep, source.MinIdleBeforePark);
}

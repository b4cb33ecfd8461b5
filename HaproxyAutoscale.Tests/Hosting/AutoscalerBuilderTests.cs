using HaproxyAutoscale.Configuration;
using HaproxyAutoscale.Hosting;
using HaproxyAutoscale.Policies;

namespace HaproxyAutoscale.Tests.Hosting;

public sealed class AutoscalerBuilderTests
{
    /// <summary>Options that pass validation: one endpoint, one backend <c>app</c> with servers <c>s1</c> and <c>s2</c>.</summary>
    internal static AutoscaleOptions ValidOptions()
    {
        var options = new AutoscaleOptions { Logs = { Source = "udp@127.0.0.1:0" } };
        options.Haproxy.Endpoints.Add("/run/haproxy/admin.sock");
        var backend = new BackendOptions { Name = "app" };
        backend.Servers.Add(new ServerOptions { Name = "s1", AlwaysUp = true });
        backend.Servers.Add(new ServerOptions { Name = "s2" });
        options.Backends.Add(backend);
        return options;
    }

    [Fact]
    public void ValidOptions_AreValid() => AutoscaleOptionsValidator.Validate(ValidOptions()).Should().BeEmpty();

    [Fact]
    public void Build_EvaluationIntervalZero_ThrowsNamingEvaluationInterval()
    {
        // Regression: Build() accepted it and RunAsync then spun in Task.Delay(0).
        AutoscaleOptions options = ValidOptions();
        options.EvaluationInterval = TimeSpan.Zero;

        var build = () => new AutoscalerBuilder(options).Build();

        build.Should().Throw<AutoscaleOptionsException>()
            .Which.Errors.Should().Equal("evaluationInterval: must be more than 0");
    }

    [Fact]
    public void Build_SeveralProblems_AllInTheMessage()
    {
        AutoscaleOptions options = ValidOptions();
        options.ReconcileInterval = TimeSpan.FromSeconds(-1);
        options.Backends[0].Policy.Kind = "custom";
        options.Backends[0].Policy.Settings["step"] = "0";

        var build = () => new AutoscalerBuilder(options)
            .UsePolicies(new ScalingPolicyRegistry().Add("custom", s => new Step(s.GetInt32("step", 1, minimum: 1))))
            .Build();

        build.Should().Throw<InvalidOperationException>().WithMessage("""
            The HaproxyAutoscale configuration has 2 problem(s):*
              reconcileInterval: must be more than 0*
              backends.app.policy.step: '0' is not an integer ≥ 1
            """.ReplaceLineEndings());
    }

    private sealed class Step(int step) : IScalingPolicy
    {
        public ScalingDecision Decide(ScalingContext context) => ScalingDecision.Up(step, "step");
    }
}

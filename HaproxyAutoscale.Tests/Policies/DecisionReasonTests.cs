using HaproxyAutoscale.Policies;

namespace HaproxyAutoscale.Tests.Policies;

/// <summary>A reason kept by a backend as its last decision's: it writes its references only when they change.</summary>
public sealed class DecisionReasonTests
{
    private sealed class Figures : ReasonTemplate
    {
        public override string Format(double value, int first, int second, int third) => $"in-flight {value} desired {first}";
    }

    [Fact]
    public void A_kept_reason_reads_as_the_last_one_given_when_it_goes_from_a_template_to_a_text_and_back()
    {
        var template = new Figures();
        DecisionReason kept = default;
        kept.IsEmpty.Should().BeTrue();

        kept.Keep(new DecisionReason(template, 3.5, 1));
        kept.ToString().Should().Be("in-flight 3.5 desired 1");

        kept.Keep(new DecisionReason("no request ended since the last evaluation"));
        kept.IsEmpty.Should().BeFalse();
        kept.ToString().Should().Be("no request ended since the last evaluation");

        kept.Keep(new DecisionReason(template, 4, 2)); // the same template again, with the new figures
        kept.ToString().Should().Be("in-flight 4 desired 2");

        kept.Keep(default);
        kept.IsEmpty.Should().BeTrue();
        kept.ToString().Should().BeNull();
    }
}

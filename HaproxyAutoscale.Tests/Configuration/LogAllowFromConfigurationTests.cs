using System.Net;
using HaproxyAutoscale.Configuration;
using HaproxyAutoscale.Hosting;
using HaproxyAutoscale.Logs;
using HaproxyAutoscale.Tests.Hosting;
using Microsoft.Extensions.Configuration;

namespace HaproxyAutoscale.Tests.Configuration;

/// <summary><c>logs.allowFrom</c>: read from the JSON file and <see cref="IConfiguration"/>, checked by the validator.</summary>
public sealed class LogAllowFromConfigurationTests
{
    private const string Backend = """
        "backends": { "app": { "servers": { "s1": { "alwaysUp": true } } } }
        """;

    [Fact]
    public void Parse_NoAllowFrom_LoopbackOnly()
    {
        ConfigurationResult result = AutoscaleConfiguration.Parse(AutoscaleConfigurationTests.DesignExample);

        result.Errors.Should().BeEmpty();
        result.Options!.Logs.AllowFrom.Should().Equal("127.0.0.0/8", "::1");
    }

    [Fact]
    public void Parse_AllowFromInJson_ReplacesTheDefault()
    {
        ConfigurationResult result = AutoscaleConfiguration.Parse($$"""
            { "logs": { "source": "udp@0.0.0.0:5140", "allowFrom": ["127.0.0.1", "10.0.0.0/8", "::1"] }, {{Backend}} }
            """);

        result.Errors.Should().BeEmpty();
        result.Options!.Logs.AllowFrom.Should().Equal("127.0.0.1", "10.0.0.0/8", "::1");
    }

    [Fact]
    public void Parse_AllowFromInConfiguration_ReplacesTheDefault()
    {
        IConfiguration configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["logs:allowFrom:0"] = "10.0.0.0/8",
            ["logs:AllowFrom:1"] = "fd00::/8",
            ["backends:app:servers:s1:alwaysUp"] = "true",
        }).Build();

        ConfigurationResult result = AutoscaleConfiguration.Read(configuration);

        result.Errors.Should().BeEmpty();
        result.Options!.Logs.AllowFrom.Should().Equal("10.0.0.0/8", "fd00::/8");
    }

    private static readonly string[] InvalidEntries = ["127.0.0.1", "localhost", "10.1.2.3/8", "::/129"];

    private static readonly string[] InvalidEntriesErrors =
    [
        "logs.allowFrom[1]: 'localhost' is not an IP address or a CIDR prefix such as 10.0.0.0/8 or ::1",
        "logs.allowFrom[2]: '10.1.2.3/8' has address bits set past the /8 prefix (did you mean 10.0.0.0/8?)",
        "logs.allowFrom[3]: '::/129': the prefix length must be a number from 0 to 128",
    ];

    [Fact]
    public void Validate_InvalidEntries_SameErrorsWithPathsFromJsonConfigurationAndCode()
    {
        string json = $$"""{ "logs": { "allowFrom": [{{string.Join(", ", InvalidEntries.Select(e => $"\"{e}\""))}}] }, {{Backend}} }""";
        IConfiguration configuration = new ConfigurationBuilder()
            .AddJsonStream(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(json)))
            .Build();
        AutoscaleOptions options = AutoscalerBuilderTests.ValidOptions();
        options.Logs.AllowFrom.Clear();
        foreach (string entry in InvalidEntries)
        {
            options.Logs.AllowFrom.Add(entry);
        }

        AutoscaleConfiguration.Parse(json).Errors.Should().Equal(InvalidEntriesErrors);
        AutoscaleConfiguration.Read(configuration).Errors.Should().Equal(InvalidEntriesErrors);
        AutoscaleOptionsValidator.Validate(options).Should().Equal(InvalidEntriesErrors);
        new Func<object>(() => new AutoscalerBuilder(options).Build()).Should().Throw<AutoscaleOptionsException>()
            .Which.Errors.Should().Equal(InvalidEntriesErrors);
    }

    [Fact]
    public void Validate_EmptyAllowFrom_RejectedBecauseEveryDatagramWouldBe()
    {
        AutoscaleOptions options = AutoscalerBuilderTests.ValidOptions();
        options.Logs.AllowFrom.Clear();

        AutoscaleOptionsValidator.Validate(options).Should().Equal(
            "logs.allowFrom: empty: every datagram would be rejected (list the senders, or [\"0.0.0.0/0\", \"::/0\"] to accept any)");
        AutoscaleConfiguration.Parse($$"""{ "logs": { "allowFrom": [] }, {{Backend}} }""").Errors.Should().Equal(
            "logs.allowFrom: empty: every datagram would be rejected (list the senders, or [\"0.0.0.0/0\", \"::/0\"] to accept any)");
    }

    [Theory]
    [InlineData("""{ "logs": { "allowFrom": "127.0.0.1" } }""", "logs.allowFrom: expected an array")]
    [InlineData("""{ "logs": { "allowFrom": [127] } }""", "logs.allowFrom[0]: expected a string")]
    [InlineData("""{ "logs": { "allowFrom": [{}, "localhost"] } }""", "logs.allowFrom[0]: expected a string",
        "logs.allowFrom[1]: 'localhost' is not an IP address or a CIDR prefix such as 10.0.0.0/8 or ::1")]
    public void Parse_AllowFromOfTheWrongShape_ErrorWithPath(string logs, params string[] errors) =>
        AutoscaleConfiguration.Parse(logs[..^1] + ", " + Backend + " }").Errors.Should().Equal(errors);

    [Fact]
    public void DatagramOptions_FromOptions_CarryTheAllowlist()
    {
        AutoscaleOptions options = AutoscalerBuilderTests.ValidOptions();
        options.Logs.AllowFrom.Clear();
        options.Logs.AllowFrom.Add("127.0.0.1");
        options.Logs.AllowFrom.Add("fd00::/8");

        DatagramSourceOptions datagrams = AutoscalerBuilder.DatagramOptions(options);

        datagrams.AllowFrom.Should().Equal(new IPNetwork(IPAddress.Loopback, 32), IPNetwork.Parse("fd00::/8"));
        new DatagramSourceOptions().AllowFrom.Should().Equal(IPNetwork.Parse("127.0.0.0/8"), IPNetwork.Parse("::1/128"));
    }
}

using HaproxyAutoscale.Simulation;

namespace HaproxyAutoscale.Tests.Simulation;

public sealed class ServerModelJsonTests
{
    [Fact]
    public void Read_WhatWriteWrote_SameModel()
    {
        var model = new ServerModel();
        model.Backends.Add(Backend("app", workers: 4.25, maxConn: 32, coldStartMs: 1000.5, idleToColdS: 120, fitted: 123_456));
        model.Backends.Add(Backend("static", workers: 1, maxConn: null, coldStartMs: 0, idleToColdS: 300, fitted: 0));

        ServerModel read = ServerModelJson.Read(ServerModelJson.Write(model));

        read.Should().BeEquivalentTo(model);
        read.Find("static")!.MaxConn.Should().BeNull();
        read.Find("nope").Should().BeNull();
    }

    [Fact]
    public void Write_Model_HasTheDocumentedShape()
    {
        var model = new ServerModel();
        model.Backends.Add(Backend("app", workers: 2, maxConn: null, coldStartMs: 0, idleToColdS: 300, fitted: 7));

        string json = ServerModelJson.Write(model);

        using var document = System.Text.Json.JsonDocument.Parse(json);
        System.Text.Json.JsonElement backend = document.RootElement.GetProperty("backends")[0];
        backend.EnumerateObject().Select(p => p.Name).Should().Equal(
            "backend", "serviceTimeQuantilesMs", "workers", "maxConn", "coldStartMs", "idleToColdS", "fittedRequests");
        backend.GetProperty("serviceTimeQuantilesMs").GetArrayLength().Should().Be(101);
        backend.GetProperty("maxConn").ValueKind.Should().Be(System.Text.Json.JsonValueKind.Null);
    }

    [Fact]
    public void Read_OnlyRequiredKeysAnyCase_DefaultsForTheRest()
    {
        ServerModel model = ServerModelJson.Read($$"""
            // written by hand
            {"Backends": [{"backend": "app", "SERVICETIMEQUANTILESMS": [{{Quantiles()}}],},]}
            """);

        BackendModel backend = model.Backends.Single();
        (backend.Workers, backend.MaxConn, backend.ColdStartMs, backend.IdleToColdS, backend.FittedRequests).Should().Be((1.0, (int?)null, 0.0, 300.0, 0L));
    }

    [Theory]
    [InlineData("""{"backends": [{"backend": "app", "serviceTimeQuantilesMs": [@Q], "worker": 2}]}""", "backends[0].worker: unknown key")]
    [InlineData("""{"backends": [{"backend": "app", "serviceTimeQuantilesMs": [@Q], "workers": 0.5}]}""", "backends[0].workers: expected a number of 1 or more")]
    [InlineData("""{"backends": [{"backend": "app", "serviceTimeQuantilesMs": [@Q], "maxConn": 2.5}]}""", "backends[0].maxConn: expected a whole number of 1 or more, or null")]
    [InlineData("""{"backends": [{"backend": "app", "serviceTimeQuantilesMs": [@Q], "coldStartMs": -1}]}""", "backends[0].coldStartMs: expected a number of milliseconds, 0 or more")]
    [InlineData("""{"backends": [{"backend": "app", "serviceTimeQuantilesMs": [1, 2]}]}""", "backends[0].serviceTimeQuantilesMs: expected 101 quantiles (p0 to p100), found 2")]
    [InlineData("""{"backends": [{"backend": "app", "serviceTimeQuantilesMs": [@Q, "x"]}]}""", "backends[0].serviceTimeQuantilesMs[101]: expected a number of milliseconds, 0 or more")]
    [InlineData("""{"backends": [{"backend": "app"}]}""", "backends[0].serviceTimeQuantilesMs: required")]
    [InlineData("""{"backends": [{"serviceTimeQuantilesMs": [@Q]}]}""", "backends[0].backend: required")]
    [InlineData("""{"backends": [{"backend": "a", "serviceTimeQuantilesMs": [@Q]}, {"backend": "a", "serviceTimeQuantilesMs": [@Q]}]}""", "backends[1].backend: backend 'a' appears twice")]
    [InlineData("""{"backends": {}}""", "backends: expected an array")]
    [InlineData("""{"servers": []}""", "servers: unknown key")]
    [InlineData("""{}""", "backends: required")]
    [InlineData("""[]""", "(root): expected an object")]
    [InlineData("""{"backends": [}""", "(root): not valid JSON")]
    public void Read_InvalidModel_ErrorWithItsPath(string json, string expected)
    {
        Action read = () => ServerModelJson.Read(json.Replace("@Q", Quantiles(), StringComparison.Ordinal));

        read.Should().Throw<ServerModelFormatException>().Which.Errors.Should().Contain(e => e.StartsWith(expected, StringComparison.Ordinal));
    }

    [Fact]
    public void Read_DecreasingQuantile_ErrorNamesItsIndex()
    {
        string quantiles = string.Join(", ", Enumerable.Range(0, 101).Select(p => p == 60 ? "1" : (p * 10).ToString(System.Globalization.CultureInfo.InvariantCulture)));

        Action read = () => ServerModelJson.Read($$"""{"backends": [{"backend": "app", "serviceTimeQuantilesMs": [{{quantiles}}]}]}""");

        read.Should().Throw<ServerModelFormatException>().Which.Errors.Should().ContainSingle()
            .Which.Should().StartWith("backends[0].serviceTimeQuantilesMs[60]: 1 is less than the quantile before it (590)");
    }

    [Fact]
    public void Read_SeveralProblems_ReportsThemAll()
    {
        Action read = () => ServerModelJson.Read("""{"backends": [{"backend": "", "workers": -1, "extra": 1}]}""");

        read.Should().Throw<ServerModelFormatException>().Which.Errors.Should().HaveCount(4);
    }

    private static string Quantiles() => string.Join(", ", Enumerable.Range(0, 101).Select(p => (p * 1.5).ToString(System.Globalization.CultureInfo.InvariantCulture)));

    private static BackendModel Backend(string name, double workers, int? maxConn, double coldStartMs, double idleToColdS, long fitted)
    {
        var backend = new BackendModel { Backend = name, Workers = workers, MaxConn = maxConn, ColdStartMs = coldStartMs, IdleToColdS = idleToColdS, FittedRequests = fitted };
        for (int p = 0; p <= 100; p++)
        {
            backend.ServiceTimeQuantilesMs.Add(3 + (p * p / 7.0));
        }

        return backend;
    }
}

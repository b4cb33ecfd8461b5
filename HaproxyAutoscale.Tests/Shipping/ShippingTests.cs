using System.Diagnostics;
using System.Text.RegularExpressions;
using HaproxyAutoscale.Control;

namespace HaproxyAutoscale.Tests.Shipping;

/// <summary>
/// What users install: the dotnet tool and the Core package from the local package folder, and the Native AOT
/// binary. <c>.ci/test</c> builds them into <c>artifacts/</c> (HPA_ARTIFACTS) before the tests run.
/// </summary>
[Trait("Category", "Haproxy")]
public sealed class ShippingTests
{
    private static string Artifacts =>
        Environment.GetEnvironmentVariable("HPA_ARTIFACTS") is { Length: > 0 } path && Directory.Exists(Path.Combine(path, "packages"))
            ? path
            : throw new InvalidOperationException("HPA_ARTIFACTS is not set or has no packages: run the tests with 'bash .ci/test', which packs and publishes first.");

    // "haproxy-autoscale" is what users install: on linux-x64 it resolves to the Native AOT package. The
    // framework-dependent "haproxy-autoscale.any" is what every other platform gets; installed by name here.
    [Theory]
    [InlineData("haproxy-autoscale", "haproxy-autoscale.linux-x64")]
    [InlineData("haproxy-autoscale.any", "haproxy-autoscale.any")]
    public async Task Tool_InstalledFromTheLocalPackage_RunsHelpAndAnalyze(string package, string installedPackage)
    {
        using var dir = new TempDirectory();
        string toolPath = dir.File("tools");
        (await RunAsync("dotnet", dir.Path, "tool", "install", "--tool-path", toolPath, "--add-source", Path.Combine(Artifacts, "packages"), package, "--version", "0.1.0"))
            .Should().Contain("was successfully installed");
        string tool = Path.Combine(toolPath, "haproxy-autoscale");
        string[] store = Directory.GetDirectories(Path.Combine(toolPath, ".store", package, "0.1.0"));
        store.Select(Path.GetFileName).Should().Contain(installedPackage);

        (await RunAsync(tool, dir.Path, "--help")).Should().Contain("analyze").And.Contain("replay").And.Contain("run").And.Contain("demo");

        await File.WriteAllTextAsync(dir.File("haproxy.log"),
            "Nov 26 15:01:04 lb1 haproxy[1]: 127.0.0.1:5 [26/Nov/2026:15:01:04.676] fe app/s1 0/0/0/40/41 200 1 - - ---- 1/1/0/0/0 0/0 \"GET / HTTP/1.1\"\n" +
            "Nov 26 15:01:05 lb1 haproxy[1]: 127.0.0.1:6 [26/Nov/2026:15:01:05.676] fe app/s1 0/0/0/60/61 200 1 - - ---- 1/1/0/0/0 0/0 \"GET / HTTP/1.1\"\n");
        (await RunAsync(tool, dir.Path, "analyze", dir.File("haproxy.log"), "--json"))
            .Should().Contain("\"backend\":\"app\",\"server\":\"s1\",\"requests\":2").And.Contain("\"tr\":{\"count\":2,\"mean\":50");
    }

    // The extension examples of docs/embedding.md (blocks marked "compiled: FILE") built into a fresh project against the packed
    // Core package, and run: a custom log source feeds a queued request, a custom window reports it, a custom policy
    // (composing the idle rule) scales up, and a real HAProxy enables the parked server.
    [Fact]
    public async Task CorePackage_ReadmeExtensions_RunAgainstARealHaproxy()
    {
        using var dir = new TempDirectory();
        await using Haproxy haproxy = await Haproxy.StartWithAdminSocketAsync("""
            backend app
                server s1 127.0.0.1:1
                server s2 127.0.0.1:2 disabled
            """, dir);
        await File.WriteAllTextAsync(dir.File("Consumer.csproj"), """
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <Nullable>enable</Nullable>
                <ImplicitUsings>enable</ImplicitUsings>
                <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="HaproxyAutoscale.Core" Version="0.1.0" />
                <Using Include="System.Threading.Channels" />
                <Using Include="HaproxyAutoscale.Logs" />
                <Using Include="HaproxyAutoscale.Policies" />
                <Using Include="HaproxyAutoscale.Windows" />
              </ItemGroup>
            </Project>
            """);
        string page = await File.ReadAllTextAsync(Path.Combine(Repository.Root, "docs", "embedding.md"));
        MatchCollection examples = Regex.Matches(page, @"<!-- compiled: (?<file>\S+) -->\n```csharp\n(?<code>.*?)```", RegexOptions.Singleline);
        examples.Select(m => m.Groups["file"].Value).Should().Equal("QueueOnlyPolicy.cs", "SlowestWindow.cs", "ChannelLogSource.cs");
        foreach (Match example in examples)
        {
            example.Groups["code"].Value.Split('\n').Length.Should().BeLessThan(20, $"{example.Groups["file"]} is a short example");
            await File.WriteAllTextAsync(dir.File(example.Groups["file"].Value), example.Groups["code"].Value);
        }

        await File.WriteAllTextAsync(dir.File("Program.cs"), """
            using HaproxyAutoscale.Configuration;
            using HaproxyAutoscale.Hosting;
            using HaproxyAutoscale.Scaling;

            var options = new AutoscaleOptions { EvaluationInterval = TimeSpan.FromMilliseconds(50) };
            options.Haproxy.Endpoints.Add(args[0]);
            var backend = new BackendOptions { Name = "app", Policy = { Kind = "queue-only" }, SettleTime = TimeSpan.Zero };
            backend.Window.Kind = "slowest-100";
            backend.Servers.Add(new ServerOptions { Name = "s1", AlwaysUp = true });
            backend.Servers.Add(new ServerOptions { Name = "s2" });
            options.Backends.Add(backend);

            var channel = Channel.CreateUnbounded<byte[]>();
            var builder = new AutoscalerBuilder(options).UseLogSource(new ChannelLogSource(channel.Reader));
            builder.Policies.Add("queue-only", settings => new QueueOnlyPolicy(settings.GetInt32("step", 1, minimum: 1)));
            builder.Windows.Add("slowest-100", (_, _) => new SlowestWindow(100));
            await using Autoscaler autoscaler = builder.Build();
            Task running = autoscaler.RunAsync(CancellationToken.None);

            // One request that waited 5 ms in HAProxy's queue (Tw) and took 40 ms on s1 (Tr).
            channel.Writer.TryWrite("Nov 26 15:01:04 lb1 haproxy[1]: 127.0.0.1:5 [26/Nov/2026:15:01:04.676] fe app/s1 0/5/0/40/45 200 1 - - ---- 1/1/0/0/0 0/0 \"GET / HTTP/1.1\""u8.ToArray());
            for (int i = 0; i < 400 && !autoscaler.Snapshot()[0].Servers.Any(s => s is { Name: "s2", Role: ServerRole.Active }); i++)
            {
                await Task.Delay(25);
            }

            BackendSnapshot app = autoscaler.Snapshot()[0];
            channel.Writer.Complete();
            await running;
            Console.WriteLine($"window {app.Window.Value} ms; {string.Join(", ", app.Servers.Select(s => (s.Name, s.Role)))}; lines {autoscaler.LogCounters.Lines}");
            """);
        await File.WriteAllTextAsync(dir.File("nuget.config"), ConsumerNugetConfig(dir));

        string output = await RunAsync("dotnet", dir.Path, "run", "--configuration", "Release", "--", dir.File("admin.sock"));
        output.Trim().Should().EndWith("window 40 ms; (s1, Active), (s2, Active); lines 1");
        await using IHaproxyControl control = HaproxyControl.Create(dir.File("admin.sock"));
        (await control.ShowServersStateAsync("app")).Single(s => s.Server == "s2").AdminState.Should().Be(ServerAdminState.Ready);
    }

    // A local source added to the machine's own; an empty package cache so no earlier 0.1.0 is picked up.
    private static string ConsumerNugetConfig(TempDirectory dir) => $"""
        <configuration>
          <config><add key="globalPackagesFolder" value="{dir.File("packages")}" /></config>
          <packageSources><add key="local" value="{Path.Combine(Artifacts, "packages")}" /></packageSources>
        </configuration>
        """;

    [Fact]
    public async Task PublishedNativeBinary_RunsTheDemo()
    {
        _ = HaproxyBinary.Require();
        string binary = Path.Combine(Artifacts, "publish", "haproxy-autoscale");
        File.Exists(binary).Should().BeTrue("the Native AOT binary is published by .ci/test");
        using var dir = new TempDirectory();
        string output = await RunAsync(binary, dir.Path, "demo", "--duration", "20s", "--speed", "4");
        output.Should().Contain("The demo's clock runs 4 times faster").And.Contain("What the autoscaler did:")
            .And.MatchRegex(@"app/s2: up done in \d+ ms").And.MatchRegex(@"app: decided down s\d: no request for")
            .And.MatchRegex(@"Requests: \d+ ok, 0 failed");
    }

    [Fact]
    public async Task PublishedNativeBinary_RunsWithWriteExecuteMemoryRefused()
    {
        // What the unit's MemoryDenyWriteExecute=yes asks of it: the kernel refuses writable+executable memory
        // (prctl PR_SET_MDWE, kept across exec). The JIT build dies under it; the native binary must not.
        string binary = Path.Combine(Artifacts, "publish", "haproxy-autoscale");
        using var dir = new TempDirectory();
        await File.WriteAllTextAsync(dir.File("haproxy.log"),
            "Nov 26 15:01:04 lb1 haproxy[1]: 127.0.0.1:5 [26/Nov/2026:15:01:04.676] fe app/s1 0/0/0/40/41 200 1 - - ---- 1/1/0/0/0 0/0 \"GET / HTTP/1.1\"\n");
        const string Launcher = """
            import ctypes, os, sys
            if ctypes.CDLL(None, use_errno=True).prctl(65, 1, 0, 0, 0) != 0:  # PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN
                sys.exit("PR_SET_MDWE failed: errno %d" % ctypes.get_errno())
            os.execv(sys.argv[1], sys.argv[1:])
            """;

        (await RunAsync("python3", dir.Path, "-c", Launcher, binary, "analyze", dir.File("haproxy.log"), "--json"))
            .Should().Contain("\"backend\":\"app\",\"server\":\"s1\",\"requests\":1");
        (await RunAsync("python3", dir.Path, "-c", Launcher, binary, "--help")).Should().Contain("demo");
    }

    [Fact]
    public async Task DeploymentFiles_ExampleConfigIsValid_AndTheHaproxySnippetPassesHaproxyCheck()
    {
        string deploy = Path.Combine(Repository.Root, "HaproxyAutoscale.Cli", "deploy");
        HaproxyAutoscale.Configuration.AutoscaleConfiguration.Parse(await File.ReadAllTextAsync(Path.Combine(deploy, "config.example.json")))
            .Errors.Should().BeEmpty();
        using var dir = new TempDirectory();
        // -V: HAProxy 3.0 prints "Configuration file is valid" only in verbose mode (2.6 always); RunAsync checks exit 0.
        (await RunAsync(HaproxyBinary.Path, dir.Path, "-c", "-V", "-f", Path.Combine(deploy, "haproxy.cfg.snippet"))).Should().Contain("Configuration file is valid");
    }

    // The README's configurations (blocks marked "checked: FILE"): the first one and the scale-to-zero one; each JSON
    // parses with no problem and each haproxy.cfg passes HAProxy's own check (the Lua script loaded from the repository
    // where the package installs it).
    [Fact]
    public async Task Readme_Configurations_AreValid()
    {
        string readme = await File.ReadAllTextAsync(Path.Combine(Repository.Root, "README.md"));
        Dictionary<string, string> blocks = Regex.Matches(readme, @"<!-- checked: (?<file>\S+) -->\n```\w*\n(?<code>.*?)```", RegexOptions.Singleline)
            .ToDictionary(m => m.Groups["file"].Value, m => m.Groups["code"].Value);
        blocks.Keys.Should().BeEquivalentTo("haproxy.cfg", "autoscale.json", "haproxy-zero.cfg", "autoscale-zero.json");

        using var dir = new TempDirectory();
        string lua = Repository.File("HaproxyAutoscale.Cli", "deploy", "haproxy-autoscale.lua");
        foreach ((string file, string code) in blocks)
        {
            if (file.EndsWith(".json", StringComparison.Ordinal))
            {
                HaproxyAutoscale.Configuration.AutoscaleConfiguration.Parse(code).Errors.Should().BeEmpty(file);
                continue;
            }

            code.Contains("lua-load", StringComparison.Ordinal).Should().Be(file == "haproxy-zero.cfg", file);
            await File.WriteAllTextAsync(dir.File(file), code.Replace("/usr/share/haproxy-autoscale/haproxy-autoscale.lua", lua, StringComparison.Ordinal));
            (await RunAsync(HaproxyBinary.Path, dir.Path, "-c", "-V", "-f", dir.File(file))).Should().Contain("Configuration file is valid", file);
        }
    }

    [Fact]
    public async Task SystemdUnit_PassesSystemdsVerify_AndItsSecurityExposureIsLow()
    {
        // The unit as installed, pointing at the published binary (verify checks that ExecStart is executable).
        string binary = Path.Combine(Artifacts, "publish", "haproxy-autoscale");
        string unit = (await File.ReadAllTextAsync(Path.Combine(Repository.Root, "HaproxyAutoscale.Cli", "deploy", "haproxy-autoscale.service")))
            .Replace("/usr/local/bin/haproxy-autoscale", binary, StringComparison.Ordinal);
        unit.Should().Contain("DynamicUser=yes").And.Contain("SupplementaryGroups=haproxy").And.Contain("ProtectSystem=strict")
            .And.Contain("NoNewPrivileges=yes").And.Contain("MemoryDenyWriteExecute=yes");
        using var dir = new TempDirectory();
        string path = dir.File("haproxy-autoscale.service");
        await File.WriteAllTextAsync(path, unit);

        await RunAsync("systemd-analyze", dir.Path, "verify", path);
        // Exposure on systemd's 0-10 scale, threshold in tenths: at most 2.0 (it was 1.7 when written; 10 is unprotected).
        (await RunAsync("systemd-analyze", dir.Path, "security", "--offline=true", "--threshold=20", path)).Should().Contain("Overall exposure level");
    }

    // Runs a process to its end (bounded to 5 minutes) and returns stdout; fails with stderr on a non-zero exit.
    private static async Task<string> RunAsync(string file, string workingDirectory, params string[] args)
    {
        var start = new ProcessStartInfo(file) { WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        using Process process = Process.Start(start)!;
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', args)} did not finish within 5 minutes");
        }

        string output = await stdout;
        process.ExitCode.Should().Be(0, $"{file} {string.Join(' ', args)} failed: {output}{await stderr}");
        return output;
    }
}

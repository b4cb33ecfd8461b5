using HaproxyAutoscale.Tests.Infrastructure;

namespace HaproxyAutoscale.Tests.Shipping;

/// <summary>
/// The Debian package <c>packaging/deb/build</c> makes (.ci/test builds it into HPA_ARTIFACTS/deb): lintian finds no
/// error, apt installs it, the installed binary runs <c>check</c> against a real HAProxy, and remove + purge leave
/// nothing of it. Needs root (CI runs as root); skipped otherwise, and when the package is already installed here.
/// </summary>
[Trait("Category", "Package")]
public sealed class DebianPackageTests
{
    private const string Binary = "/usr/bin/haproxy-autoscale";
    private const string Etc = "/etc/haproxy-autoscale";

    private static readonly string[] Installed =
    [
        Binary, Etc + "/config.json", "/usr/lib/systemd/system/haproxy-autoscale.service",
        "/usr/share/haproxy-autoscale/haproxy-autoscale.lua", "/usr/share/haproxy-autoscale/haproxy.cfg.snippet",
        "/usr/share/haproxy-autoscale/grafana/haproxy-autoscale.json", "/usr/share/haproxy-autoscale/prometheus/haproxy-autoscale.rules.yml",
        "/usr/share/haproxy-autoscale/prometheus/haproxy-autoscale.rules.test.yml",
        "/usr/share/man/man1/haproxy-autoscale.1.gz", "/usr/share/doc/haproxy-autoscale/copyright",
        "/usr/share/doc/haproxy-autoscale/changelog.Debian.gz",
    ];

    private static readonly Dictionary<string, string?> Noninteractive = new() { ["DEBIAN_FRONTEND"] = "noninteractive" };

    [Fact]
    public async Task Deb_InstalledCheckedRemovedPurged_NothingLeft()
    {
        if (Environment.UserName != "root")
        {
            Assert.Skip("installing a .deb needs root (CI runs as root)");
        }

        if ((await ChildProcess.RunAsync("dpkg-query", ["-W", "haproxy-autoscale"])).ExitCode == 0)
        {
            Assert.Skip("haproxy-autoscale is installed on this machine; the test would remove it");
        }

        string deb = FindPackage();
        var (lintianExit, lintian) = await ChildProcess.RunAsync("lintian", [deb]);
        lintian.Split('\n').Should().NotContain(l => l.StartsWith("E:", StringComparison.Ordinal), lintian);
        lintianExit.Should().Be(0, lintian);

        try
        {
            await AptAsync("install", "--no-install-recommends", deb);
            Installed.Should().OnlyContain(path => File.Exists(path));
            // The native binary prints its embedded copy of the script: the same text as the installed file.
            var (luaExit, lua) = await ChildProcess.RunAsync(Binary, ["lua"]);
            luaExit.Should().Be(0, lua);
            lua.Should().StartWith("-- haproxy-autoscale:").And.Be(await File.ReadAllTextAsync("/usr/share/haproxy-autoscale/haproxy-autoscale.lua"));
            (await File.ReadAllTextAsync("/usr/share/haproxy-autoscale/prometheus/haproxy-autoscale.rules.yml")).Should().Be(await File.ReadAllTextAsync(MonitoringFiles.Rules));
            (await File.ReadAllTextAsync("/usr/lib/systemd/system/haproxy-autoscale.service")).Should().Contain("ExecStart=/usr/bin/haproxy-autoscale run").And.NotContain("/usr/local/bin");

            var (versionExit, version) = await ChildProcess.RunAsync(Binary, ["--version"]);
            versionExit.Should().Be(0, version);
            Path.GetFileName(deb).Should().StartWith($"haproxy-autoscale_{version.Trim().Split('+')[0]}-");

            await CheckAgainstHaproxyAsync();

            await AptAsync("remove");
            File.Exists(Binary).Should().BeFalse("remove takes the binary");
            File.Exists(Etc + "/config.json").Should().BeTrue("remove keeps the conffile until purge");
            await AptAsync("purge");
        }
        finally
        {
            await ChildProcess.RunAsync("apt-get", ["purge", "-y", "-o", "DPkg::Lock::Timeout=300", "haproxy-autoscale"], Noninteractive);
        }

        (await ChildProcess.RunAsync("dpkg", ["-L", "haproxy-autoscale"])).ExitCode.Should().NotBe(0, "dpkg knows nothing of the package");
        Directory.Exists(Etc).Should().BeFalse("purge removes what the package put in /etc");
        Installed.Should().OnlyContain(path => !File.Exists(path));
        Directory.Exists("/usr/share/haproxy-autoscale").Should().BeFalse();
    }

    private static async Task CheckAgainstHaproxyAsync()
    {
        using var dir = new TempDirectory();
        await using var haproxy = await Haproxy.StartWithAdminSocketAsync("""
            backend app
                server s1 127.0.0.1:1
                server s2 127.0.0.1:2 disabled
            """, dir);
        await File.WriteAllTextAsync(dir.File("config.json"), $$"""
            { "haproxy": { "endpoints": ["{{dir.File("admin.sock")}}"] }, "logs": { "source": "udp@127.0.0.1:0" },
              "backends": { "app": { "servers": { "s1": { "alwaysUp": true }, "s2": {} } } } }
            """);
        var (exitCode, output) = await ChildProcess.RunAsync(Binary, ["check", "--config", dir.File("config.json")]);
        exitCode.Should().Be(0, output);
        output.Should().Contain("configuration valid").And.Contain("backends.app.servers.s2: maint");
    }

    private static async Task AptAsync(string verb, params string[] args)
    {
        string[] arguments = [verb, "-y", "-o", "DPkg::Lock::Timeout=300", .. args.Length > 0 ? args : ["haproxy-autoscale"]];
        var (exitCode, output) = await ChildProcess.RunAsync("apt-get", arguments, Noninteractive);
        exitCode.Should().Be(0, $"apt-get {string.Join(' ', arguments)}: {output}");
    }

    private static string FindPackage()
    {
        string folder = Environment.GetEnvironmentVariable("HPA_ARTIFACTS") is { Length: > 0 } artifacts
            ? Path.Combine(artifacts, "deb")
            : throw new InvalidOperationException("HPA_ARTIFACTS is not set: run the tests with 'bash .ci/test', which builds the .deb (packaging/deb/build) first.");
        string[] debs = Directory.Exists(folder) ? Directory.GetFiles(folder, "haproxy-autoscale_*_amd64.deb") : [];
        return debs.Length == 1 ? debs[0] : throw new InvalidOperationException($"expected one haproxy-autoscale_*_amd64.deb in {folder}, found {debs.Length}");
    }
}

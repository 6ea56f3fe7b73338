using CharacterGen.Server.Tests.Grpc.Support;

namespace CharacterGen.Server.Tests.Grpc.RealClients;

/// <summary>Node @grpc/grpc-js against the in-process server.</summary>
[Category("RealClient")]
public sealed class NodeClientTests
{
    [Test]
    public async Task Grpc_js_client_passes_every_check()
    {
        var folder = Path.Combine(Repository.Clients, "node");
        if (!await ExternalProcess.SucceedsAsync("node", "--version"))
            Prerequisites.Missing("node is not installed.");
        await InstallPackagesAsync(folder);
        await using var server = await TestServer.StartAsync(o => o with { Grpc = o.Grpc with { ResponseCompression = "gzip" } });

        var result = await ExternalProcess.RunAsync("node",
            [Path.Combine(folder, "client.js"), "--address", server.GrpcAddress.Authority,
             "--protos", Repository.Protos, "--test-protos", Repository.TestProtos, "--api-protos", Repository.ApiProtos],
            folder, TimeSpan.FromMinutes(2));

        TestContext.Out.WriteLine(result.Output);
        Assert.That(result.ExitCode, Is.Zero, result.Output);
        foreach (var check in RealClientChecks.Names)
            Assert.That(result.Output, Does.Contain($"PASS {check}"));
        Assert.That(result.Output, Does.Contain("DONE failed=0"));
        await server.Probe.CancellationObserved("node-deadline").WaitAsync(TimeSpan.FromSeconds(20));
    }

    /// <summary>node_modules is not committed: install the locked versions on first use.</summary>
    private static async Task InstallPackagesAsync(string folder)
    {
        if (Directory.Exists(Path.Combine(folder, "node_modules", "@grpc", "grpc-js"))) return;
        var install = await ExternalProcess.RunAsync("npm", ["ci", "--no-audit", "--no-fund"], folder, TimeSpan.FromMinutes(5));
        if (install.ExitCode != 0)
            Prerequisites.Missing($"npm ci failed (no registry access?):{Environment.NewLine}{install.Output}");
    }
}

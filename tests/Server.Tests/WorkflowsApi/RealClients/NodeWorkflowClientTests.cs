using CharacterGen.GraphRuntime.Execution;
using CharacterGen.Server.Tests.Grpc.RealClients;

namespace CharacterGen.Server.Tests.WorkflowsApi.RealClients;

/// <summary>Node @grpc/grpc-js: workflows end to end, cancel, deadline, plus the transport checks.</summary>
[Category("RealClient")]
public sealed class NodeWorkflowClientTests
{
    [Test]
    public async Task Grpc_js_client_runs_workflows_end_to_end()
    {
        var folder = Path.Combine(Repository.Clients, "node");
        if (!await ExternalProcess.SucceedsAsync("node", "--version"))
            Prerequisites.Missing("node is not installed.");
        await InstallPackagesAsync(folder);
        await using var server = await RealWorkflowClients.StartServerAsync();

        var result = await ExternalProcess.RunAsync("node",
            [Path.Combine(folder, "client.js"), "--address", server.GrpcAddress.Authority,
             "--protos", Repository.Protos, "--test-protos", Repository.TestProtos, "--api-protos", Repository.ApiProtos, "--workflows", "true"],
            folder, TimeSpan.FromMinutes(2));

        RealWorkflowClients.AssertPassed(result);
        await server.Probe.CancellationObserved("node-deadline").WaitAsync(TimeSpan.FromSeconds(20));
        var jobs = server.Engine.ListJobs();
        Assert.That(jobs.Count(j => j.Status == JobStatus.Cancelled), Is.EqualTo(2));
        Assert.That(jobs.Count(j => j.Status == JobStatus.Succeeded), Is.EqualTo(1));
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

using CharacterGen.Protos.V1;
using CharacterGen.Server.Grpc;
using CharacterGen.Server.Tests.Grpc.RealClients;
using CharacterGen.Server.Tests.WorkflowsApi.Support;
using Google.Protobuf;
using Google.Protobuf.Reflection;

namespace CharacterGen.Server.Tests.WorkflowsApi.RealClients;

/// <summary>
/// A browser's gRPC-Web client (Connect's fetch transport, pinned in tests/clients/grpc-web) against the HTTP
/// port: every service reachable, a workflow run with streamed progress, cancel, error details, auth.
/// </summary>
[Category("RealClient")]
public sealed class GrpcWebClientTests
{
    private const string ApiKey = "grpc-web-test-key-0123456789";

    [Test]
    public async Task Grpc_web_client_runs_workflows_over_the_http_port()
    {
        var folder = Path.Combine(Repository.Clients, "grpc-web");
        if (!await ExternalProcess.SucceedsAsync("node", "--version"))
            Prerequisites.Missing("node is not installed.");
        await InstallPackagesAsync(folder);
        await using var server = await WorkflowServer.StartAsync(configure: o => o with { Auth = new AuthOptions { ApiKeys = [ApiKey] } });
        var descriptors = Path.Combine(server.Options.DataDir, "descriptors.pb");
        await File.WriteAllBytesAsync(descriptors, DescriptorSet(
            WorkflowsReflection.Descriptor, ModelsReflection.Descriptor, AssetsReflection.Descriptor,
            global::Grpc.Health.V1.HealthReflection.Descriptor, Google.Rpc.ErrorDetailsReflection.Descriptor).ToByteArray());

        var result = await ExternalProcess.RunAsync("node",
            [Path.Combine(folder, "client.mjs"), "--base-url", server.HttpAddress.ToString().TrimEnd('/'),
             "--descriptors", descriptors, "--api-key", ApiKey],
            folder, TimeSpan.FromMinutes(2));

        TestContext.Out.WriteLine(result.Output);
        Assert.That(result.ExitCode, Is.Zero, result.Output);
        foreach (var check in new[] { "health_check", "unauthenticated", "workflow_run", "workflow_cancel", "invalid_argument_details", "models_and_assets" })
            Assert.That(result.Output, Does.Contain($"PASS {check}"));
        Assert.That(result.Output, Does.Contain("DONE failed=0"));
        var jobs = server.Engine.ListJobs();
        Assert.That(jobs.Count(j => j.Status == GraphRuntime.Execution.JobStatus.Succeeded), Is.EqualTo(1));
        Assert.That(jobs.Count(j => j.Status == GraphRuntime.Execution.JobStatus.Cancelled), Is.EqualTo(1));
    }

    /// <summary>The files and everything they import, dependencies first, as a protoc descriptor set.</summary>
    private static FileDescriptorSet DescriptorSet(params FileDescriptor[] files)
    {
        var ordered = new List<FileDescriptor>();
        void Add(FileDescriptor file)
        {
            if (ordered.Contains(file)) return;
            foreach (var dependency in file.Dependencies) Add(dependency);
            ordered.Add(file);
        }
        foreach (var file in files) Add(file);
        var set = new FileDescriptorSet();
        set.File.AddRange(ordered.Select(f => FileDescriptorProto.Parser.ParseFrom(f.SerializedData)));
        return set;
    }

    /// <summary>node_modules is not committed: install the locked versions on first use.</summary>
    private static async Task InstallPackagesAsync(string folder)
    {
        if (Directory.Exists(Path.Combine(folder, "node_modules", "@connectrpc", "connect-web"))) return;
        var install = await ExternalProcess.RunAsync("npm", ["ci", "--no-audit", "--no-fund"], folder, TimeSpan.FromMinutes(5));
        if (install.ExitCode != 0)
            Prerequisites.Missing($"npm ci failed (no registry access?):{Environment.NewLine}{install.Output}");
    }
}

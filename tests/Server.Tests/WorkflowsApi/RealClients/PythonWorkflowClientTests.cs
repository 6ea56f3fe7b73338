using CharacterGen.GraphRuntime.Execution;
using CharacterGen.Server.Tests.Grpc.RealClients;

namespace CharacterGen.Server.Tests.WorkflowsApi.RealClients;

/// <summary>Python grpcio (Debian's python3-grpcio): workflows end to end, cancel, deadline, plus the transport checks.</summary>
[Category("RealClient")]
public sealed class PythonWorkflowClientTests
{
    private const string Python = "/usr/bin/python3"; // Debian's modules; a pyenv python3 earlier on PATH lacks them

    [Test]
    public async Task Grpcio_client_runs_workflows_end_to_end()
    {
        if (!await ExternalProcess.SucceedsAsync(Python, "-c", "import grpc, grpc_tools"))
            Prerequisites.Missing("python3-grpcio and python3-grpc-tools are not installed.");
        await using var server = await RealWorkflowClients.StartServerAsync();

        var result = await ExternalProcess.RunAsync(Python,
            [Path.Combine(Repository.Clients, "python", "client.py"), "--address", server.GrpcAddress.Authority,
             "--protos", Repository.Protos, "--test-protos", Repository.TestProtos, "--api-protos", Repository.ApiProtos, "--workflows"],
            Repository.Root, TimeSpan.FromMinutes(2));

        RealWorkflowClients.AssertPassed(result);
        await server.Probe.CancellationObserved("python-deadline").WaitAsync(TimeSpan.FromSeconds(20));
        // The client's cancelled and deadline-struck jobs really stopped on the server.
        var jobs = server.Engine.ListJobs();
        Assert.That(jobs.Count(j => j.Status == JobStatus.Cancelled), Is.EqualTo(2));
        Assert.That(jobs.Count(j => j.Status == JobStatus.Succeeded), Is.EqualTo(1));
    }
}

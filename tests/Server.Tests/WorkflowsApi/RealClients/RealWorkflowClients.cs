using CharacterGen.Server.Tests.Grpc.RealClients;
using CharacterGen.Server.Tests.WorkflowsApi.Support;

namespace CharacterGen.Server.Tests.WorkflowsApi.RealClients;

/// <summary>
/// The real-client scripts run with <c>--workflows</c> against a server with the test node catalogue: every
/// transport check they always made, plus workflows end to end.
/// </summary>
public static class RealWorkflowClients
{
    public static readonly string[] WorkflowChecks =
    [
        "reflection_workflows",
        "workflow_run",
        "workflow_invalid",
        "workflow_cancel",
        "workflow_deadline",
        "models_list",
    ];

    public static IEnumerable<string> AllChecks => RealClientChecks.Names.Concat(WorkflowChecks);

    /// <summary>A server as the transport's real-client tests start it (gzip responses), with test nodes.</summary>
    public static Task<WorkflowServer> StartServerAsync() =>
        WorkflowServer.StartAsync(configure: o => o with { Grpc = o.Grpc with { ResponseCompression = "gzip" } });

    public static void AssertPassed(ExternalProcess.Result result)
    {
        TestContext.Out.WriteLine(result.Output);
        Assert.That(result.ExitCode, Is.Zero, result.Output);
        foreach (var check in AllChecks)
            Assert.That(result.Output, Does.Contain($"PASS {check}"));
        Assert.That(result.Output, Does.Contain("DONE failed=0"));
    }
}

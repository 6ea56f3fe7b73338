using CharacterGen.Server.Tests.Grpc.Support;

namespace CharacterGen.Server.Tests.Grpc.RealClients;

/// <summary>Python grpcio (Debian's python3-grpcio) against the in-process server.</summary>
[Category("RealClient")]
public sealed class PythonClientTests
{
    private const string Python = "/usr/bin/python3"; // Debian's modules; a pyenv python3 earlier on PATH lacks them

    [Test]
    public async Task Grpcio_client_passes_every_check()
    {
        if (!await ExternalProcess.SucceedsAsync(Python, "-c", "import grpc, grpc_tools"))
            Prerequisites.Missing("python3-grpcio and python3-grpc-tools are not installed.");
        await using var server = await TestServer.StartAsync(o => o with { Grpc = o.Grpc with { ResponseCompression = "gzip" } });

        var result = await ExternalProcess.RunAsync(Python,
            [Path.Combine(Repository.Clients, "python", "client.py"), "--address", server.GrpcAddress.Authority,
             "--protos", Repository.Protos, "--test-protos", Repository.TestProtos, "--api-protos", Repository.ApiProtos],
            Repository.Root, TimeSpan.FromMinutes(2));

        TestContext.Out.WriteLine(result.Output);
        Assert.That(result.ExitCode, Is.Zero, result.Output);
        foreach (var check in RealClientChecks.Names)
            Assert.That(result.Output, Does.Contain($"PASS {check}"));
        Assert.That(result.Output, Does.Contain("DONE failed=0"));
        // The server side of the deadline: the handler saw its token fire.
        await server.Probe.CancellationObserved("python-deadline").WaitAsync(TimeSpan.FromSeconds(20));
    }
}

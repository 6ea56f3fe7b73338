using CharacterGen.Server.Tests.ComfyApi.Support;
using CharacterGen.Server.Tests.Grpc.RealClients;

namespace CharacterGen.Server.Tests.ComfyApi;

/// <summary>A Python client in the style of ComfyUI's websockets_api_example.py (Debian's python3-websocket).</summary>
[Category("RealClient")]
public sealed class PythonClientTests
{
    private const string Python = "/usr/bin/python3"; // Debian's modules; a pyenv python3 earlier on PATH lacks them

    private static readonly string[] Checks =
        ["status-on-connect", "prompt-finishes", "preview-frames", "history-and-view", "cached-resubmission", "no-prompt-error"];

    [TestCase(false)]
    [TestCase(true)]
    public async Task Websocket_example_client_passes_every_check(bool withAuth)
    {
        if (!await ExternalProcess.SucceedsAsync(Python, "-c", "import websocket"))
            CharacterGen.Server.Tests.Grpc.RealClients.Prerequisites.Missing("python3-websocket is not installed.");
        const string token = "python-client-token-0123456789";
        await using var server = await ComfyServer.StartAsync(o => withAuth ? o with { Auth = new() { BearerTokens = [token] } } : o);

        string[] arguments = [Path.Combine(Repository.Clients, "python", "comfy_ws_client.py"), "--server", server.HttpAddress.Authority];
        var result = await ExternalProcess.RunAsync(Python, withAuth ? [.. arguments, "--token", token] : arguments,
            Repository.Root, TimeSpan.FromMinutes(2));

        TestContext.Out.WriteLine(result.Output);
        Assert.That(result.ExitCode, Is.Zero, result.Output);
        foreach (var check in Checks) Assert.That(result.Output, Does.Contain($"PASS {check}"));
        Assert.That(result.Output, Does.Contain("DONE failed=0"));
        Assert.That(Directory.GetFiles(server.Folders.Output), Has.Length.EqualTo(1), "the cached run wrote nothing");
    }
}

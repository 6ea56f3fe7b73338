using System.Text.Json.Nodes;
using CharacterGen.Server.Tests.Grpc.RealClients;

namespace CharacterGen.Server.Tests.Characters;

/// <summary>
/// The examples of docs/characters.md against a real server: the Python grpcio client (tests/clients/python/
/// character_flow.py) and the curl script (tests/clients/curl/character_flow.sh) each walk the whole flow to READY
/// and three scenes.
/// </summary>
[Category("RealClient")]
[Category("Characters")]
public sealed class CharacterClientTests
{
    private const string Python = "/usr/bin/python3";
    private static readonly TimeSpan Hang = TimeSpan.FromMinutes(20); // a hang guard on a loaded machine, not a timing assertion

    [Test]
    public async Task Python_grpcio_client_walks_the_flow()
    {
        if (!await ExternalProcess.SucceedsAsync(Python, "-c", "import grpc, grpc_tools"))
            Prerequisites.Missing("python3-grpcio and python3-grpc-tools are not installed.");
        await using var host = await CharacterTestServer.StartAsync();

        var result = await ExternalProcess.RunAsync(Python,
            [Path.Combine(Repository.Clients, "python", "character_flow.py"), "--address", host.Server.GrpcAddress.Authority,
             "--protos", Repository.Protos, "--test-protos", Repository.TestProtos, "--api-protos", Repository.ApiProtos, "--images", "6", "--steps", "3"],
            Repository.Root, Hang);

        Assert.That(result.ExitCode, Is.EqualTo(0), result.Output);
        var lines = result.Output.Split('\n').Where(l => l.StartsWith('{')).Select(l => JsonNode.Parse(l)!).ToList();
        var summary = lines[^1];
        Assert.That(summary["state"]!.GetValue<string>(), Is.EqualTo("CHARACTER_STATE_READY"));
        Assert.That((summary["candidates"]!.GetValue<int>(), summary["training_images"]!.GetValue<int>()), Is.EqualTo((2, 5)));
        Assert.That(summary["refused_scene"]![0]!.GetValue<string>(), Is.EqualTo("FAILED_PRECONDITION"));
        Assert.That(summary["scene_seeds"]!.AsArray().Select(s => s!.GetValue<long>()), Is.EqualTo(new[] { 1L, 2L, 3L }));
        Assert.That(lines.Count(l => l["training_set"] is not null), Is.EqualTo(6));
        Assert.That(lines.Where(l => l["training_step"] is not null).Select(l => l["training_step"]!.GetValue<int>()), Is.EqualTo(new[] { 1, 2, 3 }));
    }

    [Test]
    public async Task Curl_script_walks_the_flow()
    {
        if (!await ExternalProcess.SucceedsAsync("curl", "--version"))
            Prerequisites.Missing("curl is not installed.");
        await using var host = await CharacterTestServer.StartAsync();

        var result = await ExternalProcess.RunAsync("/bin/bash",
            [Path.Combine(Repository.Clients, "curl", "character_flow.sh"), host.Server.HttpAddress.ToString().TrimEnd('/'), "6", "3"],
            Repository.Root, Hang);

        Assert.That(result.ExitCode, Is.EqualTo(0), result.Output);
        var character = JsonNode.Parse(result.Output.Split('\n').Last(l => l.StartsWith('{')))!;
        Assert.That(character["state"]!.GetValue<string>(), Is.EqualTo("CHARACTER_STATE_READY"));
        Assert.That(character["trainingImageCount"]!.GetValue<int>(), Is.EqualTo(5));
    }
}

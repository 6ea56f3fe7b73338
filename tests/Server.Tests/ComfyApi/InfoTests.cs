using System.Net;
using System.Text.Json.Nodes;
using CharacterGen.Server.Tests.ComfyApi.Support;

namespace CharacterGen.Server.Tests.ComfyApi;

/// <summary>GET /object_info, /system_stats, /models, /embeddings, /features, /free.</summary>
public sealed class InfoTests
{
    [Test]
    public async Task Object_info_describes_the_catalogue_under_both_prefixes()
    {
        await using var server = await ComfyServer.StartAsync();

        var all = (JsonObject)await server.GetJsonAsync("/object_info");
        Assert.That(all.Select(p => p.Key), Does.Contain("Const").And.Contain("TestSaveImage"));
        var save = all["TestSaveImage"]!;
        Assert.That(save["output_node"]!.GetValue<bool>(), Is.True);
        Assert.That(save["input"]!["required"]!["filename_prefix"]![0]!.GetValue<string>(), Is.EqualTo("STRING"));

        var one = (JsonObject)await server.GetJsonAsync("/api/object_info/Const");
        Assert.That(one.Select(p => p.Key), Is.EqualTo(new[] { "Const" }));
        Assert.That(JsonNode.DeepEquals(one["Const"], all["Const"]));
        Assert.That((await server.GetJsonAsync("/object_info/Nope")).ToJsonString(), Is.EqualTo("{}"));
    }

    [Test]
    public async Task System_stats_has_comfyui_shape_and_exposes_no_command_line()
    {
        await using var server = await ComfyServer.StartAsync();
        var stats = await server.GetJsonAsync("/system_stats");

        var system = stats["system"]!.AsObject();
        Assert.That(system.Select(p => p.Key), Is.SupersetOf(new[]
        {
            "os", "ram_total", "ram_free", "comfyui_version", "required_frontend_version", "python_version", "pytorch_version", "embedded_python", "argv",
        }));
        Assert.That(system["ram_total"]!.GetValue<long>(), Is.GreaterThan(0));
        Assert.That(system["argv"]!.AsArray(), Is.Empty);
        var device = stats["devices"]![0]!.AsObject();
        Assert.That(device.Select(p => p.Key), Is.EqualTo(new[] { "name", "type", "index", "vram_total", "vram_free", "torch_vram_total", "torch_vram_free" }));
    }

    [Test]
    public async Task Models_list_folders_and_their_weight_files()
    {
        await using var server = await ComfyServer.StartAsync();
        var models = server.Options.ModelsDir;
        ViewTests.Write(Path.Combine(models, "checkpoints", "sd15"), "tiny.safetensors", [0]);
        ViewTests.Write(Path.Combine(models, "checkpoints"), "a.safetensors", [0]);
        ViewTests.Write(Path.Combine(models, "checkpoints"), "unsafe.ckpt", [0]);
        ViewTests.Write(Path.Combine(models, "embeddings"), "easyneg.safetensors", [0]);

        var folders = (await server.GetJsonAsync("/models")).AsArray().Select(n => n!.GetValue<string>()).ToList();
        Assert.That(folders, Does.Contain("checkpoints").And.Contain("loras").And.Contain("embeddings"));
        Assert.That((await server.GetJsonAsync("/models/checkpoints")).ToJsonString(), Is.EqualTo("""["a.safetensors","sd15/tiny.safetensors"]"""));
        Assert.That((await server.GetJsonAsync("/api/embeddings")).ToJsonString(), Is.EqualTo("""["easyneg"]"""));
        Assert.That((await server.Http.GetAsync("/models/nope")).StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
    }

    [Test]
    public async Task Features_advertise_preview_metadata_and_the_upload_limit()
    {
        await using var server = await ComfyServer.StartAsync();
        Assert.That((await server.GetJsonAsync("/features")).ToJsonString(),
            Is.EqualTo($$"""{"supports_preview_metadata":true,"max_upload_size":{{100 * 1024 * 1024}}}"""));
    }

    [Test]
    public async Task Free_empties_the_shared_output_cache()
    {
        await using var server = await ComfyServer.StartAsync();
        await server.Engine.WaitAsync(await server.QueueAsync(TestWorkflows.SaveChain()));
        Assert.That(server.Engine.CachedEntryCount, Is.GreaterThan(0));

        using (var response = await server.PostJsonAsync("/free", new { unload_models = true, free_memory = true }))
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));

        using var timeout = new CancellationTokenSource(ComfySocket.Hang);
        while (server.Engine.CachedEntryCount > 0) await Task.Delay(20, timeout.Token);
        var executions = server.Nodes.Executions;
        await server.Engine.WaitAsync(await server.QueueAsync(TestWorkflows.SaveChain()));
        Assert.That(server.Nodes.Executions, Is.EqualTo(executions + 3), "everything ran again");
    }
}

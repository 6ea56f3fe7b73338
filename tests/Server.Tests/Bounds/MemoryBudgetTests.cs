using System.Text.Json.Nodes;
using CharacterGen.GraphRuntime.Contracts;
using CharacterGen.Server.Tests.Cli;
using CharacterGen.Server.Tests.ComfyApi.Support;
using CharacterGen.Tensors;
using Microsoft.Extensions.DependencyInjection;

namespace CharacterGen.Server.Tests.Bounds;

/// <summary>
/// Issue #10, failure 1: one 16384² EmptyLatentImage took the server from 1 GB to 9 GB before anything refused it.
/// Now the memory budget refuses it at validation, on every transport, before a tensor exists.
/// </summary>
public sealed class MemoryBudgetTests
{
    [Test]
    public async Task A_16384_square_prompt_is_refused_at_validation_naming_the_node_the_estimate_and_the_limit()
    {
        await using var server = await ComfyServer.StartAsync(builtinNodes: true);
        Sd15Jobs.WriteCheckpoint(server);
        var budget = server.Services.GetRequiredService<MemoryBudget>();
        long liveBefore = Torch.NativeLiveTensors;

        var (status, body) = await server.PostPromptAsync(new JsonObject { ["prompt"] = Sd15Jobs.Txt2Img(16384, 16384) });

        Assert.That(status, Is.EqualTo(400), body.ToJsonString());
        var error = body["error"]!;
        Assert.That(error["type"]!.GetValue<string>(), Is.EqualTo("memory_budget_exceeded"));
        Assert.That(error["message"]!.GetValue<string>(), Does.Contain("Node 3 (KSampler)").And.Contain("memory limit"));
        Assert.That(error["extra_info"]!["limit_bytes"]!.GetValue<long>(), Is.EqualTo(budget.Bytes));
        Assert.That(error["extra_info"]!["estimated_bytes"]!.GetValue<long>(), Is.GreaterThan(budget.Bytes));
        var sampler = body["node_errors"]!["3"]!;
        Assert.That(sampler["class_type"]!.GetValue<string>(), Is.EqualTo("KSampler"));
        Assert.That(sampler["errors"]![0]!["type"]!.GetValue<string>(), Is.EqualTo("memory_budget_exceeded"));

        Assert.That(server.Engine.Queue.Running, Is.Null, "nothing was queued");
        Assert.That(Torch.NativeLiveTensors, Is.EqualTo(liveBefore), "no tensor was allocated");
    }

    [Test]
    public async Task The_default_budget_is_measured_at_start_up_and_logged_with_its_source()
    {
        await using var server = await ComfyServer.StartAsync();

        var line = server.Logs.Entries.Single(e => e.Message.StartsWith("Memory budget", StringComparison.Ordinal));
        var budget = server.Services.GetRequiredService<MemoryBudget>();
        Assert.That(line.Message, Does.Contain($"{budget.Bytes} bytes").And.Contain("host memory"), "the CPU default");
        Assert.That(budget.Bytes, Is.EqualTo((long)(GC.GetGCMemoryInfo().TotalAvailableMemoryBytes * 0.75)));
    }

    [Test]
    public async Task The_same_workflow_at_a_normal_size_still_runs()
    {
        await using var server = await ComfyServer.StartAsync(builtinNodes: true);
        Sd15Jobs.WriteCheckpoint(server);
        var id = await server.QueueAsync(Sd15Jobs.Txt2Img(64, 64));
        Assert.That((await server.Engine.WaitAsync(id)).Status.ToString(), Is.EqualTo("Succeeded"));
    }

    [Test]
    public async Task A_batch_that_multiplies_a_fitting_size_past_the_budget_is_refused()
    {
        // 1024² fits; 4096 of them (each field within its own maximum) do not.
        await using var server = await ComfyServer.StartAsync(o => o with { MemoryBudgetBytes = 64L << 30 }, builtinNodes: true);
        Sd15Jobs.WriteCheckpoint(server);
        Assert.That(server.Engine.Validate(Sd15Jobs.Txt2Img(1024, 1024).ToJsonString()).IsValid, Is.True);
        var (status, body) = await server.PostPromptAsync(new JsonObject { ["prompt"] = Sd15Jobs.Txt2Img(1024, 1024, batch: 4096) });
        Assert.That(status, Is.EqualTo(400));
        Assert.That(body["error"]!["type"]!.GetValue<string>(), Is.EqualTo("memory_budget_exceeded"));
    }

    [Test]
    public async Task The_cli_run_refuses_it_too_with_exit_2()
    {
        var root = Path.Combine(Path.GetTempPath(), "cg-budget-" + Guid.NewGuid().ToString("N"));
        try
        {
            CharacterGen.Diffusion.RandomWeights.TinyModelWriter.WriteSd15(Path.Combine(root, "models", "checkpoints", Sd15Jobs.Checkpoint), seed: 5);
            var workflow = Path.Combine(root, "wf.json");
            File.WriteAllText(workflow, Sd15Jobs.Txt2Img(16384, 16384).ToJsonString());

            var (exit, _, err) = await CliRunner.RunAsync("run", workflow, "--models", Path.Combine(root, "models"), "--out", Path.Combine(root, "out"));

            Assert.That(exit, Is.EqualTo(2), err);
            Assert.That(err, Does.Contain("memory_budget_exceeded").Or.Contain("memory limit"));
            Assert.That(Directory.Exists(Path.Combine(root, "out")) ? Directory.GetFiles(Path.Combine(root, "out")) : [], Is.Empty);
        }
        finally
        {
            if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
        }
    }
}

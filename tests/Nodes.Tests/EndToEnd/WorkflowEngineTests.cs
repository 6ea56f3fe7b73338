using System.Text.Json.Nodes;
using CharacterGen.Diffusion.Imaging;
using CharacterGen.GraphRuntime.Engine;
using CharacterGen.GraphRuntime.Events;
using CharacterGen.GraphRuntime.Execution;
using CharacterGen.GraphRuntime.Jobs;
using CharacterGen.GraphRuntime.Validation;
using CharacterGen.Nodes.Sampling;
using CharacterGen.Nodes.Tests.Support;
using CharacterGen.Tensors;

namespace CharacterGen.Nodes.Tests.EndToEnd;

/// <summary>The shipped txt2img workflow through one WorkflowEngine: caching, validation, progress, memory, cancellation.</summary>
public sealed class WorkflowEngineTests
{
    private static readonly string[] Small = ["3.steps=3", "5.width=64", "5.height=64"];

    [Test]
    public async Task Changing_only_the_seed_reruns_the_sampler_and_what_follows()
    {
        await using var h = EngineHarness.Create();
        var (first, job1) = await h.RunAsync(h.Workflow("txt2img_sd15.json", Small));
        Assert.That(job1.Status, Is.EqualTo(JobStatus.Succeeded), job1.Error?.Message);
        Assert.That(EngineHarness.Started(first), Is.EquivalentTo(new[] { "3", "4", "5", "6", "7", "8", "9" }));

        var (second, job2) = await h.RunAsync(h.Workflow("txt2img_sd15.json", [.. Small, "3.seed=12345"]));
        Assert.That(job2.Status, Is.EqualTo(JobStatus.Succeeded), job2.Error?.Message);
        Assert.That(EngineHarness.Cached(second), Is.EquivalentTo(new[] { "4", "5", "6", "7" }));
        Assert.That(EngineHarness.Started(second), Is.EquivalentTo(new[] { "3", "8", "9" }));
        Assert.That(h.Env.Cache.LoadCount, Is.EqualTo(1));

        byte[] a = ImageDecoder.Decode(File.ReadAllBytes(h.SavedFiles(job1).Single())).Pixels;
        byte[] b = ImageDecoder.Decode(File.ReadAllBytes(h.SavedFiles(job2).Single())).Pixels;
        Assert.That(a, Is.Not.EqualTo(b), "another seed, another image");
    }

    [Test]
    public async Task The_shipped_sdxl_workflow_runs_on_a_tiny_sdxl_checkpoint()
    {
        await using var h = EngineHarness.Create();
        using (Torch.NewScope()) CharacterGen.Diffusion.RandomWeights.TinyModelWriter.WriteSdxl(h.Env.CheckpointPath(NodeTestEnvironment.Checkpoint), seed: 6);
        var (_, job) = await h.RunAsync(h.Workflow("txt2img_sdxl.json", Small));
        Assert.That(job.Status, Is.EqualTo(JobStatus.Succeeded), job.Error?.Message);
        var image = ImageDecoder.Decode(File.ReadAllBytes(h.SavedFiles(job).Single()));
        Assert.That((image.Width, image.Height), Is.EqualTo((64, 64)));
    }

    [Test]
    public async Task A_checkpoint_linked_in_from_shared_storage_runs_as_comfyui_runs_it()
    {
        await using var h = EngineHarness.Create();
        string shared = Path.Combine(h.Env.Root, "shared-models");
        Directory.CreateDirectory(shared);
        File.Move(h.Env.CheckpointPath(NodeTestEnvironment.Checkpoint), Path.Combine(shared, "real.safetensors"));
        Directory.Move(h.Env.CheckpointPath("tiny.tokenizer"), Path.Combine(shared, "real.tokenizer"));
        File.CreateSymbolicLink(h.Env.CheckpointPath("linked.safetensors"), Path.Combine(shared, "real.safetensors"));
        Directory.CreateSymbolicLink(h.Env.CheckpointPath("linked.tokenizer"), Path.Combine(shared, "real.tokenizer"));

        var (_, job) = await h.RunAsync(h.Workflow("txt2img_sd15.json", [.. Small, "4.ckpt_name=\"linked.safetensors\""]));
        Assert.That(job.Status, Is.EqualTo(JobStatus.Succeeded), job.Error?.Message);
    }

    [Test]
    public async Task Rerunning_an_identical_prompt_executes_nothing_and_writes_no_new_file()
    {
        await using var h = EngineHarness.Create();
        var workflow = h.Workflow("txt2img_sd15.json", Small);
        await h.RunAsync(workflow);
        var (events, job) = await h.RunAsync(workflow);
        Assert.That(job.Status, Is.EqualTo(JobStatus.Succeeded));
        Assert.That(EngineHarness.Started(events), Is.Empty);
        Assert.That(EngineHarness.Cached(events).ToList(), Has.Count.EqualTo(7));
        Assert.That(Directory.GetFiles(h.Env.Data.Output), Has.Length.EqualTo(1));
        Assert.That(events.OfType<NodeFinished>().Single().FromCache, Is.True, "SaveImage's ui is reported from the cache");
    }

    [Test]
    public async Task Steps_zero_and_an_unknown_sampler_fail_validation_with_comfyuis_error_types()
    {
        await using var h = EngineHarness.Create();
        ValidationResult steps = h.Engine.Validate(h.Workflow("txt2img_sd15.json", "3.steps=0"));
        var stepError = steps.AllErrors().Single(e => e.NodeId is not null).Error;
        Assert.That(stepError.Type, Is.EqualTo(ValidationErrorTypes.ValueSmallerThanMin));
        Assert.That(stepError.Message, Is.EqualTo("Value 0 smaller than min of 1"));
        Assert.That(stepError.InputName, Is.EqualTo("steps"));

        ValidationResult sampler = h.Engine.Validate(h.Workflow("txt2img_sd15.json", "3.sampler_name=\"euler_magic\""));
        var samplerError = sampler.AllErrors().Single(e => e.NodeId is not null).Error;
        Assert.That(samplerError.Type, Is.EqualTo(ValidationErrorTypes.ValueNotInList));
        Assert.That(samplerError.InputName, Is.EqualTo("sampler_name"));

        ValidationResult checkpoint = h.Engine.Validate(h.Workflow("txt2img_sd15.json", "4.ckpt_name=\"missing.safetensors\""));
        var checkpointError = checkpoint.AllErrors().Single(e => e.NodeId is not null).Error;
        Assert.That(checkpointError.Type, Is.EqualTo(ValidationErrorTypes.ValueNotInList));
        Assert.That(checkpointError.Details, Does.EndWith("; searched checkpoints/"), "a missing model names the folders searched");
    }

    [Test]
    public async Task Every_step_reports_progress_and_a_latent_preview_png_when_previews_are_on()
    {
        await using var h = EngineHarness.Create(null, new LatentPreviewOptions(Enabled: true, Interval: 2));
        var (events, job) = await h.RunAsync(h.Workflow("txt2img_sd15.json", ["3.steps=5", "5.width=64", "5.height=64"]));
        Assert.That(job.Status, Is.EqualTo(JobStatus.Succeeded), job.Error?.Message);
        var progress = events.OfType<NodeProgress>().Where(p => p.NodeId == "3").ToList();
        Assert.That(progress.Select(p => p.Value), Is.EqualTo(new double[] { 1, 2, 3, 4, 5 }));
        Assert.That(progress.Select(p => p.Max), Is.All.EqualTo(5.0));
        Assert.That(progress.Select(p => p.Preview is not null), Is.EqualTo(new[] { true, false, true, false, true }));
        var preview = ImageDecoder.Decode((byte[])progress[0].Preview!);
        Assert.That((preview.Width, preview.Height), Is.EqualTo((8, 8)), "latent resolution");

        var (quiet, _) = await h.RunAsync(h.Workflow("txt2img_sd15.json", ["3.steps=5", "3.seed=2", "5.width=64", "5.height=64"]),
            new JsonObject { ["preview_method"] = "none" });
        Assert.That(quiet.OfType<NodeProgress>().Where(p => p.Preview is not null), Is.Empty, "extra_data.preview_method none");
    }

    [Test]
    public async Task After_twenty_generations_and_a_free_the_live_tensor_count_is_back_at_its_baseline()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        long baseline = Tensor.LiveCount;
        await using (var h = EngineHarness.Create())
        {
            for (int seed = 0; seed < 20; seed++)
            {
                var (_, job) = await h.RunAsync(h.Workflow("txt2img_sd15.json", ["3.steps=2", "5.width=64", "5.height=64", $"3.seed={seed}"]));
                Assert.That(job.Status, Is.EqualTo(JobStatus.Succeeded), job.Error?.Message);
            }
            Assert.That(Tensor.LiveCount, Is.GreaterThan(baseline), "the cache holds outputs and the model");
            await h.Engine.FreeAsync();
            h.Env.Cache.Free();
            Assert.That(Tensor.LiveCount, Is.EqualTo(baseline));
        }
        Assert.That(Tensor.LiveCount, Is.EqualTo(baseline));
    }

    [Test]
    public async Task Without_an_output_cache_each_job_ends_with_only_the_loaded_weights_alive()
    {
        await using var h = EngineHarness.Create(new EngineOptions { CacheSize = 0 });
        await h.RunAsync(h.Workflow("txt2img_sd15.json", ["3.steps=2", "5.width=64", "5.height=64"]));
        long afterFirst = Tensor.LiveCount;
        for (int seed = 1; seed <= 3; seed++)
        {
            var (_, job) = await h.RunAsync(h.Workflow("txt2img_sd15.json", ["3.steps=2", "5.width=64", "5.height=64", $"3.seed={seed}"]));
            Assert.That(job.Status, Is.EqualTo(JobStatus.Succeeded), job.Error?.Message);
            Assert.That(Tensor.LiveCount, Is.EqualTo(afterFirst), $"job {seed}");
        }
    }

    [Test]
    public async Task Cancelling_during_sampling_stops_at_a_step_and_leaks_nothing()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        long baseline = Tensor.LiveCount;
        await using (var h = EngineHarness.Create())
        {
            var (events, job) = await h.RunAsync(h.Workflow("txt2img_sd15.json", ["3.steps=50", "5.width=64", "5.height=64"]), null,
                (e, id) => { if (e is NodeProgress { NodeId: "3", Value: 2 }) h.Engine.Cancel(id); });
            Assert.That(job.Status, Is.EqualTo(JobStatus.Cancelled));
            Assert.That(events.Last(), Is.InstanceOf<JobCancelled>());
            Assert.That(events.OfType<NodeProgress>().Count(), Is.LessThan(50));
            Assert.That(Directory.GetFiles(h.Env.Data.Output), Is.Empty);
            await h.Engine.FreeAsync();
            h.Env.Cache.Free();
            Assert.That(Tensor.LiveCount, Is.EqualTo(baseline));
        }
    }

    [Test]
    public async Task Custom_sampling_nodes_reproduce_the_ksampler()
    {
        await using var h = EngineHarness.Create();
        var ksampler = h.Workflow("txt2img_sd15.json", ["3.steps=3", "5.width=64", "5.height=64", "3.seed=5", "3.sampler_name=\"euler\"", "3.scheduler=\"karras\""]);
        var (_, job1) = await h.RunAsync(ksampler);

        var custom = (JsonObject)ksampler.Root.DeepClone();
        custom.Remove("3");
        custom["20"] = Node("RandomNoise", new() { ["noise_seed"] = 5 });
        custom["21"] = Node("CFGGuider", new() { ["model"] = Link("4", 0), ["positive"] = Link("6", 0), ["negative"] = Link("7", 0), ["cfg"] = 8.0 });
        custom["22"] = Node("KSamplerSelect", new() { ["sampler_name"] = "euler" });
        custom["23"] = Node("BasicScheduler", new() { ["model"] = Link("4", 0), ["scheduler"] = "karras", ["steps"] = 3, ["denoise"] = 1.0 });
        custom["24"] = Node("SamplerCustomAdvanced", new()
        {
            ["noise"] = Link("20", 0), ["guider"] = Link("21", 0), ["sampler"] = Link("22", 0), ["sigmas"] = Link("23", 0),
            ["latent_image"] = Link("5", 0),
        });
        custom["8"]!["inputs"]!["samples"] = Link("24", 0);
        custom["9"]!["inputs"]!["filename_prefix"] = "custom";
        var (_, job2) = await h.RunAsync(h.Engine.Parse(custom.ToJsonString()));
        Assert.That(job2.Status, Is.EqualTo(JobStatus.Succeeded), job2.Error?.Message);

        byte[] a = ImageDecoder.Decode(File.ReadAllBytes(h.SavedFiles(job1).Single())).Pixels;
        byte[] b = ImageDecoder.Decode(File.ReadAllBytes(h.SavedFiles(job2).Single())).Pixels;
        Assert.That(b, Is.EqualTo(a));
    }

    private static JsonObject Node(string classType, JsonObject inputs) => new() { ["class_type"] = classType, ["inputs"] = inputs };

    private static JsonArray Link(string node, int slot) => new(node, slot);
}

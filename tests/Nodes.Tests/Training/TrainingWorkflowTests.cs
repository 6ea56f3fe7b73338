using CharacterGen.Diffusion.Imaging;
using CharacterGen.GraphRuntime.Events;
using CharacterGen.GraphRuntime.Execution;
using CharacterGen.GraphRuntime.WorkflowFormat;
using CharacterGen.Nodes.Tests.Support;
using CharacterGen.Tensors;
using CharacterGen.Tensors.Safetensors;

namespace CharacterGen.Nodes.Tests.Training;

/// <summary>
/// The shipped workflows/train_lora_sd15.json on the engine with the tiny checkpoint: a dataset folder in input/ becomes
/// a kohya LoRA under output/loras/, progress carries the loss, and the saved file changes txt2img through LoraLoader.
/// </summary>
public sealed class TrainingWorkflowTests
{
    private static readonly string[] Small = ["12.steps=4", "12.checkpoint_every=2", "12.learning_rate=0.01"];

    private static void WriteDataset(NodeTestEnvironment env, string folder)
    {
        string dir = Path.Combine(env.Data.Input, folder);
        Directory.CreateDirectory(Path.Combine(dir, "2_repeat"));
        var random = new Random(5);
        void Image(string path, string? caption)
        {
            byte[] rgb = new byte[64 * 64 * 3];
            random.NextBytes(rgb);
            File.WriteAllBytes(path, PngWriter.Encode(new DecodedImage(64, 64, 3, rgb)));
            if (caption is not null) File.WriteAllText(Path.ChangeExtension(path, ".txt"), caption);
        }
        Image(Path.Combine(dir, "a.png"), "a sks token");
        Image(Path.Combine(dir, "2_repeat", "b.png"), null);
    }

    private static ApiWorkflow Training(EngineHarness h, params string[] overrides) => h.Workflow("train_lora_sd15.json", [.. Small, .. overrides]);

    [Test]
    public async Task The_training_workflow_saves_a_kohya_lora_that_changes_txt2img_and_reports_loss_every_step()
    {
        await using var h = EngineHarness.Create();
        WriteDataset(h.Env, "dataset");
        var (events, job) = await h.RunAsync(Training(h));
        Assert.That(job.Status, Is.EqualTo(JobStatus.Succeeded), job.Error?.Message);

        var ticks = events.OfType<NodeProgress>().Where(p => p.NodeId == "12").ToList();
        Assert.That(ticks.Select(p => p.Value), Is.EqualTo(new double[] { 1, 2, 3, 4 }));
        Assert.That(ticks.All(p => p.Max == 4 && p.Details is not null && p.Details["loss"] is double l && l > 0));
        Assert.That(ticks[^1].Details!.Keys, Is.SupersetOf(new[] { "step", "total_steps", "epoch", "smoothed_loss", "learning_rate", "images_per_second", "eta_seconds" }));

        var saved = (List<object?>)job.Outputs["13"]["loras"]!;
        var entry = (Dictionary<string, object?>)saved.Single()!;
        Assert.That(entry["filename"], Is.EqualTo("charactergen_lora_4_steps_00001_.safetensors"));
        string file = Path.Combine(h.Env.Data.Output, "loras", (string)entry["filename"]!);
        using (var st = SafetensorsFile.Open(file))
        {
            Assert.That(st.Entries.Select(e => e.Name), Has.All.StartWith("lora_unet_down_blocks_").Or.StartWith("lora_unet_up_blocks_").Or.StartWith("lora_unet_mid_block_"));
            Assert.That(st.Metadata["ss_network_dim"], Is.EqualTo("8"));
            Assert.That(st.Metadata["ss_num_train_images"], Is.EqualTo("3"), "the 2_ folder repeats its image twice");
        }
        Assert.That(Directory.GetFiles(Path.Combine(h.Env.Data.Output, "training")), Has.Length.EqualTo(1), "the step-2 checkpoint");
        Assert.That(job.Outputs["14"]["images"], Is.Not.Null, "the loss graph");

        // The trained file, unchanged, through the ordinary LoraLoader.
        Directory.CreateDirectory(Path.Combine(h.Env.Models.Root, "loras"));
        File.Copy(file, Path.Combine(h.Env.Models.Root, "loras", "trained.safetensors"));
        byte[] plain = await Image(h, Txt2Img(h, null));
        byte[] styled = await Image(h, Txt2Img(h, "trained.safetensors"));
        Assert.That(styled, Is.Not.EqualTo(plain), "the trained LoRA changes the image");
    }

    [Test]
    public async Task With_a_clip_and_the_captions_the_text_encoder_trains_too()
    {
        await using var h = EngineHarness.Create();
        WriteDataset(h.Env, "dataset");
        string[] te = ["12.checkpoint_every=0", "12.clip=[\"4\", 1]", "12.texts=[\"10\", 1]", "12.text_encoder_learning_rate=0.005"];
        var (_, job) = await h.RunAsync(Training(h, [.. te, "13.prefix=\"loras/te\""]));
        Assert.That(job.Status, Is.EqualTo(JobStatus.Succeeded), job.Error?.Message);
        string file = Directory.GetFiles(Path.Combine(h.Env.Data.Output, "loras"), "te*").Single();
        using (var st = SafetensorsFile.Open(file))
        {
            var names = st.Entries.Select(e => e.Name).ToList();
            Assert.That(names, Does.Contain("lora_te_text_model_encoder_layers_0_self_attn_q_proj.lora_up.weight"));
            Assert.That(names, Does.Contain("lora_te_text_model_encoder_layers_0_mlp_fc2.alpha"));
            Assert.That(names.Any(n => n.StartsWith("lora_unet_", StringComparison.Ordinal)), "the UNet trains as well");
            Assert.That(st.Metadata["ss_network_train_unet_only"], Is.EqualTo("False"));
            Assert.That(st.Metadata["ss_text_encoder_lr"], Is.EqualTo("0.005"));
        }

        var (_, noTexts) = await h.RunAsync(Training(h, "12.clip=[\"4\", 1]"));
        Assert.That(noTexts.Status, Is.EqualTo(JobStatus.Failed));
        Assert.That(noTexts.Error!.Message, Does.Contain("texts"));
    }

    [Test]
    public async Task Gradient_checkpointing_gives_the_losses_of_a_plain_run_and_bf16_writes_a_float32_lora()
    {
        await using var h = EngineHarness.Create();
        WriteDataset(h.Env, "dataset");
        async Task<List<double>> Losses(params string[] overrides)
        {
            // No checkpoints: the option is not part of a run's identity, so a later run would resume from an earlier one's.
            var (events, job) = await h.RunAsync(Training(h, ["12.checkpoint_every=0", .. overrides]));
            Assert.That(job.Status, Is.EqualTo(JobStatus.Succeeded), job.Error?.Message);
            return events.OfType<NodeProgress>().Where(p => p.NodeId == "12").Select(p => (double)p.Details!["loss"]!).ToList();
        }
        List<double> checkpointed = await Losses(), plain = await Losses("12.gradient_checkpointing=false");
        Assert.That(checkpointed, Has.Count.EqualTo(4));
        for (int i = 0; i < plain.Count; i++) Assert.That(checkpointed[i], Is.EqualTo(plain[i]).Within(1e-4).Percent, $"step {i + 1}");

        List<double> bf16 = await Losses("12.mixed_precision=\"bf16\"", "13.prefix=\"loras/bf16\"");
        Assert.That(bf16, Is.Not.EqualTo(plain), "bf16 autocast changes the numbers");
        string file = Directory.GetFiles(Path.Combine(h.Env.Data.Output, "loras"), "bf16*").Single();
        using var st = SafetensorsFile.Open(file);
        Assert.That(st.Metadata["ss_mixed_precision"], Is.EqualTo("bf16"));
        Assert.That(st.Entries.Select(e => e.DType), Has.All.EqualTo(SafetensorsDType.F32));
    }

    [Test]
    public async Task A_cancelled_training_resumes_from_its_checkpoint_and_ends_with_the_same_losses()
    {
        await using var h = EngineHarness.Create();
        WriteDataset(h.Env, "dataset");
        string[] longer = ["12.steps=10"];
        var (uninterruptedEvents, first) = await h.RunAsync(Training(h, longer));
        Assert.That(first.Status, Is.EqualTo(JobStatus.Succeeded), first.Error?.Message);
        double[] expected = Losses(uninterruptedEvents);
        Directory.Delete(Path.Combine(h.Env.Data.Output, "training"), recursive: true);
        await h.Engine.FreeAsync();

        var (cancelledEvents, cancelled) = await h.RunAsync(Training(h, longer), onEvent: (e, id) =>
        {
            if (e is NodeProgress { NodeId: "12", Value: 3 }) h.Engine.Cancel(id);
        });
        Assert.That(cancelled.Status, Is.EqualTo(JobStatus.Cancelled));
        double[] before = Losses(cancelledEvents);
        Assert.That(before, Has.Length.InRange(3, 9), "cancel stops between steps, before the end");
        Assert.That(before, Is.EqualTo(expected.Take(before.Length)));

        int checkpointStep = before.Length / 2 * 2;
        var (resumedEvents, resumed) = await h.RunAsync(Training(h, longer));
        Assert.That(resumed.Status, Is.EqualTo(JobStatus.Succeeded), resumed.Error?.Message);
        var ticks = resumedEvents.OfType<NodeProgress>().Where(p => p.NodeId == "12").Select(p => p.Value).ToList();
        Assert.That(ticks, Is.EqualTo(Enumerable.Range(checkpointStep + 1, 10 - checkpointStep).Select(v => (double)v)), "resumed after the last checkpoint");
        Assert.That(Losses(resumedEvents), Is.EqualTo(expected.Skip(checkpointStep)), "bit-identical losses on the CPU");
    }

    [Test]
    public async Task A_training_job_leaves_no_tensor_behind_once_the_cache_is_freed()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        long baseline = Tensor.LiveCount;
        await using (var h = EngineHarness.Create())
        {
            WriteDataset(h.Env, "dataset");
            var (_, job) = await h.RunAsync(Training(h, "12.lora_targets=\"all\"", "12.grad_accumulation_steps=2", "12.batch_size=2"));
            Assert.That(job.Status, Is.EqualTo(JobStatus.Succeeded), job.Error?.Message);
            await h.Engine.FreeAsync();
            h.Env.Cache.Free();
            Assert.That(Tensor.LiveCount, Is.EqualTo(baseline));
        }
    }

    [Test]
    public async Task Training_can_continue_an_existing_lora_and_counts_its_steps()
    {
        await using var h = EngineHarness.Create();
        WriteDataset(h.Env, "dataset");
        var (freshEvents, fresh) = await h.RunAsync(Training(h, "12.steps=2"));
        Assert.That(fresh.Status, Is.EqualTo(JobStatus.Succeeded), fresh.Error?.Message);
        string saved = Directory.GetFiles(Path.Combine(h.Env.Data.Output, "loras")).Single();
        Assert.That(Path.GetFileName(saved), Is.EqualTo("charactergen_lora_2_steps_00001_.safetensors"));
        Directory.CreateDirectory(Path.Combine(h.Env.Models.Root, "loras"));
        File.Copy(saved, Path.Combine(h.Env.Models.Root, "loras", Path.GetFileName(saved)));

        var (continuedEvents, continued) = await h.RunAsync(Training(h, "12.steps=2", "12.existing_lora=\"charactergen_lora_2_steps_00001_.safetensors\""));
        Assert.That(continued.Status, Is.EqualTo(JobStatus.Succeeded), continued.Error?.Message);
        Assert.That(Directory.GetFiles(Path.Combine(h.Env.Data.Output, "loras")).Select(Path.GetFileName),
            Does.Contain("charactergen_lora_4_steps_00003_.safetensors"),
            "2 earlier + 2 new steps; the counter follows ComfyUI's get_save_image_path, which reads the '2' of '_2_steps_'");
        Assert.That(Losses(continuedEvents)[0], Is.Not.EqualTo(Losses(freshEvents)[0]), "training starts from the trained weights");
    }

    private static double[] Losses(IEnumerable<JobEvent> events) =>
        events.OfType<NodeProgress>().Where(p => p.NodeId == "12").Select(p => (double)p.Details!["loss"]!).ToArray();

    private static ApiWorkflow Txt2Img(EngineHarness h, string? lora)
    {
        return WorkflowOverride.ApplyAll(h.Engine.Parse(Txt2ImgWorkflow.Json(lora)),
            ["4.ckpt_name=\"" + NodeTestEnvironment.Checkpoint + "\"", "3.steps=3", "5.width=64", "5.height=64"], h.Env.Catalog);
    }

    private static async Task<byte[]> Image(EngineHarness h, ApiWorkflow workflow)
    {
        var (_, job) = await h.RunAsync(workflow);
        Assert.That(job.Status, Is.EqualTo(JobStatus.Succeeded), job.Error?.Message);
        return ImageDecoder.Decode(File.ReadAllBytes(h.SavedFiles(job).Single())).Pixels;
    }
}

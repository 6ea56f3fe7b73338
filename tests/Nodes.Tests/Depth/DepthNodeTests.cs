using System.Text.Json.Nodes;
using CharacterGen.Diffusion.Imaging;
using CharacterGen.GraphRuntime.Execution;
using CharacterGen.Nodes.Tests.Support;
using CharacterGen.Tensors;

namespace CharacterGen.Nodes.Tests.Depth;

/// <summary>The depth preprocessor nodes run through the engine: LoadImage → preprocessor → SaveImage.</summary>
public class DepthNodeTests
{
    [TestCase("DepthAnythingV2Preprocessor", "depth_anything_v2_vits.pth", "depth_anything_v2_vits.onnx", "da2_hf")]
    [TestCase("DepthAnythingPreprocessor", "depth_anything_vits14.pth", "depth_anything_vits14.onnx", "da1_hf")]
    [TestCase("MiDaS-DepthMapPreprocessor", null, "dpt_hybrid_midas.onnx", "midas_hf")]
    public async Task A_depth_workflow_saves_the_reference_depth_picture(string node, string? ckpt, string file, string reference)
    {
        await using var h = EngineHarness.Create();
        OnnxFixtures.Install(h.Env.Models.Root, "depth", "depth_hf.onnx", file);
        WriteInput(h, "photo.png", OnnxFixtures.Image("depth_input_enlarge"));
        long tensors = Tensor.LiveCount;

        var (_, job) = await h.RunAsync(h.Engine.Parse(Workflow(node, ckpt, 64).ToJsonString()));

        Assert.That(job.Status, Is.EqualTo(JobStatus.Succeeded), job.Error?.Message);
        DecodedImage saved = ImageDecoder.Decode(File.ReadAllBytes(h.SavedFiles(job).Single()));
        byte[] expected = OnnxFixtures.Bytes(reference + "_enlarge_64");
        int[] shape = OnnxFixtures.Shape(reference + "_enlarge_64");
        Assert.That((saved.Height, saved.Width), Is.EqualTo((shape[0], shape[1])), "short side = resolution");
        Assert.That(saved.Pixels.Zip(expected, (a, b) => Math.Abs(a - b)).Max(), Is.LessThanOrEqualTo(1));
        Assert.That(h.Env.Cache.Loaded, Has.Some.EndsWith(file), "the session is cached like a model");

        h.Env.Cache.Free();
        await h.Engine.DisposeAsync();
        Assert.That(Tensor.LiveCount, Is.LessThanOrEqualTo(tensors), "outputs released with the engine leave nothing behind");
    }

    [Test]
    public async Task A_missing_model_fails_the_node_naming_the_file_and_the_folder()
    {
        await using var h = EngineHarness.Create();
        WriteInput(h, "photo.png", OnnxFixtures.Image("depth_input_shrink"));

        var (_, job) = await h.RunAsync(h.Engine.Parse(Workflow("DepthAnythingV2Preprocessor", "depth_anything_v2_vitl.pth", 64).ToJsonString()));

        Assert.That(job.Status, Is.EqualTo(JobStatus.Failed));
        Assert.That(job.Error?.Message, Does.Contain("depth_anything_v2_vitl.onnx").And.Contain("depth/"));
    }

    [Test]
    public async Task A_model_of_another_kind_is_refused()
    {
        await using var h = EngineHarness.Create();
        OnnxFixtures.Install(h.Env.Models.Root, "depth", "depth_wrong_names.onnx", "depth_anything_v2_vitl.onnx");
        WriteInput(h, "photo.png", OnnxFixtures.Image("depth_input_shrink"));

        var (_, job) = await h.RunAsync(h.Engine.Parse(Workflow("DepthAnythingV2Preprocessor", "depth_anything_v2_vitl.pth", 64).ToJsonString()));

        Assert.That(job.Status, Is.EqualTo(JobStatus.Failed));
        Assert.That(job.Error?.Message, Does.Contain("not a supported depth estimator model"));
    }

    [Test]
    public void The_catalogue_offers_comfyui_controlnet_aux_inputs()
    {
        using var env = NodeTestEnvironment.Create(withCheckpoint: false);
        var v2 = env.Node("DepthAnythingV2Preprocessor");
        Assert.That(v2.Inputs.Select(i => i.Name), Is.EquivalentTo(new[] { "image", "ckpt_name", "resolution" }));
        var midas = env.Node("MiDaS-DepthMapPreprocessor");
        Assert.That(midas.Inputs.Select(i => i.Name), Is.EquivalentTo(new[] { "image", "a", "bg_threshold", "resolution" }));
    }

    private static void WriteInput(EngineHarness h, string name, DecodedImage image) =>
        File.WriteAllBytes(Path.Combine(h.Env.Data.Input, name), PngWriter.Encode(image));

    private static JsonObject Workflow(string node, string? ckpt, int resolution)
    {
        var inputs = new JsonObject { ["image"] = new JsonArray("1", 0), ["resolution"] = resolution };
        if (ckpt is not null) inputs["ckpt_name"] = ckpt;
        else { inputs["a"] = 6.28; inputs["bg_threshold"] = 0.1; }
        return new JsonObject
        {
            ["1"] = new JsonObject { ["class_type"] = "LoadImage", ["inputs"] = new JsonObject { ["image"] = "photo.png" } },
            ["2"] = new JsonObject { ["class_type"] = node, ["inputs"] = inputs },
            ["3"] = new JsonObject { ["class_type"] = "SaveImage", ["inputs"] = new JsonObject { ["images"] = new JsonArray("2", 0), ["filename_prefix"] = "depth" } },
        };
    }
}

using System.Text.Json.Nodes;
using CharacterGen.Nodes.Tests.Support;

namespace CharacterGen.Nodes.Tests;

/// <summary>The built-in catalogue as object_info shows it: ComfyUI's names, input order, defaults and outputs.</summary>
public sealed class CatalogTests
{
    private NodeTestEnvironment _env = null!;
    private JsonObject _info = null!;

    [OneTimeSetUp]
    public void SetUp()
    {
        _env = NodeTestEnvironment.Create();
        _info = JsonNode.Parse(_env.Catalog.ObjectInfoJson())!.AsObject();
    }

    [OneTimeTearDown]
    public void TearDown() => _env.Dispose();

    private static string[] Strings(JsonNode? array) => array!.AsArray().Select(n => n!.GetValue<string>()).ToArray();

    [Test]
    public void Every_node_of_the_sd15_catalogue_is_there()
    {
        string[] expected =
        [
            "CheckpointLoaderSimple", "CheckpointLoader", "VAELoader", "LoraLoader", "LoraLoaderModelOnly", "CLIPTextEncode", "CLIPSetLastLayer", "ConditioningCombine",
            "ConditioningConcat", "ConditioningZeroOut", "ConditioningSetArea", "ImpactConcatConditionings", "EmptyLatentImage",
            "KSampler", "KSamplerAdvanced", "KSamplerSelect", "BasicScheduler", "RandomNoise", "DisableNoise", "CFGGuider",
            "BasicGuider", "SamplerCustomAdvanced", "VAEDecode", "VAEEncode", "VAEEncodeForInpaint", "LatentUpscale",
            "LatentUpscaleBy", "SetLatentNoiseMask", "LoadImage", "LoadImageMask", "ImageScale", "ImageScaleBy", "SaveImage",
            "PreviewImage",
            "CLIPTextEncodeSDXL",
            "ControlNetLoader", "DiffControlNetLoader", "ControlNetApply", "ControlNetApplyAdvanced",
            "LoadImageTextDataSetFromFolder", "MakeTrainingDataset", "TrainLoraNode", "SaveLoRA", "LoraModelLoader", "LossGraphNode",
            "DepthAnythingV2Preprocessor", "DepthAnythingPreprocessor", "MiDaS-DepthMapPreprocessor", "IPAdapterInsightFaceLoader",
            "CLIPVisionLoader", "CLIPVisionEncode", "IPAdapterModelLoader", "IPAdapterUnifiedLoader", "IPAdapter", "IPAdapterAdvanced", "IPAdapterFaceID",
        ];
        Assert.That(_info.Select(p => p.Key), Is.EquivalentTo(expected));
    }

    [Test]
    public void KSampler_inputs_are_in_comfyuis_order_with_its_defaults_and_ranges()
    {
        var ks = _info["KSampler"]!;
        Assert.That(Strings(ks["input_order"]!["required"]), Is.EqualTo(new[]
            { "model", "seed", "steps", "cfg", "sampler_name", "scheduler", "positive", "negative", "latent_image", "denoise" }));
        var steps = ks["input"]!["required"]!["steps"]![1]!;
        Assert.That((steps["default"]!.GetValue<long>(), steps["min"]!.GetValue<long>(), steps["max"]!.GetValue<long>()), Is.EqualTo((20L, 1L, 10000L)));
        var cfg = ks["input"]!["required"]!["cfg"]![1]!;
        Assert.That((cfg["default"]!.GetValue<double>(), cfg["step"]!.GetValue<double>(), cfg["round"]!.GetValue<double>()), Is.EqualTo((8.0, 0.1, 0.01)));
        Assert.That(Strings(ks["input"]!["required"]!["sampler_name"]![0]), Does.Contain("dpmpp_2m").And.Contain("euler"));
        Assert.That(Strings(ks["input"]!["required"]!["scheduler"]![0]), Is.EqualTo(new[]
            { "simple", "sgm_uniform", "karras", "exponential", "ddim_uniform", "beta", "normal", "linear_quadratic", "kl_optimal" }));
        Assert.That(ks["input"]!["required"]!["seed"]![1]!["control_after_generate"]!.GetValue<bool>(), Is.True);
    }

    [Test]
    public void ControlNet_nodes_have_comfyuis_inputs_defaults_and_outputs()
    {
        var apply = _info["ControlNetApplyAdvanced"]!;
        Assert.That(Strings(apply["input_order"]!["required"]), Is.EqualTo(new[]
            { "positive", "negative", "control_net", "image", "strength", "start_percent", "end_percent" }));
        Assert.That(Strings(apply["input_order"]!["optional"]), Is.EqualTo(new[] { "vae" }));
        var strength = apply["input"]!["required"]!["strength"]![1]!;
        Assert.That((strength["default"]!.GetValue<double>(), strength["min"]!.GetValue<double>(), strength["max"]!.GetValue<double>(),
            strength["step"]!.GetValue<double>()), Is.EqualTo((1.0, 0.0, 10.0, 0.01)));
        var end = apply["input"]!["required"]!["end_percent"]![1]!;
        Assert.That((end["default"]!.GetValue<double>(), end["max"]!.GetValue<double>(), end["step"]!.GetValue<double>()), Is.EqualTo((1.0, 1.0, 0.001)));
        Assert.That(Strings(apply["output"]), Is.EqualTo(new[] { "CONDITIONING", "CONDITIONING" }));
        Assert.That(Strings(apply["output_name"]), Is.EqualTo(new[] { "positive", "negative" }));
        Assert.That(_info["ControlNetApply"]!["deprecated"]!.GetValue<bool>(), Is.True);
        Assert.That(Strings(_info["ControlNetApply"]!["input_order"]!["required"]), Is.EqualTo(new[] { "conditioning", "control_net", "image", "strength" }));
        Assert.That(Strings(_info["ControlNetLoader"]!["output"]), Is.EqualTo(new[] { "CONTROL_NET" }));
        Assert.That(Strings(_info["DiffControlNetLoader"]!["input_order"]!["required"]), Is.EqualTo(new[] { "model", "control_net_name" }));
    }

    [Test]
    public void Loaders_list_the_models_folder_and_return_model_clip_vae()
    {
        var loader = _info["CheckpointLoaderSimple"]!;
        Assert.That(Strings(loader["input"]!["required"]!["ckpt_name"]![0]), Is.EqualTo(new[] { "tiny.safetensors" }));
        Assert.That(Strings(loader["output"]), Is.EqualTo(new[] { "MODEL", "CLIP", "VAE" }));
        Assert.That(_info["CheckpointLoader"]!["deprecated"]!.GetValue<bool>(), Is.True);
    }

    [Test]
    public void Output_nodes_and_hidden_inputs()
    {
        var save = _info["SaveImage"]!;
        Assert.That(save["output_node"]!.GetValue<bool>(), Is.True);
        Assert.That(Strings(save["input_order"]!["hidden"]), Is.EqualTo(new[] { "prompt", "extra_pnginfo" }));
        Assert.That(save["input"]!["required"]!["filename_prefix"]![1]!["default"]!.GetValue<string>(), Is.EqualTo("ComfyUI"));
        Assert.That(_info["KSampler"]!["output_node"]!.GetValue<bool>(), Is.False);
        Assert.That(Strings(_info["SamplerCustomAdvanced"]!["output_name"]), Is.EqualTo(new[] { "output", "denoised_output" }));
        Assert.That(_info["LoadImage"]!["input"]!["required"]!["image"]![1]!["image_upload"]!.GetValue<bool>(), Is.True);
        Assert.That(_info["ImpactConcatConditionings"]!["python_module"]!.GetValue<string>(), Is.EqualTo("custom_nodes.ComfyUI-Impact-Pack"));
    }

    [Test]
    public void IpAdapter_nodes_have_cubiqs_inputs_defaults_and_ranges()
    {
        var adv = _info["IPAdapterAdvanced"]!;
        Assert.That(Strings(adv["input_order"]!["required"]), Is.EqualTo(new[]
            { "model", "ipadapter", "image", "weight", "weight_type", "combine_embeds", "start_at", "end_at", "embeds_scaling" }));
        Assert.That(Strings(adv["input_order"]!["optional"]), Is.EqualTo(new[] { "image_negative", "attn_mask", "clip_vision" }));
        var weight = adv["input"]!["required"]!["weight"]![1]!;
        Assert.That((weight["default"]!.GetValue<double>(), weight["min"]!.GetValue<double>(), weight["max"]!.GetValue<double>(), weight["step"]!.GetValue<double>()),
            Is.EqualTo((1.0, -1.0, 5.0, 0.05)));
        Assert.That(Strings(adv["input"]!["required"]!["weight_type"]![0]), Has.Length.EqualTo(15).And.Contain("style transfer precise"));
        Assert.That(Strings(adv["input"]!["required"]!["embeds_scaling"]![0]), Is.EqualTo(new[] { "V only", "K+V", "K+V w/ C penalty", "K+mean(V) w/ C penalty" }));
        Assert.That(Strings(adv["input"]!["required"]!["combine_embeds"]![0]), Is.EqualTo(new[] { "concat", "add", "subtract", "average", "norm average" }));
        var simple = _info["IPAdapter"]!;
        Assert.That(Strings(simple["input"]!["required"]!["weight_type"]![0]), Is.EqualTo(new[] { "standard", "prompt is more important", "style transfer" }));
        Assert.That(simple["input"]!["required"]!["weight"]![1]!["max"]!.GetValue<double>(), Is.EqualTo(3.0));
        Assert.That(Strings(_info["IPAdapterUnifiedLoader"]!["output"]), Is.EqualTo(new[] { "MODEL", "IPADAPTER" }));
        Assert.That(Strings(_info["CLIPVisionEncode"]!["input"]!["required"]!["crop"]![0]), Is.EqualTo(new[] { "center", "none" }));
        Assert.That(Strings(_info["CLIPVisionLoader"]!["output"]), Is.EqualTo(new[] { "CLIP_VISION" }));
    }
}

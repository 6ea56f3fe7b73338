using CharacterGen.Diffusion.Models.Clip;
using CharacterGen.Diffusion.Models.Unet;
using CharacterGen.Diffusion.Models.Vae;
using CharacterGen.Tensors;
using CharacterGen.Tensors.Nn;
using CharacterGen.Tensors.Safetensors;

namespace CharacterGen.Diffusion.Checkpoints;

/// <summary>
/// Loads SD1.x/SD2.x/SDXL single-file safetensors checkpoints (ComfyUI/LDM layout: "model.diffusion_model.",
/// "cond_stage_model.transformer.text_model." or OpenCLIP "cond_stage_model.model.", SDXL's
/// "conditioner.embedders.{0,1}.", "first_stage_model.") and VAE files. The configuration comes from the
/// <c>charactergen.config</c> metadata when present, else from names and shapes; networks are built from it and filled
/// by walking parameter names.
/// </summary>
public static class CheckpointLoader
{
    public const string UnetPrefix = "model.diffusion_model.";
    public const string ClipPrefix = "cond_stage_model.transformer.text_model.";
    public const string VaePrefix = "first_stage_model.";

    /// <summary>SDXL clip_l (HF CLIPTextModel) and clip_g (OpenCLIP bigG), as sgm's GeneralConditioner names them.</summary>
    public const string SdxlClipLPrefix = "conditioner.embedders.0.transformer.text_model.";
    public const string SdxlClipGPrefix = "conditioner.embedders.1.model.";

    // The SDXL refiner has only clip_g, as the first embedder.
    private const string SdxlRefinerClipGPrefix = "conditioner.embedders.0.model.";

    // Older transformers versions saved CLIP without "text_model." (ComfyUI load_clip_weights renames it).
    private const string ClipPrefixOld = "cond_stage_model.transformer.";

    /// <summary>
    /// Loads a checkpoint's networks with weights in <paramref name="dtype"/> on <paramref name="device"/> (float32 on the
    /// CPU; float16 or bfloat16 on a GPU). Throws <see cref="CheckpointLoadException"/> naming missing or mis-shaped keys.
    /// </summary>
    public static StableDiffusionCheckpoint Load(string path, DType dtype = DType.Float32, Device device = default,
        CheckpointParts parts = CheckpointParts.All)
    {
        using var file = SafetensorsFile.Open(path);
        var shapes = Shapes(file);
        if (!shapes.ContainsKey(UnetPrefix + "input_blocks.0.0.weight"))
        {
            ModelFamily family = ModelFamilyDetector.Detect(shapes.Keys);
            throw new CheckpointLoadException(
                $"'{Path.GetFileName(path)}' is not an SD1.x/SD2.x/SDXL checkpoint (it looks like: {family.Describe()})"
                + (family == ModelFamily.Vae ? "; load it with LoadVae" : ""));
        }
        if (OpenClipLayout.IsPresent(shapes, SdxlRefinerClipGPrefix))
            throw new CheckpointLoadException($"'{Path.GetFileName(path)}' is an SDXL refiner checkpoint, which is not supported yet");
        CheckpointConfig? stored = CheckpointConfig.FromMetadata(file.Metadata);
        CheckpointConfig config = stored ?? DetectConfig(shapes, file);
        var binder = new WeightBinder(file);
        UnetModel? unet = null;
        ClipTextModel? clip = null, clipG = null;
        AutoencoderKL? vae = null;
        try
        {
            if (parts.HasFlag(CheckpointParts.Unet))
                binder.Add(unet = new UnetModel(Require(config.Unet, "UNet")), UnetPrefix);
            if (parts.HasFlag(CheckpointParts.Clip))
            {
                clip = new ClipTextModel(Require(config.Clip, "text encoder"));
                if (config.Family == "sdxl")
                {
                    binder.Add(clip, SdxlClipLPrefix);
                    clipG = new ClipTextModel(Require(config.ClipG, "clip_g text encoder"));
                    binder.Add(clipG, OpenClipLayout.Mapper(SdxlClipGPrefix, shapes));
                }
                else if (OpenClipLayout.IsPresent(shapes)) binder.Add(clip, OpenClipLayout.Map);
                else binder.Add(clip, ClipLayoutPrefix(shapes));
            }
            if (parts.HasFlag(CheckpointParts.Vae))
                binder.Add(vae = new AutoencoderKL(Require(config.Vae, "VAE")), VaePrefix);
            binder.Load(dtype, device);
        }
        catch
        {
            unet?.Dispose();
            clip?.Dispose();
            clipG?.Dispose();
            vae?.Dispose();
            throw;
        }
        var unused = shapes.Keys.Where(k => !binder.UsedKeys.Contains(k)).Order(StringComparer.Ordinal).ToList();
        return new StableDiffusionCheckpoint(config, stored is null ? ConfigSource.Detected : ConfigSource.Metadata, unet, clip, vae, unused, clipG);
    }

    /// <summary>
    /// Loads a VAE: a VAE file (keys "encoder.", "decoder.", "quant_conv.", "post_quant_conv.") or the
    /// "first_stage_model." part of a checkpoint.
    /// </summary>
    public static AutoencoderKL LoadVae(string path, DType dtype = DType.Float32, Device device = default)
    {
        using var file = SafetensorsFile.Open(path);
        var shapes = Shapes(file);
        string prefix = shapes.ContainsKey(VaePrefix + "encoder.conv_in.weight") ? VaePrefix : "";
        if (!shapes.ContainsKey(prefix + "encoder.conv_in.weight"))
        {
            string hint = shapes.ContainsKey("encoder.down_blocks.0.resnets.0.conv1.weight") ? " (diffusers layout is not supported)" : "";
            throw new CheckpointLoadException($"'{Path.GetFileName(path)}' holds no KL VAE{hint}");
        }
        VaeConfig config = CheckpointConfig.FromMetadata(file.Metadata)?.Vae ?? VaeConfig.Detect(shapes, prefix);
        var vae = new AutoencoderKL(config);
        try
        {
            var binder = new WeightBinder(file);
            binder.Add(vae, prefix);
            binder.Load(dtype, device);
            return vae;
        }
        catch
        {
            vae.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Detects a checkpoint's configuration from names and shapes (ignoring any metadata). The prediction type follows
    /// ComfyUI: a "v_pred" key means v-prediction; for SD2, so does std(output_blocks.11.1…norm1.bias) &gt; 0.09 (the 768-v
    /// models), which needs <paramref name="file"/> to read that tensor; otherwise ε. SDXL is recognised by its clip_g
    /// ("conditioner.embedders.1.model."); there, "ztsnr" beside "v_pred" means a zero-terminal-SNR schedule (ComfyUI
    /// supported_models.SDXL.model_type).
    /// </summary>
    public static CheckpointConfig DetectConfig(IReadOnlyDictionary<string, long[]> shapes, SafetensorsFile? file = null)
    {
        if (OpenClipLayout.IsPresent(shapes, SdxlClipGPrefix)) return DetectSdxlConfig(shapes);

        bool openClip = OpenClipLayout.IsPresent(shapes);
        UnetConfig unet = UnetConfig.Detect(shapes, UnetPrefix);
        ClipTextConfig? clip = openClip ? OpenClipLayout.Detect(shapes)
            : shapes.Keys.Any(k => k.StartsWith(ClipPrefixOld, StringComparison.Ordinal)) ? ClipTextConfig.Detect(shapes, ClipLayoutPrefix(shapes))
            : null;
        VaeConfig? vae = shapes.ContainsKey(VaePrefix + "encoder.conv_in.weight") ? VaeConfig.Detect(shapes, VaePrefix) : null;
        string family = openClip || (clip is null && unet.UseLinearInTransformer) ? "sd2" : "sd1";

        var prediction = PredictionType.Epsilon;
        const string sd2VKey = UnetPrefix + "output_blocks.11.1.transformer_blocks.0.norm1.bias";
        if (shapes.ContainsKey("v_pred")) prediction = PredictionType.VPrediction;
        else if (family == "sd2" && file is not null && shapes.ContainsKey(sd2VKey))
        {
            using var scope = Torch.NewScope();
            if (file.LoadTensor(sd2VKey, DType.Float32).Var([0]).Sqrt().Item() > 0.09) prediction = PredictionType.VPrediction;
        }
        return new CheckpointConfig { Family = family, Prediction = prediction, Unet = unet, Clip = clip, Vae = vae };
    }

    // SDXL base layout (ComfyUI model_detection: adm from label_emb, context from attn2.to_k). The refiner (clip_g alone at
    // embedders.0, ADM 2560 with an aesthetic score) is refused by Load.
    private static CheckpointConfig DetectSdxlConfig(IReadOnlyDictionary<string, long[]> shapes) => new()
    {
        Family = "sdxl",
        Prediction = shapes.ContainsKey("v_pred") ? PredictionType.VPrediction : PredictionType.Epsilon,
        ZeroTerminalSnr = shapes.ContainsKey("v_pred") && shapes.ContainsKey("ztsnr"),
        Unet = UnetConfig.Detect(shapes, UnetPrefix),
        Clip = shapes.ContainsKey(SdxlClipLPrefix + "embeddings.token_embedding.weight") ? ClipTextConfig.Detect(shapes, SdxlClipLPrefix) : null,
        ClipG = OpenClipLayout.Detect(shapes, SdxlClipGPrefix, withProjection: true),
        Vae = shapes.ContainsKey(VaePrefix + "encoder.conv_in.weight") ? VaeConfig.Detect(shapes, VaePrefix) : null,
    };

    /// <summary>The configuration a file would load with: its metadata, else detection.</summary>
    public static CheckpointConfig ReadConfig(string path)
    {
        using var file = SafetensorsFile.Open(path);
        return CheckpointConfig.FromMetadata(file.Metadata) ?? DetectConfig(Shapes(file), file);
    }

    internal static Dictionary<string, long[]> Shapes(SafetensorsFile file) =>
        file.Entries.ToDictionary(e => e.Name, e => e.Shape, StringComparer.Ordinal);

    private static string ClipLayoutPrefix(IReadOnlyDictionary<string, long[]> shapes) =>
        shapes.ContainsKey(ClipPrefix + "embeddings.token_embedding.weight") ? ClipPrefix : ClipPrefixOld;

    private static T Require<T>(T? part, string name) where T : class =>
        part ?? throw new CheckpointLoadException(
            $"the checkpoint has no {name} (no '{name}' configuration and no such weights); load the other parts with CheckpointParts");
}

using CharacterGen.Diffusion.Models.Clip;
using CharacterGen.Diffusion.Models.Unet;

namespace CharacterGen.Diffusion.Lora;

/// <summary>A parameter a LoRA key patches.</summary>
public readonly record struct LoraKeyTarget(LoraTarget Target, string ParameterName);

/// <summary>
/// Every LoRA key name (without tensor suffix) that can address a weight of the given networks, as ComfyUI lora.py
/// model_lora_keys_unet / model_lora_keys_clip build them: kohya <c>lora_unet_</c> over LDM and diffusers names,
/// <c>lycoris_</c>, the generic <c>diffusion_model.…</c>, diffusers attention-processor names (with and without
/// <c>unet.</c>) plus plain diffusers/PEFT module names; for CLIP <c>lora_te_</c>/<c>lora_te1_</c>, diffusers
/// <c>text_encoder.text_model.…</c> and the generic <c>text_encoders.clip_l.…</c>; for SDXL's clip_g (our HF-style
/// names, converted from OpenCLIP at load) <c>lora_te2_</c>, <c>text_encoder_2.text_model.…</c> and
/// <c>text_encoders.clip_g.…</c>. The UNet part is layout-driven, so SD1 and SDXL share it.
/// </summary>
public static class LoraKeyMap
{
    private static readonly string[] ClipLayerParts = ["mlp.fc1", "mlp.fc2", "self_attn.k_proj", "self_attn.q_proj", "self_attn.v_proj", "self_attn.out_proj"];

    // Kohya prefixes, diffusers module prefix and ComfyUI's generic name per encoder. With clip_l present (SD1, SDXL
    // base) plain lora_te_ means clip_l, as in ComfyUI.
    private static readonly ClipNames ClipL = new(LoraTarget.Clip, ["lora_te_", "lora_te1_"], "text_encoder.", "clip_l");
    private static readonly ClipNames ClipG = new(LoraTarget.ClipG, ["lora_te2_"], "text_encoder_2.", "clip_g");

    private sealed record ClipNames(LoraTarget Target, string[] KohyaPrefixes, string DiffusersPrefix, string Generic);

    public static IReadOnlyDictionary<string, LoraKeyTarget> Build(UnetModel? unet, ClipTextModel? clip, ClipTextModel? clipG = null)
    {
        var map = new Dictionary<string, LoraKeyTarget>(StringComparer.Ordinal);
        if (unet is not null) AddUnet(map, unet);
        if (clip is not null) AddClip(map, clip, ClipL);
        if (clipG is not null) AddClip(map, clipG, ClipG);
        return map;
    }

    private static void AddUnet(Dictionary<string, LoraKeyTarget> map, UnetModel unet)
    {
        var weights = unet.NamedParameters().Select(p => p.Key).Where(IsWeight).ToHashSet(StringComparer.Ordinal);
        foreach (string name in weights)
        {
            string module = name[..^".weight".Length];
            var target = new LoraKeyTarget(LoraTarget.Unet, name);
            map["lora_unet_" + Underscored(module)] = target;
            map["diffusion_model." + module] = target;
        }
        foreach (var (diffusers, ldm) in UnetDiffusersNames.Modules(unet.Config))
        {
            if (!weights.Contains(ldm + ".weight")) continue;
            var target = new LoraKeyTarget(LoraTarget.Unet, ldm + ".weight");
            map.TryAdd("lora_unet_" + Underscored(diffusers), target);
            map.TryAdd("lycoris_" + Underscored(diffusers), target);
            string processor = diffusers.Replace(".to_", ".processor.to_", StringComparison.Ordinal);
            if (processor.EndsWith(".to_out.0", StringComparison.Ordinal)) processor = processor[..^2];
            foreach (string prefix in (string[])["", "unet."])
            {
                map.TryAdd(prefix + processor, target);
                map.TryAdd(prefix + diffusers, target);
            }
        }
    }

    private static void AddClip(Dictionary<string, LoraKeyTarget> map, ClipTextModel clip, ClipNames names)
    {
        var weights = clip.NamedParameters().Select(p => p.Key).Where(IsWeight).ToHashSet(StringComparer.Ordinal);
        for (int layer = 0; layer < clip.Config.NumHiddenLayers; layer++)
            foreach (string part in ClipLayerParts)
            {
                string name = $"encoder.layers.{layer}.{part}.weight";
                if (!weights.Contains(name)) continue;
                var target = new LoraKeyTarget(names.Target, name);
                string kohya = $"text_model_encoder_layers_{layer}_{Underscored(part)}";
                foreach (string prefix in names.KohyaPrefixes) map[prefix + kohya] = target;
                map[$"{names.DiffusersPrefix}text_model.encoder.layers.{layer}.{part}"] = target;
            }
        foreach (string name in weights)
        {
            // ComfyUI keeps text_projection beside text_model, not inside it.
            string module = name[..^".weight".Length];
            string generic = module.StartsWith("text_projection", StringComparison.Ordinal) ? module : "text_model." + module;
            map.TryAdd($"text_encoders.{names.Generic}.transformer.{generic}", new(names.Target, name));
        }
    }

    private static bool IsWeight(string name) => name.EndsWith(".weight", StringComparison.Ordinal);

    private static string Underscored(string dotted) => dotted.Replace('.', '_');
}

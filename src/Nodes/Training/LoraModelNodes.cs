using CharacterGen.Diffusion.Lora;
using CharacterGen.GraphRuntime.Contracts;
using CharacterGen.Nodes.Files;
using CharacterGen.Nodes.Image;
using CharacterGen.Nodes.Runtime;
using CharacterGen.Nodes.Values;
using CharacterGen.Tensors;

namespace CharacterGen.Nodes.Training;

/// <summary>
/// What ComfyUI's training nodes do with a LORA_MODEL: SaveLoRA writes it (kohya keys, ss_* metadata, atomically) under
/// output/, LoraModelLoader applies it to a MODEL without a file, LossGraphNode plots the LOSS_MAP.
/// </summary>
internal static class LoraModelNodes
{
    public static IEnumerable<NodeDefinition> Definitions(NodeFolders folders) => [SaveLora(folders), LoraModelLoader, LossGraph(folders)];

    private static NodeDefinition SaveLora(NodeFolders folders) => new NodeBuilder("SaveLoRA")
        .DisplayName("Save LoRA Weights").Category("loaders").Experimental().OutputNode()
        .Required(InputSpec.Link("lora", LoraModelValue.Type) with { Tooltip = "The LoRA model to save. Do not use the model with LoRA layers." })
        .Required(InputSpec.String("prefix", "loras/ComfyUI_trained_lora") with { Tooltip = "The prefix to use for the saved LoRA file." })
        .Optional(InputSpec.Link("steps", IoTypes.Int) with { Tooltip = "Optional: The number of steps to LoRA has been trained for, used to name the saved file." })
        .ExecuteTensors((_, i) =>
        {
            var lora = i.Value<LoraModelValue>("lora");
            long? steps = i.Contains("steps") && i["steps"] is long n ? n : null;
            var (subfolder, filename) = OutputImageWriter.SplitPrefix(i.Get<string>("prefix"));
            string folder = subfolder.Length == 0 ? Path.GetFullPath(folders.Data.Output) : SafePath.Resolve(folders.Data.Output, subfolder);
            Directory.CreateDirectory(folder);
            int counter = OutputImageWriter.NextCounter(folder, filename);
            string name = steps is null ? $"{filename}_{counter:D5}_.safetensors" : $"{filename}_{steps}_steps_{counter:D5}_.safetensors";
            lora.Lora.Save(Path.Combine(folder, name));
            var saved = new Dictionary<string, object?> { ["filename"] = name, ["subfolder"] = subfolder, ["type"] = "output" };
            return NodeOutput.WithUi(new Dictionary<string, object?> { ["loras"] = new List<object?> { saved } });
        })
        .Build();

    private static NodeDefinition LoraModelLoader { get; } = new NodeBuilder("LoraModelLoader")
        .DisplayName("Load LoRA Model").Category("loaders").Experimental()
        .Required(InputSpec.Link("model", IoTypes.Model) with { Tooltip = "The diffusion model the LoRA will be applied to." })
        .Required(InputSpec.Link("lora", LoraModelValue.Type) with { Tooltip = "The LoRA model to apply to the diffusion model." })
        .Required(InputSpec.Float("strength_model", 1.0, -100.0, 100.0) with { Tooltip = "How strongly to modify the diffusion model. This value can be negative." })
        .Output(IoTypes.Model, "model", tooltip: "The modified diffusion model.")
        .ExecuteTensors((_, i) =>
        {
            var model = i.Value<ModelValue>("model");
            var lora = i.Value<LoraModelValue>("lora");
            double strength = i.Get<double>("strength_model");
            if (strength == 0) return NodeOutput.Of(model.Share());
            using LoraFile file = lora.ToLoraFile();
            using LoraPatches patches = LoraMapper.Map(file, lora.Identity, model.Unet, null, Path.GetFileName(model.Path));
            return NodeOutput.Of(model.WithLora(patches.Only(LoraTarget.Unet), strength));
        })
        .Build();

    private static NodeDefinition LossGraph(NodeFolders folders) => new NodeBuilder("LossGraphNode")
        .DisplayName("Plot Loss Graph").Category("training").Experimental().OutputNode()
        .Required(InputSpec.Link("loss", LossMapValue.Type) with { Tooltip = "Loss map from training node." })
        .Required(InputSpec.String("filename_prefix", "loss_graph") with { Tooltip = "Prefix for the saved loss graph image." })
        .Hidden("prompt", HiddenInputs.Prompt)
        .Hidden("extra_pnginfo", HiddenInputs.ExtraPngInfo)
        .ExecuteTensors((_, i) =>
        {
            Tensor image = LossGraphImage.Draw(i.Value<LossMapValue>("loss").Loss);
            var saved = OutputImageWriter.Save(image, folders.Data.Temp, "temp", i.Get<string>("filename_prefix"),
                i["prompt"] as System.Text.Json.Nodes.JsonNode, i["extra_pnginfo"] as System.Text.Json.Nodes.JsonNode,
                System.IO.Compression.CompressionLevel.Fastest);
            return NodeOutput.WithUi(new Dictionary<string, object?> { ["images"] = saved.Select(s => s.ToUi()).ToList() });
        })
        .Build();
}

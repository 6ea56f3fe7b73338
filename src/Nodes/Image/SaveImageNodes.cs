using System.IO.Compression;
using System.Text.Json.Nodes;
using CharacterGen.GraphRuntime.Contracts;
using CharacterGen.Nodes.Runtime;
using CharacterGen.Tensors;

namespace CharacterGen.Nodes.Image;

/// <summary>SaveImage (into output/) and PreviewImage (into temp/); both report ui.images.</summary>
internal static class SaveImageNodes
{
    private const string RandomLetters = "abcdefghijklmnopqrstupvxyz"; // sic, ComfyUI's PreviewImage alphabet

    public static IEnumerable<NodeDefinition> Definitions(NodeFolders folders) => [SaveImage(folders), PreviewImage(folders)];

    private static NodeDefinition SaveImage(NodeFolders folders) => new NodeBuilder("SaveImage")
        .DisplayName("Save Image").Category("image").OutputNode()
        .Description("Saves the input images to your ComfyUI output directory.")
        .Required(InputSpec.Link("images", IoTypes.Image) with { Tooltip = "The images to save." })
        .Required(InputSpec.String("filename_prefix", "ComfyUI") with
        {
            Tooltip = "The prefix for the file to save. This may include formatting information such as %date:yyyy-MM-dd% or %Empty Latent Image.width% to include values from nodes.",
        })
        .Hidden("prompt", HiddenInputs.Prompt)
        .Hidden("extra_pnginfo", HiddenInputs.ExtraPngInfo)
        .EstimateMemory(m => ImageMemory.Save(m.Upstream<ImageShape>("images")))
        .ExecuteTensors((_, i) => Save(i, folders.Data.Output, "output", i.Get<string>("filename_prefix"), CompressionLevel.Optimal))
        .Build();

    private static NodeDefinition PreviewImage(NodeFolders folders) => new NodeBuilder("PreviewImage")
        .DisplayName("Preview Image").Category("image").OutputNode()
        .Description("Saves the input images to your ComfyUI output directory.")
        .Required(InputSpec.Link("images", IoTypes.Image))
        .Hidden("prompt", HiddenInputs.Prompt)
        .Hidden("extra_pnginfo", HiddenInputs.ExtraPngInfo)
        .EstimateMemory(m => ImageMemory.Save(m.Upstream<ImageShape>("images")))
        .ExecuteTensors((_, i) => Save(i, folders.Data.Temp, "temp", "ComfyUI_temp_" + RandomSuffix(), CompressionLevel.Fastest))
        .Build();

    private static NodeOutput Save(NodeInputs i, string root, string type, string prefix, CompressionLevel level)
    {
        IReadOnlyList<SavedImage> saved = OutputImageWriter.Save(i.Value<Tensor>("images"), root, type, prefix,
            i["prompt"] as JsonNode, i["extra_pnginfo"] as JsonNode, level);
        return NodeOutput.WithUi(new Dictionary<string, object?> { ["images"] = saved.Select(s => s.ToUi()).ToList() });
    }

    private static string RandomSuffix() =>
        string.Concat(Enumerable.Range(0, 5).Select(_ => RandomLetters[Random.Shared.Next(RandomLetters.Length)]));
}

using CharacterGen.Diffusion.Imaging;
using CharacterGen.GraphRuntime.Contracts;
using CharacterGen.Nodes.Runtime;
using CharacterGen.Tensors;

namespace CharacterGen.Nodes.Image;

/// <summary>LoadImage and LoadImageMask: images from the input folder (EXIF orientation applied).</summary>
internal static class LoadImageNodes
{
    public static IEnumerable<NodeDefinition> Definitions(NodeFolders folders) => [LoadImage(folders), LoadImageMask(folders)];

    private static NodeDefinition LoadImage(NodeFolders folders) => new NodeBuilder("LoadImage")
        .DisplayName("Load Image").Category("image")
        .Required(ImageInput(folders))
        .Output(IoTypes.Image).Output(IoTypes.Mask)
        .Validate(l => Name(l) is { } name ? ImageFiles.Validate(folders.Data, name) : null, "image")
        .Fingerprint(l => Name(l) is { } name ? ImageFiles.Fingerprint(folders.Data, name) : null)
        .EstimateMemory(m => Header(folders, m.Literals) is var (header, bytes) ? ImageMemory.Load(header, bytes) : MemoryEstimate.Unknown)
        .ExecuteTensors((_, i) =>
        {
            var (image, mask) = ImageTensors.ToImageAndMask(Read(folders, i.Get<string>("image")));
            return NodeOutput.Of(image, mask);
        })
        .Build();

    private static NodeDefinition LoadImageMask(NodeFolders folders) => new NodeBuilder("LoadImageMask")
        .DisplayName("Load Image (as Mask)").Category("mask")
        .Required(ImageInput(folders))
        .Required(InputSpec.Combo("channel", ["alpha", "red", "green", "blue"]))
        .Output(IoTypes.Mask)
        .Validate(l => Name(l) is { } name ? ImageFiles.Validate(folders.Data, name) : null, "image")
        .Fingerprint(l => Name(l) is { } name ? ImageFiles.Fingerprint(folders.Data, name) : null)
        .EstimateMemory(m => Header(folders, m.Literals) is var (header, bytes) ? ImageMemory.LoadMask(header, bytes) : MemoryEstimate.Unknown)
        .ExecuteTensors((_, i) =>
        {
            DecodedImage decoded = Read(folders, i.Get<string>("image"));
            string channel = i.Get<string>("channel");
            // ComfyUI converts to RGBA first, so an image without alpha gives an all-zero mask of its own size.
            Tensor mask = channel == "alpha" && !decoded.HasAlpha
                ? Torch.Zeros([1, decoded.Height, decoded.Width])
                : ImageTensors.ChannelMask(decoded, channel);
            return NodeOutput.Of(mask);
        })
        .Build();

    // Hooks see literals only: a linked name is checked when the node runs.
    private static string? Name(LiteralInputs literals) => literals.TryGetValue("image", out object? v) ? v as string : null;

    // The memory estimate reads the file's header only, so a small file claiming a huge image is refused unread.
    private static (ImageHeader, long)? Header(NodeFolders folders, LiteralInputs literals) =>
        Name(literals) is { } name ? ImageFiles.Header(folders.Data, name) : null;

    private static InputSpec ImageInput(NodeFolders folders) =>
        InputSpec.Combo("image", () => ImageFiles.List(folders.Data)) with { ImageUpload = true };

    private static DecodedImage Read(NodeFolders folders, string name) =>
        ImageDecoder.Decode(File.ReadAllBytes(ImageFiles.Resolve(folders.Data, name)));
}

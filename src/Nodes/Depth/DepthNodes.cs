using CharacterGen.Diffusion;
using CharacterGen.Diffusion.Depth;
using CharacterGen.Diffusion.Imaging;
using CharacterGen.Diffusion.Onnx;
using CharacterGen.GraphRuntime.Contracts;
using CharacterGen.Nodes.ModelCaching;
using CharacterGen.Nodes.Runtime;
using CharacterGen.Tensors;

namespace CharacterGen.Nodes.Depth;

/// <summary>
/// comfyui_controlnet_aux's depth preprocessors, on ONNX exports in <c>models/depth/</c>: each checkpoint name the
/// Python node offers maps to an ONNX file name (the .pth name with .onnx; MiDaS: dpt_hybrid_midas.onnx). The output
/// is the 8-bit depth picture as an IMAGE whose short side is <c>resolution</c>.
/// </summary>
internal static class DepthNodes
{
    public const string Folder = "depth";
    public const string MidasFile = "dpt_hybrid_midas.onnx";
    private const string Category = "ControlNet Preprocessors/Normal and Depth Estimators";

    public static IReadOnlyList<string> V2Checkpoints { get; } =
        ["depth_anything_v2_vitg.pth", "depth_anything_v2_vitl.pth", "depth_anything_v2_vitb.pth", "depth_anything_v2_vits.pth"];

    public static IReadOnlyList<string> V1Checkpoints { get; } =
        ["depth_anything_vitl14.pth", "depth_anything_vitb14.pth", "depth_anything_vits14.pth"];

    public static IEnumerable<NodeDefinition> Definitions(NodeFolders folders) =>
    [
        Preprocessor("DepthAnythingV2Preprocessor", "Depth Anything V2 - Relative", folders,
            b => b.Required(InputSpec.Combo("ckpt_name", V2Checkpoints, "depth_anything_v2_vitl.pth")),
            (i, m) => new DepthAnythingV2(m), i => OnnxName(i.Get<string>("ckpt_name"))),
        Preprocessor("DepthAnythingPreprocessor", "Depth Anything", folders,
            b => b.Required(InputSpec.Combo("ckpt_name", V1Checkpoints, "depth_anything_vitl14.pth")),
            (i, m) => new DepthAnythingV1(m), i => OnnxName(i.Get<string>("ckpt_name"))),
        // a and bg_threshold shape only the normal map in the Python node; they are accepted for saved workflows.
        Preprocessor("MiDaS-DepthMapPreprocessor", "MiDaS Depth Map", folders,
            b => b.Required(InputSpec.Float("a", Math.PI * 2, 0, Math.PI * 5, 0.05))
                .Required(InputSpec.Float("bg_threshold", 0.1, 0, 1, 0.05)),
            (i, m) => new MidasDpt(m), _ => MidasFile),
    ];

    /// <summary>depth_anything_v2_vitl.pth → depth_anything_v2_vitl.onnx.</summary>
    public static string OnnxName(string checkpoint) => Path.ChangeExtension(checkpoint, ".onnx");

    private static NodeDefinition Preprocessor(string classType, string displayName, NodeFolders folders,
        Func<NodeBuilder, NodeBuilder> inputs, Func<NodeInputs, OnnxModel, DepthEstimator> estimator, Func<NodeInputs, string> file) =>
        inputs(new NodeBuilder(classType).DisplayName(displayName).Category(Category)
                .Required(InputSpec.Link("image", IoTypes.Image)))
            .Optional(InputSpec.Int("resolution", 512, 64, 16384, 64))
            .Output(IoTypes.Image)
            .EstimateMemory(m => DepthMemory.Estimate(m.Upstream<ImageShape>("image"), m.Literals.GetOrDefault<long>("resolution", 512)))
            .ExecuteTensors((ctx, i) =>
            {
                string path = folders.Models.Resolve(Folder, file(i));
                using ModelLease<OnnxModel> lease = ctx.GetRequiredService<ModelCache>().Onnx(path, DepthEstimator.Spec);
                int resolution = (int)i.GetOrDefault<long>("resolution", 512);
                return NodeOutput.Of(Run(estimator(i, lease.Value), i.Value<Tensor>("image"), resolution));
            })
            .Build();

    /// <summary>Each picture of the batch to 8 bits (truncating, as numpy), estimated, and back to 0..1.</summary>
    public static Tensor Run(DepthEstimator estimator, Tensor images, int resolution)
    {
        var maps = new List<Tensor>();
        for (long b = 0; b < images.Size(0); b++)
        {
            Interrupts.ThrowIfRequested();
            DecodedImage rgb = AuxResize.ToRgb(ImageTensors.ToPixels(images.Select(0, b)));
            DecodedImage depth = estimator.Estimate(rgb, resolution);
            maps.Add(Torch.FromArray(depth.Pixels, [depth.Height, depth.Width, 3]).To(DType.Float32) / 255.0);
        }
        return Torch.Stack(maps).To(images.Device);
    }
}

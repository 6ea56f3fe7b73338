using CharacterGen.Diffusion.Models.IpAdapter;
using CharacterGen.Diffusion.RandomWeights;
using CharacterGen.GraphRuntime.Contracts;
using CharacterGen.Nodes.Tests.Support;
using CharacterGen.Nodes.Values;
using CharacterGen.Tensors;

namespace CharacterGen.Nodes.Tests.IpAdapter;

/// <summary>IPAdapterFaceID with a stand-in face analyser: identities and aligned faces reach the adapter.</summary>
public sealed class IpAdapterFaceIdTests
{
    /// <summary>"Finds" a face in any picture that is not black: identity from the picture's mean, crop = the picture resized.</summary>
    private sealed class FakeAnalyzer : IFaceAnalyzer
    {
        public List<int> Sizes { get; } = [];

        public DetectedFace? FirstFace(Tensor image, int alignedSize)
        {
            Sizes.Add(alignedSize);
            double mean = image.Contiguous().To(DType.Float64).ToArray<double>().Average();
            if (mean < 0.01) return null;
            float[] raw = Enumerable.Range(0, 512).Select(k => (float)(3 * Math.Sin(k + 10 * mean))).ToArray();
            float norm = MathF.Sqrt(raw.Sum(v => v * v));
            Tensor crop = F.Interpolate(image.Permute(2, 0, 1).Unsqueeze(0), alignedSize, alignedSize, InterpolationMode.Bilinear).Permute(0, 2, 3, 1);
            return new DetectedFace(raw, [.. raw.Select(v => v / norm)], crop);
        }

        public void Dispose() { }
    }

    private static NodeOutput Apply(NodeTestEnvironment env, ModelValue model, IpAdapterValue ipa, object? clip, Tensor image, FakeAnalyzer face) =>
        env.Run("IPAdapterFaceID", ("model", model), ("ipadapter", ipa), ("image", image), ("weight", 0.8), ("weight_faceidv2", 1.0),
            ("weight_type", "linear"), ("combine_embeds", "concat"), ("start_at", 0.0), ("end_at", 1.0), ("embeds_scaling", "V only"),
            ("clip_vision", clip), ("insightface", face));

    [TestCase(IpAdapterKind.FaceId, "ip-adapter-faceid_sd15.safetensors")]
    [TestCase(IpAdapterKind.FaceIdPlusV2, "ip-adapter-faceid-plusv2_sd15.safetensors")]
    public void A_face_adds_one_adapter_and_returns_the_aligned_face(IpAdapterKind kind, string file)
    {
        using var env = NodeTestEnvironment.Create();
        using var scope = Torch.NewScope();
        string folder = Path.Combine(env.Models.Root, "ipadapter"), visionFolder = Path.Combine(env.Models.Root, "clip_vision");
        Directory.CreateDirectory(folder);
        Directory.CreateDirectory(visionFolder);
        TestIpAdapters.WriteIpAdapter(Path.Combine(folder, file), TinySizes.Default.Unet, kind, seed: 2);
        TestIpAdapters.WriteClipVision(Path.Combine(visionFolder, "vision.safetensors"), seed: 3);
        NodeOutput ckpt = env.LoadCheckpoint();
        NodeOutput ipa = env.Run("IPAdapterModelLoader", ("ipadapter_file", file));
        NodeOutput clip = env.Run("CLIPVisionLoader", ("clip_name", "vision.safetensors"));
        var face = new FakeAnalyzer();
        Tensor image = Torch.Full([2, 40, 36, 3], 0.5);
        NodeOutput applied = Apply(env, (ModelValue)ckpt.Values[0]!, (IpAdapterValue)ipa.Values[0]!, clip.Values[0], image, face);
        try
        {
            var model = (ModelValue)applied.Values[0]!;
            Assert.That(model.IpAdapters, Has.Count.EqualTo(1));
            Assert.That(model.IpAdapters[0].Adapter.Info.Kind, Is.EqualTo(kind));
            Assert.That(model.IpAdapters[0].Cond.Shape, Is.EqualTo(new long[] { 1, 8, 32 }), "two faces' 4 tokens side by side (concat)");
            Assert.That(((Tensor)applied.Values[1]!).Shape, Is.EqualTo(new long[] { 2, 224, 224, 3 }));
            Assert.That(face.Sizes, Is.EqualTo(new[] { 224, 224 }), "SD1.5 aligns faces at 224 px");
            Assert.That(((ModelValue)ckpt.Values[0]!).IpAdapters, Is.Empty, "the input MODEL is unchanged");

            var e = Assert.Throws<InvalidOperationException>(() => Apply(env, (ModelValue)ckpt.Values[0]!, (IpAdapterValue)ipa.Values[0]!,
                clip.Values[0], Torch.Zeros([1, 32, 32, 3]), face))!;
            Assert.That(e.Message, Does.Contain("No face detected"));
        }
        finally
        {
            NodeTestEnvironment.DisposeAll(applied, clip, ipa, ckpt);
        }
    }
}

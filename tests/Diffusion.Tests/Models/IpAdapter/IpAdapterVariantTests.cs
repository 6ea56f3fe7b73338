using CharacterGen.Diffusion.Models.IpAdapter;
using CharacterGen.Diffusion.Models.Unet;
using CharacterGen.Diffusion.RandomWeights;
using CharacterGen.Tensors;

namespace CharacterGen.Diffusion.Tests.Models.IpAdapter;

/// <summary>Every adapter variant written in its real key layout loads as itself, fits its UNet and yields its tokens.</summary>
public sealed class IpAdapterVariantTests
{
    private static readonly UnetConfig Sd15 = TinySizes.Default.Unet;
    private static readonly UnetConfig Sdxl = TinySizes.SdxlConfig().Unet!;

    [TestCase(IpAdapterKind.Base, 4)]
    [TestCase(IpAdapterKind.Plus, 4)]
    [TestCase(IpAdapterKind.FullFace, 5)]
    [TestCase(IpAdapterKind.FaceId, 4)]
    [TestCase(IpAdapterKind.FaceIdPortrait, 16)]
    [TestCase(IpAdapterKind.FaceIdPlus, 4)]
    public void VariantsLoadFitAndProject(IpAdapterKind kind, int tokens)
    {
        foreach (UnetConfig unet in new[] { Sd15, Sdxl })
        {
            string path = Path.Combine(Path.GetTempPath(), $"cg-ipa-{kind}-{unet.ContextDim}-{Environment.ProcessId}.safetensors");
            TestIpAdapters.WriteIpAdapter(path, unet, kind, seed: 3);
            try
            {
                using var scope = Torch.NewScope();
                using IpAdapterModel model = IpAdapterModel.Load(path);
                Assert.That(model.Info.Kind, Is.EqualTo(kind));
                using var network = new UnetModel(unet);
                Assert.DoesNotThrow(() => new IpAdapterLayout(network).EnsureFits(model, "variant"));
                var vision = TestIpAdapters.TinyVision;
                Tensor input = model.Projection.Input switch
                {
                    ImageInput.ImageEmbeds => Torch.Randn([2, vision.ProjectionDim], 1UL),
                    ImageInput.PenultimateHiddenStates => Torch.Randn([2, vision.Positions, vision.HiddenSize], 1UL),
                    _ => Torch.Randn([2, 512], 1UL),
                };
                Tensor? face = model.Projection.Input == ImageInput.FaceEmbeddingAndPenultimate
                    ? Torch.Randn([2, vision.Positions, vision.HiddenSize], 1UL) : null;
                Tensor t = model.Projection.Project(input, face, face is null ? null : 2.0);
                Assert.That(t.Shape, Is.EqualTo(new long[] { 2, tokens, unet.ContextDim }), $"{kind} for context {unet.ContextDim}");
                TensorCompare.Finite(t);
            }
            finally
            {
                File.Delete(path);
            }
        }
    }
}

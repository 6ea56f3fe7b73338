using CharacterGen.Diffusion.Faces;
using CharacterGen.Diffusion.Onnx;
using CharacterGen.Nodes.ModelCaching;
using CharacterGen.Nodes.Tests.Support;
using CharacterGen.Nodes.Values;
using CharacterGen.Tensors;

namespace CharacterGen.Nodes.Tests.Faces;

/// <summary>IPAdapterInsightFaceLoader: packs from models/insightface/models/NAME/, the INSIGHTFACE value and its sessions.</summary>
public class InsightFaceNodeTests
{
    [TestCase("buffalo_l", "det_10g.onnx", "w600k_r50.onnx")]
    [TestCase("antelopev2", "scrfd_10g_bnkps.onnx", "glintr100.onnx")]
    public void The_loaded_pack_finds_the_first_face_as_insightface_does(string pack, string detector, string recognizer)
    {
        using var env = NodeTestEnvironment.Create(withCheckpoint: false);
        InstallPack(env, pack, detector, recognizer);
        long tensors = Tensor.LiveCount;

        using (var analyzer = env.Run<IFaceAnalyzer>("IPAdapterInsightFaceLoader", ("provider", "CPU"), ("model_name", pack)))
        using (Torch.NewScope())
        {
            var pixels = OnnxFixtures.Image("face_input");
            Tensor image = Torch.FromArray(pixels.Pixels, [pixels.Height, pixels.Width, 3]).To(DType.Float32) / 255.0;
            DetectedFace face = analyzer.FirstFace(image, 224)!;

            Assert.That(face.Embedding, Is.EqualTo(OnnxFixtures.Floats("face_embedding")).Within(1e-3));
            Assert.That(face.NormedEmbedding, Is.EqualTo(OnnxFixtures.Floats("face_normed_embedding")).Within(1e-4));
            Assert.That(face.AlignedFace.Shape, Is.EqualTo(new long[] { 1, 224, 224, 3 }));
            byte[] aligned = (face.AlignedFace * 255.0).Round().To(DType.UInt8).ToArray<byte>();
            int[] diff = aligned.Zip(OnnxFixtures.Bytes("face_aligned_224"), (a, b) => Math.Abs(a - b)).ToArray();
            Assert.That(diff.Max(), Is.LessThanOrEqualTo(1));
            face.AlignedFace.Dispose();

            Tensor dark = Torch.Full([64, 64, 3], 0.04);
            Assert.That(analyzer.FirstFace(dark, 224), Is.Null, "no face at any detection size");
        }
        Assert.That(Tensor.LiveCount, Is.EqualTo(tensors));
    }

    [Test]
    public void Sessions_are_cached_and_disposed_when_the_value_and_the_cache_let_go()
    {
        using var env = NodeTestEnvironment.Create(withCheckpoint: false);
        InstallPack(env, "buffalo_l", "det_10g.onnx", "w600k_r50.onnx");
        var first = env.Run<IFaceAnalyzer>("IPAdapterInsightFaceLoader", ("provider", "CUDA"), ("model_name", "buffalo_l"));
        var second = env.Run<IFaceAnalyzer>("IPAdapterInsightFaceLoader", ("provider", "CUDA"), ("model_name", "buffalo_l"));
        Assert.That(env.Cache.LoadCount, Is.EqualTo(2), "detector and recogniser loaded once for both values");
        Assert.That(((CharacterGen.Nodes.Faces.InsightFaceAnalyzer)first).Provider, Is.EqualTo("CPU"), "no CUDA here: the CPU, with the reason on stderr");

        using ModelLease<OnnxModel> lease = env.Cache.Onnx(Path.Combine(env.Models.Root, "insightface", "models", "buffalo_l", "det_10g.onnx"), ScrfdDetector.Spec);
        OnnxModel session = lease.Value;
        first.Dispose();
        second.Dispose();
        env.Cache.Free();
        Assert.That(session.IsDisposed, Is.False, "a lease still holds it");
        lease.Dispose();
        Assert.That(session.IsDisposed, Is.True);
    }

    [Test]
    public void A_missing_pack_names_the_folder_searched()
    {
        using var env = NodeTestEnvironment.Create(withCheckpoint: false);
        var e = Assert.Throws<FileNotFoundException>(() => env.Run("IPAdapterInsightFaceLoader", ("provider", "CPU"), ("model_name", "antelopev2")))!;
        Assert.That(e.Message, Does.Contain("insightface/models/antelopev2/"));
    }

    [Test]
    public void A_pack_without_its_recogniser_says_which_files_it_has()
    {
        using var env = NodeTestEnvironment.Create(withCheckpoint: false);
        OnnxFixtures.Install(env.Models.Root, "insightface/models/buffalo_l", "scrfd_tiny.onnx", "det_10g.onnx");
        var e = Assert.Throws<FileNotFoundException>(() => env.Run("IPAdapterInsightFaceLoader", ("provider", "CPU"), ("model_name", "buffalo_l")))!;
        Assert.That(e.Message, Does.Contain("w600k_r50.onnx or glintr100.onnx").And.Contain("it has det_10g.onnx"));
    }

    [Test]
    public void A_recogniser_in_the_detectors_place_is_refused()
    {
        using var env = NodeTestEnvironment.Create(withCheckpoint: false);
        InstallPack(env, "buffalo_l", "det_10g.onnx", "w600k_r50.onnx");
        OnnxFixtures.Install(env.Models.Root, "insightface/models/buffalo_l", "arcface_tiny.onnx", "det_10g.onnx");
        var e = Assert.Throws<InvalidDataException>(() => env.Run("IPAdapterInsightFaceLoader", ("provider", "CPU"), ("model_name", "buffalo_l")))!;
        Assert.That(e.Message, Does.Contain("SCRFD face detector").And.Contain("1 outputs instead of 9"));
    }

    private static void InstallPack(NodeTestEnvironment env, string pack, string detector, string recognizer)
    {
        OnnxFixtures.Install(env.Models.Root, "insightface/models/" + pack, "scrfd_tiny.onnx", detector);
        OnnxFixtures.Install(env.Models.Root, "insightface/models/" + pack, "arcface_tiny.onnx", recognizer);
    }
}

using CharacterGen.Diffusion.Depth;
using CharacterGen.Diffusion.Imaging;
using CharacterGen.Diffusion.Onnx;
using CharacterGen.Nodes.Tests.Support;
using CharacterGen.Tensors;

namespace CharacterGen.Nodes.Tests.Depth;

/// <summary>
/// The depth preprocessors' whole pre/post-processing on tiny ONNX networks, against make_onnx_fixtures.py's
/// reference (comfyui_controlnet_aux's steps in numpy, cv2, Pillow and torch, the network run in torch). The network's
/// float32 sums are ordered differently in ONNX Runtime and torch, so a depth value that lands on a truncation boundary
/// may come out one level apart; everything else must be equal.
/// </summary>
public class DepthPipelineTests
{
    private static readonly (string Name, int Resolution)[] Cases = [("shrink", 32), ("half", 24), ("enlarge", 64)];

    [TestCase("depth_hf.onnx", "da2_hf")]
    [TestCase("depth_fabio.onnx", "da2_fabio")]
    [TestCase("depth_fixed.onnx", "da2_fixed")]
    public void Depth_Anything_V2_matches_the_reference(string model, string reference) =>
        Check(model, m => new DepthAnythingV2(m), reference);

    [Test]
    public void MiDaS_matches_the_reference() => Check("depth_hf.onnx", m => new MidasDpt(m), "midas_hf");

    [Test]
    public void Depth_Anything_V1_matches_the_reference() => Check("depth_hf.onnx", m => new DepthAnythingV1(m), "da1_hf");

    [TestCase(768, 1024, 518, 686)]
    [TestCase(1216, 832, 756, 518)]
    [TestCase(600, 600, 518, 518)]
    public void V2_network_size_is_at_least_518_in_multiples_of_14(int h, int w, int netH, int netW) =>
        Assert.That(DepthAnythingV2.NetworkSize(h, w), Is.EqualTo((netH, netW)));

    [TestCase(768, 1024, 512, 512, 683)]
    [TestCase(1216, 832, 1024, 1497, 1024)]
    [TestCase(100, 100, 64, 64, 64)]
    public void Aux_resize_puts_resolution_on_the_short_side(int h, int w, int res, int outH, int outW) =>
        Assert.That(AuxResize.TargetSize(h, w, res), Is.EqualTo((outH, outW)));

    [Test]
    public void A_model_with_other_input_names_is_refused_naming_what_it_has_and_what_is_expected()
    {
        var e = Assert.Throws<InvalidDataException>(() => OnnxModel.Load(OnnxFixtures.Model("depth_wrong_names.onnx"), DepthEstimator.Spec))!;
        Assert.That(e.Message, Does.Contain("depth_wrong_names.onnx").And.Contain("x[").And.Contain("'pixel_values' or 'image'"));
    }

    [Test]
    public void A_model_fixing_only_one_side_of_its_input_is_refused_clearly()
    {
        using OnnxModel model = OnnxModel.Load(OnnxFixtures.Model("depth_one_side_fixed.onnx"), DepthEstimator.Spec);
        var e = Assert.Throws<InvalidDataException>(() => new DepthAnythingV2(model).Estimate(OnnxFixtures.Image("depth_input_half"), 64))!;
        Assert.That(e.Message, Does.Contain("fixes only one side").And.Contain("pixel_values[1, 3, ?, 42]"));
    }

    [Test]
    public void A_file_that_is_not_onnx_is_refused()
    {
        string path = Path.Combine(Path.GetTempPath(), "cg-not-onnx-" + Guid.NewGuid().ToString("N") + ".onnx");
        File.WriteAllText(path, "not a model");
        try
        {
            var e = Assert.Throws<InvalidDataException>(() => OnnxModel.Load(path, DepthEstimator.Spec))!;
            Assert.That(e.Message, Does.Contain("not a loadable ONNX model"));
        }
        finally { File.Delete(path); }
    }

    [Test]
    public void A_missing_file_names_the_file_and_its_folder()
    {
        string folder = Path.Combine(Path.GetTempPath(), "cg-no-such-folder");
        var e = Assert.Throws<FileNotFoundException>(() => OnnxModel.Load(Path.Combine(folder, "depth_anything_v2_vits.onnx"), DepthEstimator.Spec))!;
        Assert.That(e.Message, Does.Contain("'depth_anything_v2_vits.onnx'").And.Contain(folder));
    }

    [Test]
    public void Cuda_falls_back_to_the_cpu_with_a_reason_when_the_library_lacks_it()
    {
        using OnnxModel model = OnnxModel.Load(OnnxFixtures.Model("depth_hf.onnx"), DepthEstimator.Spec, new OnnxExecution(CudaDevice: 0));
        if (OnnxExecution.AvailableProviders().Contains(OnnxExecution.CudaProvider))
            Assert.That(model.Provider == "CUDA" || model.FallbackReason is not null, "a CUDA build either runs on CUDA or says why not");
        else
        {
            Assert.That(model.Provider, Is.EqualTo("CPU"));
            Assert.That(model.FallbackReason, Does.Contain("no CUDA execution provider"));
        }
    }

    private static void Check(string modelFile, Func<OnnxModel, DepthEstimator> make, string reference)
    {
        long tensors = Tensor.LiveCount;
        using OnnxModel model = OnnxModel.Load(OnnxFixtures.Model(modelFile), DepthEstimator.Spec);
        DepthEstimator estimator = make(model);
        foreach (var (name, resolution) in Cases)
        {
            DecodedImage input = OnnxFixtures.Image("depth_input_" + name);
            DecodedImage ours = estimator.Estimate(input, resolution);
            string expectedName = $"{reference}_{name}_{resolution}";
            int[] shape = OnnxFixtures.Shape(expectedName);
            Assert.That((ours.Height, ours.Width, ours.Channels), Is.EqualTo((shape[0], shape[1], shape[2])), expectedName);
            byte[] expected = OnnxFixtures.Bytes(expectedName);
            int[] diff = ours.Pixels.Zip(expected, (a, b) => Math.Abs(a - b)).ToArray();
            Assert.That(diff.Max(), Is.LessThanOrEqualTo(1), expectedName);
            Assert.That(diff.Count(d => d != 0), Is.LessThanOrEqualTo(expected.Length / 200), expectedName + ": off-by-one values stay rare");
        }
        Assert.That(Tensor.LiveCount, Is.EqualTo(tensors), "no tensor outlives the estimate");
    }
}

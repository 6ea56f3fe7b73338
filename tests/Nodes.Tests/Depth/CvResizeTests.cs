using CharacterGen.Diffusion.Imaging;
using CharacterGen.Nodes.Tests.Support;

namespace CharacterGen.Nodes.Tests.Depth;

/// <summary>The OpenCV and Pillow resizes the depth preprocessors use, against cv2.resize and PIL's resize themselves.</summary>
public class CvResizeTests
{
    private static readonly DecodedImage Input = OnnxFixtures.Image("resize_input");

    [TestCase(18, 26)]
    [TestCase(20, 30)]
    [TestCase(12, 17)]
    public void Area_shrinking_by_any_factor_matches_cv2_exactly(int h, int w) =>
        Assert.That(CvAreaResize.Resize(Input.Pixels, Input.Width, Input.Height, 3, w, h), Is.EqualTo(OnnxFixtures.Bytes($"cv_area_{h}x{w}")));

    [TestCase("half", 27, 18)]
    [TestCase("third", 18, 12)]
    public void Area_fast_path_for_integer_factors_matches_cv2_exactly(string name, int w, int h)
    {
        DecodedImage even = OnnxFixtures.Image("resize_input_even");
        Assert.That(CvAreaResize.Resize(even.Pixels, even.Width, even.Height, 3, w, h), Is.EqualTo(OnnxFixtures.Bytes("cv_area_" + name)));
    }

    [TestCase(18, 26)]
    [TestCase(12, 17)]
    [TestCase(41, 59)]
    public void Cubic_on_float64_matches_cv2(int h, int w)
    {
        double[] scaled = Array.ConvertAll(Input.Pixels, p => p / 255.0);
        double[] ours = CvCubicResize.Resize(scaled, Input.Width, Input.Height, 3, w, h);
        double[] theirs = OnnxFixtures.Doubles($"cv_cubic_f64_{h}x{w}");
        Assert.That(ours.Length, Is.EqualTo(theirs.Length));
        double worst = ours.Zip(theirs, (a, b) => Math.Abs(a - b)).Max();
        Assert.That(worst, Is.LessThan(1e-12), "float32 taps and double sums as cv2 computes them");
    }

    [TestCase(18, 26)]
    [TestCase(20, 30)]
    [TestCase(41, 59)]
    [TestCase(74, 106)]
    public void Cubic_on_8_bit_matches_cv2_exactly(int h, int w) =>
        Assert.That(CvCubicResize.Resize(Input.Pixels, Input.Width, Input.Height, 3, w, h), Is.EqualTo(OnnxFixtures.Bytes($"cv_cubic_u8_{h}x{w}")));

    [TestCase(18, 26)]
    [TestCase(12, 17)]
    [TestCase(74, 106)]
    public void Pillow_bilinear_and_bicubic_match_PIL_exactly(int h, int w)
    {
        Assert.That(Lanczos.Resize(Input.Pixels, Input.Width, Input.Height, 3, w, h, PillowFilter.Bilinear),
            Is.EqualTo(OnnxFixtures.Bytes($"pil_bilinear_{h}x{w}")));
        Assert.That(Lanczos.Resize(Input.Pixels, Input.Width, Input.Height, 3, w, h, PillowFilter.Bicubic),
            Is.EqualTo(OnnxFixtures.Bytes($"pil_bicubic_{h}x{w}")));
    }
}

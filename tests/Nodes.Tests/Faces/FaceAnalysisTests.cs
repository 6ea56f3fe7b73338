using CharacterGen.Diffusion.Faces;
using CharacterGen.Diffusion.Imaging;
using CharacterGen.Diffusion.Onnx;
using CharacterGen.Nodes.Tests.Support;

namespace CharacterGen.Nodes.Tests.Faces;

/// <summary>
/// SCRFD decoding + NMS, the five-point alignment and ArcFace's input, on a tiny detector whose outputs the fixture
/// controls (bright parts score high; boxes and landmarks are fixed offsets from the anchor), against
/// make_onnx_fixtures.py's reference (InsightFace's steps with cv2's resize, blobFromImage and warpAffine, Umeyama by
/// numpy's SVD, the networks in torch).
/// </summary>
public class FaceAnalysisTests
{
    private static readonly DecodedImage Face = OnnxFixtures.Image("face_input");

    // cv2's row tails and horizontal SIMD pass round slightly differently from our reading of it: rare one-level
    // differences (0.6% of values here), which move the detector's input and so its outputs by a hair.
    [TestCase(18, 26)]
    [TestCase(74, 106)]
    [TestCase(41, 59)]
    public void Linear_resize_matches_cv2_within_one_level(int h, int w)
    {
        DecodedImage input = OnnxFixtures.Image("resize_input");
        byte[] ours = CvLinearResize.Resize(input.Pixels, input.Width, input.Height, 3, w, h);
        int[] diff = ours.Zip(OnnxFixtures.Bytes($"cv_linear_{h}x{w}"), (a, b) => Math.Abs(a - b)).ToArray();
        Assert.That(diff.Max(), Is.LessThanOrEqualTo(1));
        Assert.That(diff.Count(d => d != 0), Is.LessThanOrEqualTo(diff.Length / 100));
    }

    [Test]
    public void Detections_after_nms_match_insightface_best_first()
    {
        using OnnxModel model = OnnxModel.Load(OnnxFixtures.Model("scrfd_tiny.onnx"), ScrfdDetector.Spec);
        List<FaceBox> faces = new ScrfdDetector(model).Detect(Face, 640);
        float[] dets = OnnxFixtures.Floats("face_dets_640"), kps = OnnxFixtures.Floats("face_kps_640");
        Assert.That(faces, Has.Count.EqualTo(dets.Length / 5), "the same boxes survive NMS");
        for (int i = 0; i < faces.Count; i++)
        {
            FaceBox f = faces[i];
            Assert.That(new[] { f.X1, f.Y1, f.X2, f.Y2 }, Is.EqualTo(dets.AsSpan(i * 5, 4).ToArray()).Within(0.02), $"box {i}");
            Assert.That(f.Score, Is.EqualTo(dets[i * 5 + 4]).Within(1e-4), $"score {i}");
            Assert.That(f.Landmarks, Is.EqualTo(kps.AsSpan(i * 10, 10).ToArray()).Within(0.02), $"landmarks {i}");
        }
        Assert.That(faces.Select(f => f.Score), Is.Ordered.Descending);
    }

    [TestCase(224)]
    [TestCase(256)]
    public void Alignment_is_umeyamas_similarity_onto_the_arcface_template(int size)
    {
        float[] landmarks = OnnxFixtures.Floats("face_kps_640").AsSpan(0, 10).ToArray();
        double[] ours = FaceAlignment.EstimateNorm(landmarks, size);
        double[] theirs = OnnxFixtures.Doubles($"face_norm_{size}");
        for (int i = 0; i < 6; i++) Assert.That(ours[i], Is.EqualTo(theirs[i]).Within(1e-9 * Math.Max(1, Math.Abs(theirs[i]))), $"M[{i}]");
    }

    [Test]
    public void Alignment_refuses_sizes_insightface_cannot_crop() =>
        Assert.Throws<ArgumentException>(() => FaceAlignment.EstimateNorm(new float[10], 200));

    [Test]
    public void The_first_face_gives_arcface_embedding_and_the_aligned_crop()
    {
        using OnnxModel det = OnnxModel.Load(OnnxFixtures.Model("scrfd_tiny.onnx"), ScrfdDetector.Spec);
        using OnnxModel arc = OnnxModel.Load(OnnxFixtures.Model("arcface_tiny.onnx"), ArcFaceRecognizer.Spec);
        FaceFound face = new FaceAnalysis(new ScrfdDetector(det), new ArcFaceRecognizer(arc)).FirstFace(Face, 224)!;

        Assert.That(face, Is.Not.Null);
        byte[] expected = OnnxFixtures.Bytes("face_aligned_224");
        int[] diff = face.Aligned.Pixels.Zip(expected, (a, b) => Math.Abs(a - b)).ToArray();
        Assert.That(diff.Max(), Is.LessThanOrEqualTo(1), "cv2.warpAffine's fixed point");
        Assert.That(diff.Count(d => d != 0), Is.LessThanOrEqualTo(diff.Length / 100));
        Assert.That(face.Embedding, Is.EqualTo(OnnxFixtures.Floats("face_embedding")).Within(1e-3));
        Assert.That(face.NormedEmbedding, Is.EqualTo(OnnxFixtures.Floats("face_normed_embedding")).Within(1e-4));
        Assert.That(face.NormedEmbedding.Sum(v => (double)v * v), Is.EqualTo(1.0).Within(1e-5));
    }

    [Test]
    public void A_picture_without_a_face_gives_none_after_every_detection_size()
    {
        using OnnxModel det = OnnxModel.Load(OnnxFixtures.Model("scrfd_tiny.onnx"), ScrfdDetector.Spec);
        using OnnxModel arc = OnnxModel.Load(OnnxFixtures.Model("arcface_tiny.onnx"), ArcFaceRecognizer.Spec);
        Assert.That(new FaceAnalysis(new ScrfdDetector(det), new ArcFaceRecognizer(arc)).FirstFace(OnnxFixtures.Image("noface_input"), 224), Is.Null);
    }

    [Test]
    public void A_detector_without_keypoint_outputs_is_refused()
    {
        var e = Assert.Throws<InvalidDataException>(() => OnnxModel.Load(OnnxFixtures.Model("depth_hf.onnx"), ScrfdDetector.Spec))!;
        Assert.That(e.Message, Does.Contain("1 outputs instead of 9"));
    }

    [Test]
    public void Nms_keeps_the_best_of_overlapping_boxes_and_separate_ones()
    {
        var boxes = new List<FaceBox>
        {
            new(0, 0, 10, 10, 0.7f, new float[10]),
            new(1, 1, 11, 11, 0.9f, new float[10]), // IoU with the first ≈ 0.7: suppresses it
            new(30, 30, 40, 40, 0.6f, new float[10]),
        };
        List<FaceBox> kept = ScrfdDetector.Suppress(boxes);
        Assert.That(kept.Select(b => b.Score), Is.EqualTo(new[] { 0.9f, 0.6f }));
    }
}

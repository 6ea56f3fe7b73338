using System.Text.Json.Nodes;
using CharacterGen.Diffusion.Imaging;
using CharacterGen.Diffusion.Models.ControlNet;
using CharacterGen.Diffusion.Models.IpAdapter;
using CharacterGen.Diffusion.Models.Unet;
using CharacterGen.Diffusion.RandomWeights;
using CharacterGen.Server.Tests.Grpc.RealClients;
using CharacterGen.Server.Tests.Grpc.Support;

namespace CharacterGen.Server.Tests.WorkflowsApi.RealClients;

/// <summary>
/// Issue #13's story frames: the shipped workflows/story_frame_sdxl.json on tiny SDXL models (checkpoint, diffusers depth
/// ControlNet, Depth Anything V2 ONNX, CLIP ViT-H-layout vision encoder, plus-face and plus IP-Adapters) through a real
/// server, walked by the documented Python grpcio client (tests/clients/python/story_frames.py): three frames in a row,
/// each taking its depth from the one before, with nothing but Assets.Upload and Workflows.Run overrides.
/// </summary>
[Category("RealClient")]
public sealed class StoryFrameTests
{
    private const string Python = "/usr/bin/python3";
    private static readonly TimeSpan Hang = TimeSpan.FromMinutes(15); // a hang guard on a loaded machine, not a timing

    [Test]
    public async Task The_python_client_walks_three_frames_each_from_the_previous()
    {
        if (!await ExternalProcess.SucceedsAsync(Python, "-c", "import grpc, grpc_tools"))
            Prerequisites.Missing("python3-grpcio and python3-grpc-tools are not installed.");
        string root = Directory.CreateTempSubdirectory("cg-story-").FullName;
        string models = Path.Combine(root, "models");
        WriteModels(models);
        string face = WritePng(root, "face.png", 1), style = WritePng(root, "style.png", 2), layout = WritePng(root, "layout.png", 3);
        string frames = Path.Combine(root, "frames");

        await using var server = await TestServer.StartAsync(o => o with { ModelsDir = models, WorkflowsDir = Path.Combine(Repository.Root, "workflows") });
        string[] set =
        [
            "1.ckpt_name=story-sdxl.safetensors", "6.control_net_name=story-depth.safetensors",
            "5.ckpt_name=depth_anything_v2_vits.pth", "5.resolution=64",
            "8.clip_name=story-vision.safetensors", "9.ipadapter_file=story-face.safetensors", "10.ipadapter_file=story-style.safetensors",
            "15.width=64", "15.height=64", "16.steps=2",
        ];
        var result = await ExternalProcess.RunAsync(Python,
            [Path.Combine(Repository.Clients, "python", "story_frames.py"), "--address", server.GrpcAddress.Authority,
             "--protos", Repository.Protos, "--test-protos", Repository.TestProtos, "--api-protos", Repository.ApiProtos,
             "--first-frame", layout, "--face", face, "--style", style, "--out", frames, .. set.SelectMany(s => new[] { "--set", s })],
            Repository.Root, Hang);

        Assert.That(result.ExitCode, Is.EqualTo(0), result.Output);
        var done = result.Output.Split('\n').Where(l => l.StartsWith('{')).Select(l => JsonNode.Parse(l)!).Where(l => l["saved"] is not null).ToList();
        Assert.That(done.Select(l => l["frame"]!.GetValue<int>()), Is.EqualTo(new[] { 1, 2, 3 }));
        Assert.That(done[0]["from"]!.GetValue<string>(), Does.EndWith(" [asset]"), "the first frame's depth comes from the uploaded layout");
        for (int k = 1; k < 3; k++)
            Assert.That(done[k]["from"]!.GetValue<string>(), Is.EqualTo(done[k - 1]["saved"]!.GetValue<string>() + " [output]"),
                $"frame {k + 1} takes its depth from frame {k}");
        var pictures = done.Select(l => File.ReadAllBytes(l["kept"]!.GetValue<string>())).ToList();
        foreach (byte[] png in pictures)
        {
            DecodedImage image = ImageDecoder.Decode(png);
            Assert.That((image.Width, image.Height), Is.EqualTo((64, 64)));
        }
        Assert.That(pictures.Distinct(new BytesComparer()).Count(), Is.EqualTo(3), "each frame is a new picture");
    }

    private static void WriteModels(string models)
    {
        string Folder(string name) => Directory.CreateDirectory(Path.Combine(models, name)).FullName;
        TinyModelWriter.WriteSdxl(Path.Combine(Folder("checkpoints"), "story-sdxl.safetensors"), seed: 3);
        TestControlNets.Write(Path.Combine(Folder("controlnet"), "story-depth.safetensors"), TinySizes.SdxlConfig().Unet!, ControlNetKeyLayout.Diffusers);
        File.Copy(Path.Combine(Repository.Root, "tests", "Nodes.Tests", "Fixtures", "Onnx", "depth_hf.onnx"),
            Path.Combine(Folder("depth"), "depth_anything_v2_vits.onnx"));
        TestIpAdapters.WriteClipVision(Path.Combine(Folder("clip_vision"), "story-vision.safetensors"), seed: 5);
        UnetConfig unet = TinySizes.SdxlConfig().Unet!;
        TestIpAdapters.WriteIpAdapter(Path.Combine(Folder("ipadapter"), "story-face.safetensors"), unet, IpAdapterKind.Plus, seed: 6);
        TestIpAdapters.WriteIpAdapter(Path.Combine(Folder("ipadapter"), "story-style.safetensors"), unet, IpAdapterKind.Plus, seed: 7);
    }

    private static string WritePng(string folder, string name, int seed)
    {
        var random = new Random(seed);
        byte[] rgb = new byte[64 * 64 * 3];
        random.NextBytes(rgb);
        string path = Path.Combine(folder, name);
        File.WriteAllBytes(path, PngWriter.Encode(new DecodedImage(64, 64, 3, rgb)));
        return path;
    }

    private sealed class BytesComparer : IEqualityComparer<byte[]>
    {
        public bool Equals(byte[]? a, byte[]? b) => a.AsSpan().SequenceEqual(b);
        public int GetHashCode(byte[] bytes) => bytes.Length;
    }
}

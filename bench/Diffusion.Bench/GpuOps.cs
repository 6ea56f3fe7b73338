using System.Text;
using System.Text.Json;
using CharacterGen.Tensors;
using CharacterGen.Tensors.Safetensors;

namespace CharacterGen.Diffusion.Bench;

/// <summary>
/// The op check of bench/gpu/run.sh: the ops SD1.5/SDXL run, on fixed seeded inputs, on one device and dtype. Writes
/// one safetensors file with every input and output (float32) and, in its metadata, each op's kind and parameters, so
/// bench/gpu/compare_ops.py recomputes them with PyTorch on the same device and compares. Usage:
/// <c>gpu ops OUT.safetensors DEVICE DTYPE</c>
/// </summary>
internal static class GpuOps
{
    private sealed record Op(string Name, string Kind, long[][] Inputs, Dictionary<string, double> Args, Func<Tensor[], Tensor> Run);

    public static void Run(string path, Device device, DType dtype)
    {
        var tensors = new List<KeyValuePair<string, Tensor>>();
        using var meta = new MemoryStream();
        int count = 0;
        using (var json = new Utf8JsonWriter(meta))
        using (var scope = Torch.NewScope())
        using (var g = new Generator(1234))
        using (Autograd.InferenceMode())
        {
            json.WriteStartObject();
            foreach (Op op in Ops())
            {
                // Inputs are made in float32 on the CPU (the same values on every device), then cast as PyTorch will.
                Tensor[] cpu = op.Inputs.Select((shape, i) => Scaled(Torch.Randn(shape, g), op.Kind, i, shape)).ToArray();
                Tensor[] args = cpu.Select(t => t.To(device, dtype)).ToArray();
                Tensor output = op.Run(args).To(Device.Cpu, DType.Float32).Contiguous();
                for (int i = 0; i < cpu.Length; i++) tensors.Add(new($"{op.Name}.in{i}", cpu[i].DetachFromScope()));
                tensors.Add(new($"{op.Name}.out", output.DetachFromScope()));
                json.WriteStartObject(op.Name);
                json.WriteString("kind", op.Kind);
                json.WriteNumber("inputs", op.Inputs.Length);
                foreach (var (k, v) in op.Args) json.WriteNumber(k, v);
                json.WriteEndObject();
                count++;
            }
            json.WriteEndObject();
        }
        SafetensorsTensors.Save(path, tensors, new Dictionary<string, string>
        {
            ["ops"] = Encoding.UTF8.GetString(meta.ToArray()), ["device"] = device.ToString(), ["dtype"] = dtype.TorchName(),
            ["libtorch"] = Torch.LibTorchVersion, ["features"] = string.Join(",", Torch.NativeBuildFeatures),
        });
        foreach (var (_, t) in tensors) t.Dispose();
        Console.WriteLine($"{count} ops on {device} in {dtype.TorchName()} -> {path}");
    }

    // Weights scaled by fan-in (activations O(1), as in a trained network), norm weights near 1.
    private static Tensor Scaled(Tensor t, string kind, int index, long[] shape) => (kind, index) switch
    {
        ("conv2d" or "linear", 1) => t * (1 / Math.Sqrt(shape.Skip(1).Aggregate(1L, (a, b) => a * b))),
        ("conv2d" or "linear", 2) or ("group_norm" or "layer_norm", 2) => t * 0.1,
        ("group_norm" or "layer_norm", 1) => t * 0.1 + 1,
        _ => t,
    };

    private static IEnumerable<Op> Ops()
    {
        Dictionary<string, double> none = [];
        yield return new("conv3x3", "conv2d", [[2, 320, 32, 32], [320, 320, 3, 3], [320]], new() { ["stride"] = 1, ["padding"] = 1 },
            a => F.Conv2d(a[0], a[1], a[2], stride: 1, padding: 1));
        yield return new("conv_down", "conv2d", [[2, 320, 32, 32], [320, 320, 3, 3], [320]], new() { ["stride"] = 2, ["padding"] = 1 },
            a => F.Conv2d(a[0], a[1], a[2], stride: 2, padding: 1));
        yield return new("conv1x1", "conv2d", [[2, 640, 16, 16], [320, 640, 1, 1], [320]], new() { ["stride"] = 1, ["padding"] = 0 },
            a => F.Conv2d(a[0], a[1], a[2]));
        yield return new("linear", "linear", [[2, 77, 2048], [640, 2048], [640]], none, a => F.Linear(a[0], a[1], a[2]));
        yield return new("group_norm", "group_norm", [[2, 640, 32, 32], [640], [640]], new() { ["groups"] = 32, ["eps"] = 1e-5 },
            a => F.GroupNorm(a[0], 32, a[1], a[2], 1e-5));
        yield return new("layer_norm", "layer_norm", [[2, 1024, 640], [640], [640]], new() { ["eps"] = 1e-5 },
            a => F.LayerNorm(a[0], [640], a[1], a[2], 1e-5));
        yield return new("self_attention", "attention", [[2, 10, 1024, 64], [2, 10, 1024, 64], [2, 10, 1024, 64]], none,
            a => F.ScaledDotProductAttention(a[0], a[1], a[2]));
        yield return new("cross_attention", "attention", [[2, 10, 1024, 64], [2, 10, 77, 64], [2, 10, 77, 64]], none,
            a => F.ScaledDotProductAttention(a[0], a[1], a[2]));
        yield return new("silu", "silu", [[2, 1280, 16, 16]], none, a => F.Silu(a[0]));
        yield return new("gelu", "gelu", [[2, 1024, 2560]], none, a => F.Gelu(a[0]));
        yield return new("upsample_nearest", "interpolate_nearest", [[2, 640, 16, 16]], new() { ["scale"] = 2 },
            a => F.Interpolate(a[0], 2.0));
        yield return new("matmul", "matmul", [[2, 1024, 640], [640, 1920]], none, a => F.Matmul(a[0], a[1]));
    }
}

using CharacterGen.Tensors;

namespace CharacterGen.Diffusion.Lora;

/// <summary>
/// One low-rank update of one weight (ComfyUI weight_adapter LoRAAdapter): ΔW = alpha/rank · up @ down, with an
/// optional LoCon Tucker core (mid) for convolutions and an optional DoRA magnitude (dora_scale). Holds its own
/// tensor handles (aliases of the file's), so patches outlive the file and can be shared by alias.
/// </summary>
public sealed class LoraPatch : IDisposable
{
    public LoraPatch(LoraTarget target, string parameterName, string loraKey, Tensor up, Tensor down, Tensor? mid, double? alpha, Tensor? doraScale)
    {
        Target = target;
        ParameterName = parameterName;
        LoraKey = loraKey;
        Up = up.DetachFromScope();
        Down = down.DetachFromScope();
        Mid = mid?.DetachFromScope();
        Alpha = alpha;
        DoraScale = doraScale?.DetachFromScope();
    }

    public LoraTarget Target { get; }

    /// <summary>Our parameter name, e.g. "input_blocks.1.1.proj_in.weight".</summary>
    public string ParameterName { get; }

    /// <summary>The key in the LoRA file, e.g. "lora_unet_input_blocks_1_1_proj_in".</summary>
    public string LoraKey { get; }

    public Tensor Up { get; }
    public Tensor Down { get; }
    public Tensor? Mid { get; }
    public double? Alpha { get; }
    public Tensor? DoraScale { get; }

    public long Rank => Down.Size(0);

    /// <summary>alpha/rank, or 1 without alpha.</summary>
    public double Scale => Alpha is { } a ? a / Rank : 1.0;

    /// <summary>up @ down (through the mid core if any) in float32 on <paramref name="device"/>, shaped as <paramref name="weightShape"/>.</summary>
    public Tensor Product(long[] weightShape, Device device)
    {
        using var scope = Torch.NewScope();
        Tensor up = Up.To(device, DType.Float32), down = Down.To(device, DType.Float32);
        if (Mid is { } m)
        {
            // LoCon: fold the core into down: [r, in, kh, kw] = (downᵀ @ midᵀ) over the rank axes.
            Tensor mid = m.To(device, DType.Float32);
            long[] shape = [down.Size(1), down.Size(0), mid.Size(2), mid.Size(3)];
            down = F.Matmul(down.Transpose(0, 1).Flatten(1), mid.Transpose(0, 1).Flatten(1)).Reshape(shape).Transpose(0, 1);
        }
        return F.Matmul(up.Flatten(1), down.Flatten(1)).Reshape(weightShape).MoveToOuterScope();
    }

    /// <summary>Adds this patch at <paramref name="strength"/> to a float32 weight, in place.</summary>
    public void AddTo(Tensor weight, double strength)
    {
        using var scope = Torch.NewScope();
        Tensor diff = Product(weight.Shape, weight.Device);
        if (DoraScale is null)
        {
            weight.Add_(diff, strength * Scale);
            return;
        }
        // DoRA (ComfyUI weight_decompose): rescale W + ΔW to the learned magnitude; the norm on the output axis is
        // taken over the unpatched W, as ComfyUI does.
        Tensor scale = DoraScale.To(weight.Device, DType.Float32);
        Tensor calc = weight + diff * Scale;
        Tensor norm = scale.Size(0) == calc.Size(0)
            ? RowNorm(weight)
            : RowNorm(calc.Transpose(0, 1)).Transpose(0, 1);
        norm = norm + 1.1920928955078125e-07; // float32 eps
        calc = calc * (scale.Reshape(norm.Shape) / norm);
        if (strength != 1.0) weight.Add_(calc - weight, strength);
        else weight.Copy_(calc);
    }

    // ‖row‖₂ per index of dim 0, shaped [n, 1, …] to broadcast over the weight.
    private static Tensor RowNorm(Tensor w)
    {
        long[] shape = new long[w.Dim];
        Array.Fill(shape, 1L);
        shape[0] = w.Size(0);
        return w.Reshape(w.Size(0), -1).Square().Sum([1], keepDim: true).Sqrt().Reshape(shape);
    }

    /// <summary>Another patch over the same tensors, with its own handles.</summary>
    public LoraPatch Share() => new(Target, ParameterName, LoraKey, Up.Alias(), Down.Alias(), Mid?.Alias(), Alpha, DoraScale?.Alias());

    public void Dispose()
    {
        Up.Dispose();
        Down.Dispose();
        Mid?.Dispose();
        DoraScale?.Dispose();
    }
}

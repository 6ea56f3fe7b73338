using CharacterGen.Diffusion.Models.ClipVision;
using CharacterGen.Tensors;

namespace CharacterGen.Diffusion.Models.IpAdapter;

/// <summary>
/// Reference images → an adapter's cond and uncond tokens (cubiq ipadapter_execute, non-FaceID path): CLIP vision with
/// centre crop; image_embeds for base adapters (uncond: the negative image's, else zeros), penultimate states for plus
/// and full-face (uncond: the negative image's, else a black image's); several images combined on the raw embeds
/// (concat keeps every image's tokens side by side; the others reduce to one and keep the first negative).
/// </summary>
public static class IpAdapterEncoding
{
    public static readonly IReadOnlyList<string> CombineMethods = ["concat", "add", "subtract", "average", "norm average"];

    /// <summary>Raw encoder embeds [N, …] for the adapter's input kind.</summary>
    public static Tensor Embeds(IpAdapterModel adapter, ClipVisionModel clipVision, Tensor image)
    {
        using var scope = Torch.NewScope();
        using ClipVisionOutput o = clipVision.Forward(ClipVisionPreprocess.Apply(image, clipVision.Config.ImageSize));
        Tensor e = adapter.Projection.Input == ImageInput.ImageEmbeds ? o.ImageEmbeds : o.PenultimateHiddenStates;
        return e.Alias().MoveToOuterScope();
    }

    /// <summary>Cond and uncond tokens, each [1, T′, ctx] (T′ = N·T for concat).</summary>
    public static (Tensor Cond, Tensor Uncond) Tokens(IpAdapterModel adapter, ClipVisionModel clipVision, Tensor image,
        Tensor? negativeImage, string combine)
    {
        if (adapter.Info.IsFaceId) throw new ArgumentException($"{adapter.Info} needs a face analyser (IPAdapterFaceID)");
        using var scope = Torch.NewScope();
        Tensor cond = Embeds(adapter, clipVision, image);
        Tensor uncond = negativeImage is not null ? Embeds(adapter, clipVision, negativeImage)
            : adapter.Projection.Input == ImageInput.ImageEmbeds ? Torch.ZerosLike(cond)
            : Embeds(adapter, clipVision, Torch.Zeros([1, clipVision.Config.ImageSize, clipVision.Config.ImageSize, 3]));
        var (c, u) = Project(adapter, cond, uncond, combine);
        return (c.MoveToOuterScope(), u.MoveToOuterScope());
    }

    /// <summary>Projects raw cond/uncond embeds (already from the encoder) after combining them; used by every path.</summary>
    public static (Tensor Cond, Tensor Uncond) Project(IpAdapterModel adapter, Tensor cond, Tensor uncond, string combine,
        Tensor? faceCond = null, Tensor? faceUncond = null, double? shortcutScale = null)
    {
        using var scope = Torch.NewScope();
        uncond = ToSize(uncond, cond.Size(0));
        if (combine != "concat" && cond.Size(0) > 1)
        {
            cond = Combine(cond, combine);
            if (faceCond is not null) faceCond = Combine(faceCond, combine);
            uncond = uncond.Narrow(0, 0, 1);
            if (faceUncond is not null) faceUncond = faceUncond.Narrow(0, 0, 1);
        }
        // FaceID plus: the uncond identity is zeros (cubiq), the uncond image the negative's states.
        if (faceCond is not null) faceUncond ??= Torch.ZerosLike(faceCond);
        Tensor Run(Tensor e, Tensor? face) => face is null
            ? adapter.Projection.Project(e)
            : adapter.Projection.Project(face, e, shortcutScale);
        Tensor c = Run(cond, faceCond), u = Run(uncond, faceUncond);
        // N images' tokens side by side (what cubiq's batch-to-heads reshape does implicitly).
        c = c.Reshape(1, -1, c.Size(2));
        u = u.Reshape(1, -1, u.Size(2));
        return (c.MoveToOuterScope(), u.MoveToOuterScope());
    }

    /// <summary>cubiq combine_embeds over the batch axis: add, subtract (e₀ − mean e₁..), average, norm average.</summary>
    public static Tensor Combine(Tensor e, string method) => method switch
    {
        "concat" => e.Alias(),
        "add" => e.Sum([0], keepDim: true),
        "subtract" => (e.Narrow(0, 0, 1) - e.Narrow(0, 1, e.Size(0) - 1).Mean([0], keepDim: true)),
        "average" => e.Mean([0], keepDim: true),
        "norm average" => (e / e.Square().Sum([0], keepDim: true).Sqrt()).Mean([0], keepDim: true),
        _ => throw new ArgumentException($"unknown combine_embeds '{method}' (expected one of: {string.Join(", ", CombineMethods)})"),
    };

    /// <summary>cubiq tensor_to_size: repeat the last row or cut to <paramref name="size"/> rows.</summary>
    public static Tensor ToSize(Tensor t, long size)
    {
        long n = t.Size(0);
        if (n == size) return t;
        if (n > size) return t.Narrow(0, 0, size);
        Tensor last = t.Narrow(0, n - 1, 1);
        return Torch.Cat([t, .. Enumerable.Repeat(last, (int)(size - n))]);
    }
}

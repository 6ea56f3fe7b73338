using CharacterGen.Diffusion.Models.Clip;
using CharacterGen.Tensors;

namespace CharacterGen.Diffusion.Conditioning;

/// <summary>
/// SDXL's two text encoders combined (ComfyUI sdxl_clip.SDXLClipModel): clip_l and clip_g each give the hidden state of
/// the chosen layer (default penultimate, without final_layer_norm); the cross-attention context is their per-token
/// concatenation [clip_l ‖ clip_g] (768 + 1280 = 2048), cut to the shorter token count; the pooled vector is clip_g's,
/// projected by text_projection (1280).
/// </summary>
public static class SdxlTextEncoding
{
    /// <summary>ComfyUI's SDXL default CLIP layer: the penultimate, for both encoders.</summary>
    public const int DefaultLayer = -2;

    /// <summary>
    /// Encodes one batch of token windows per encoder: <paramref name="idsL"/> [B, T] (padded with the end token) and
    /// <paramref name="idsG"/> [B, T] (padded with 0). Returns Hidden = context [B, T, dL + dG] and Pooled = clip_g's
    /// projected pooled [B, P], both float32.
    /// </summary>
    public static ClipTextOutput Encode(ClipTextModel clipL, ClipTextModel clipG, Tensor idsL, Tensor idsG, int layer = DefaultLayer)
    {
        if (clipG.TextProjection is null) throw new ArgumentException("clip_g has no text_projection; SDXL's pooled output needs it", nameof(clipG));
        using var scope = Torch.NewScope();
        // ComfyUI SDXL: layer_norm_hidden_state=False for both; CLIPSetLastLayer moves both to the same layer.
        var l = clipL.Forward(idsL, layer, normalizeHidden: false);
        var g = clipG.Forward(idsG, layer, normalizeHidden: false);
        return new(Combine(l.Hidden, g.Hidden).MoveToOuterScope(), g.Pooled.MoveToOuterScope());
    }

    /// <summary>[B, Tl, dL] and [B, Tg, dG] → [B, min(Tl, Tg), dL + dG] on the clip_l tensor's device.</summary>
    public static Tensor Combine(Tensor hiddenL, Tensor hiddenG)
    {
        if (hiddenL.Dim != 3 || hiddenG.Dim != 3 || hiddenL.Size(0) != hiddenG.Size(0))
            throw new ArgumentException($"hidden states must be [B, T, D] with equal B, got {hiddenL} and {hiddenG}");
        using var scope = Torch.NewScope();
        long n = Math.Min(hiddenL.Size(1), hiddenG.Size(1));
        Tensor g = hiddenG.To(hiddenL.Device, hiddenL.DType);
        return Torch.Cat([hiddenL.Narrow(1, 0, n), g.Narrow(1, 0, n)], -1).MoveToOuterScope();
    }
}

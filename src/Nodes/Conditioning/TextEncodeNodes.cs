using CharacterGen.Diffusion.Conditioning;
using CharacterGen.Diffusion.Models.Clip;
using CharacterGen.Diffusion.Text;
using CharacterGen.GraphRuntime.Contracts;
using CharacterGen.Nodes.ModelCaching;
using CharacterGen.Nodes.Runtime;
using CharacterGen.Nodes.Values;
using CharacterGen.Tensors;

namespace CharacterGen.Nodes.Conditioning;

/// <summary>CLIPTextEncode, CLIPTextEncodeSDXL and CLIPSetLastLayer.</summary>
internal static class TextEncodeNodes
{
    private const long MaxResolution = 16384;

    public static IEnumerable<NodeDefinition> Definitions() => [ClipTextEncode, ClipTextEncodeSdxl, ClipSetLastLayer];

    // ComfyUI nodes_clip_sdxl.CLIPTextEncodeSDXL: separate prompts for clip_g and clip_l plus the ADM sizes.
    private static NodeDefinition ClipTextEncodeSdxl { get; } = new NodeBuilder("CLIPTextEncodeSDXL")
        .Category("advanced/conditioning")
        .Required(InputSpec.Link("clip", IoTypes.Clip))
        .Required(InputSpec.Int("width", 1024, 0, MaxResolution))
        .Required(InputSpec.Int("height", 1024, 0, MaxResolution))
        .Required(InputSpec.Int("crop_w", 0, 0, MaxResolution))
        .Required(InputSpec.Int("crop_h", 0, 0, MaxResolution))
        .Required(InputSpec.Int("target_width", 1024, 0, MaxResolution))
        .Required(InputSpec.Int("target_height", 1024, 0, MaxResolution))
        .Required(InputSpec.String("text_g", "", multiline: true))
        .Required(InputSpec.String("text_l", "", multiline: true))
        .Output(IoTypes.Conditioning)
        .ExecuteTensors((_, i) => NodeOutput.Of(EncodeSdxl(i.Value<ClipValue>("clip"), i.Get<string>("text_g"), i.Get<string>("text_l"),
            new SdxlSizeConditioning(i.Int("width"), i.Int("height"), i.Int("crop_w"), i.Int("crop_h"), i.Int("target_width"),
                i.Int("target_height")))))
        .Build();

    private static NodeDefinition ClipTextEncode { get; } = new NodeBuilder("CLIPTextEncode")
        .DisplayName("CLIP Text Encode (Prompt)").Category("conditioning")
        .Description("Encodes a text prompt using a CLIP model into an embedding that can be used to guide the diffusion model towards generating specific images.")
        .Required(InputSpec.String("text", "", multiline: true) with { Default = null, Tooltip = "The text to be encoded." })
        .Required(InputSpec.Link("clip", IoTypes.Clip) with { Tooltip = "The CLIP model used for encoding the text." })
        .Output(IoTypes.Conditioning, tooltip: "A conditioning containing the embedded text used to guide the diffusion model.")
        .ExecuteTensors((_, i) => NodeOutput.Of(Encode(i.Value<ClipValue>("clip"), i.Get<string>("text"))))
        .Build();

    private static NodeDefinition ClipSetLastLayer { get; } = new NodeBuilder("CLIPSetLastLayer")
        .DisplayName("CLIP Set Last Layer").Category("conditioning")
        .Required(InputSpec.Link("clip", IoTypes.Clip))
        .Required(InputSpec.Int("stop_at_clip_layer", -1, -24, -1, 1))
        .Output(IoTypes.Clip)
        .ExecuteTensors((_, i) => NodeOutput.Of(i.Value<ClipValue>("clip").WithLayer(i.Int("stop_at_clip_layer"))))
        .Build();

    /// <summary>
    /// CLIPTextEncode: SD1/SD2 encode with their one text encoder; SDXL encodes the text with clip_l and clip_g and joins
    /// them (<see cref="EncodeSdxl"/>, no size: the sampler uses the latent's).
    /// </summary>
    public static ConditioningValue Encode(ClipValue clip, string text)
    {
        if (clip.ModelG is not null) return EncodeSdxl(clip, text, text, null);
        var tokenizer = new SDTokenizer(clip.Tokenizer, clip.TokenizerOptions, clip.Embeddings);
        var (cond, pooled) = EncodeChunks(clip, clip.Model, tokenizer, tokenizer.TokenizeWithWeights(text), EmbeddingFolder.ClipL);
        return new ConditioningValue([new ConditioningEntry(cond, pooled)]);
    }

    /// <summary>
    /// SDXL (ComfyUI sdxl_clip + CLIPTextEncodeSDXL): <paramref name="textL"/> through clip_l (padded with the end token),
    /// <paramref name="textG"/> through clip_g (padded with 0); when their chunk counts differ the shorter gets empty-prompt
    /// chunks; the context is [clip_l ‖ clip_g] per token, the pooled output clip_g's (projected).
    /// </summary>
    public static ConditioningValue EncodeSdxl(ClipValue clip, string textG, string textL, SdxlSizeConditioning? size)
    {
        ClipTextModel modelG = clip.ModelG ?? throw new InvalidOperationException("this CLIP is not SDXL's (it has no clip_g)");
        var tokL = new SDTokenizer(clip.Tokenizer, SDTokenizerOptions.ClipL, clip.Embeddings);
        var tokG = new SDTokenizer(clip.Tokenizer, SDTokenizerOptions.ClipG, clip.Embeddings);
        List<TokenChunk> chunksL = [.. tokL.TokenizeWithWeights(textL)], chunksG = [.. tokG.TokenizeWithWeights(textG)];
        while (chunksL.Count < chunksG.Count) chunksL.Add(tokL.EmptyTokens(chunksL[0].Count));
        while (chunksG.Count < chunksL.Count) chunksG.Add(tokG.EmptyTokens(chunksG[0].Count));
        using var scope = Torch.NewScope();
        var (condL, _) = EncodeChunks(clip, clip.Model, tokL, chunksL, EmbeddingFolder.ClipL);
        var (condG, pooledG) = EncodeChunks(clip, modelG, tokG, chunksG, EmbeddingFolder.ClipG);
        Tensor cond = SdxlTextEncoding.Combine(condL, condG).MoveToOuterScope();
        return new ConditioningValue([new ConditioningEntry(cond, pooledG.MoveToOuterScope(), Size: size)]);
    }

    /// <summary>
    /// ComfyUI's encode_token_weights: every 77-token chunk (and, when any token is weighted, the empty prompt) is
    /// encoded in one batch; weighted tokens move away from the empty prompt, z = (z − z_empty)·w + z_empty; the chunks
    /// are joined along the tokens; the pooled output is the first chunk's. Tensors end up float32 on the CPU.
    /// </summary>
    private static (Tensor Cond, Tensor Pooled) EncodeChunks(ClipValue clip, ClipTextModel model, SDTokenizer tokenizer,
        IReadOnlyList<TokenChunk> chunks, string embeddingKey)
    {
        bool weighted = TokenWeighting.HasWeights(chunks);
        var rows = chunks.ToList();
        if (weighted) rows.Add(tokenizer.EmptyTokens(chunks.Max(c => c.Count)));

        clip.PatchedModel(); // this value's LoRA stack onto the shared encoder, in place, before it runs
        ClipTextOutput encoded = Run(model, clip, rows, embeddingKey);
        var parts = new List<Tensor>(chunks.Count);
        Tensor? empty = weighted ? encoded.Hidden.Narrow(0, rows.Count - 1, 1) : null;
        for (int k = 0; k < chunks.Count; k++)
        {
            Tensor z = encoded.Hidden.Narrow(0, k, 1);
            parts.Add(empty is null ? z : TokenWeighting.Apply(z, empty, chunks[k]));
        }
        Tensor cond = Torch.Cat(parts, 1).To(Device.Cpu, DType.Float32).Contiguous();
        Tensor pooled = encoded.Pooled.Narrow(0, 0, 1).To(Device.Cpu, DType.Float32).Contiguous();
        return (cond, pooled);
    }

    private static ClipTextOutput Run(ClipTextModel model, ClipValue clip, List<TokenChunk> rows, string embeddingKey)
    {
        int length = rows[0].Count;
        if (rows.Any(r => r.Count != length)) throw new InvalidOperationException("token chunks differ in length");
        Device device = model.Embeddings.TokenEmbedding.Weight.Value.Device;
        long[] ids = rows.SelectMany(r => r.TokenIds().Select(id => (long)id)).ToArray();
        if (!rows.Any(r => r.HasEmbeddings))
            return model.Forward(Torch.FromArray<long>(ids, [rows.Count, length]).To(device), clip.Layer, clip.NormalizeHidden);

        // Textual inversion: embedding positions take the embedding's vectors instead of a token row.
        long[] pooled = rows.Select(r => (long)Array.IndexOf(r.TokenIds(), r.TokenIds().Max())).ToArray();
        long[] safeIds = ids.Select(id => Math.Max(id, 0)).ToArray();
        Tensor embeddings = model.EmbedTokens(Torch.FromArray<long>(safeIds, [rows.Count, length]).To(device));
        var vectors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        long width = embeddings.Size(2);
        for (int r = 0; r < rows.Count; r++)
            for (int p = 0; p < length; p++)
            {
                if (rows[r][p].Embedding is not { } slot) continue;
                if (!vectors.TryGetValue(slot.Name, out Tensor? v))
                {
                    v = clip.Embeddings!.Vectors(slot.Name, embeddingKey);
                    if (v.Size(1) != width)
                        throw new InvalidOperationException(
                            $"embedding '{slot.Name}' has vectors of width {v.Size(1)}; this text encoder needs {width}");
                    vectors[slot.Name] = v = v.To(device, embeddings.DType);
                }
                embeddings.Select(0, r).Select(0, p).Copy_(v.Select(0, slot.VectorIndex));
            }
        return model.ForwardEmbeddings(embeddings, pooled, clip.Layer, clip.NormalizeHidden);
    }
}

using CharacterGen.Diffusion.Models.Clip;
using CharacterGen.Diffusion.Text;
using CharacterGen.GraphRuntime.Nodes;
using CharacterGen.Nodes.Runtime;
using CharacterGen.Nodes.Values;
using CharacterGen.Tensors;

namespace CharacterGen.Nodes.Conditioning;

/// <summary>CLIPTextEncode and CLIPSetLastLayer.</summary>
internal static class TextEncodeNodes
{
    public static IEnumerable<NodeDefinition> Definitions() => [ClipTextEncode, ClipSetLastLayer];

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
    /// ComfyUI's encode_token_weights: every 77-token chunk (and, when any token is weighted, the empty prompt) is
    /// encoded in one batch; weighted tokens move away from the empty prompt, z = (z − z_empty)·w + z_empty; the chunks
    /// are joined along the tokens; the pooled output is the first chunk's. Tensors end up float32 on the CPU.
    /// </summary>
    public static ConditioningValue Encode(ClipValue clip, string text)
    {
        var tokenizer = new SDTokenizer(clip.Tokenizer, clip.TokenizerOptions, clip.Embeddings);
        IReadOnlyList<TokenChunk> chunks = tokenizer.TokenizeWithWeights(text);
        bool weighted = TokenWeighting.HasWeights(chunks);
        var rows = chunks.ToList();
        if (weighted) rows.Add(tokenizer.EmptyTokens(chunks.Max(c => c.Count)));

        ClipTextModel model = clip.PatchedModel();
        ClipTextOutput encoded = Run(model, clip, rows);
        var parts = new List<Tensor>(chunks.Count);
        Tensor? empty = weighted ? encoded.Hidden.Narrow(0, rows.Count - 1, 1) : null;
        for (int k = 0; k < chunks.Count; k++)
        {
            Tensor z = encoded.Hidden.Narrow(0, k, 1);
            parts.Add(empty is null ? z : TokenWeighting.Apply(z, empty, chunks[k]));
        }
        Tensor cond = Torch.Cat(parts, 1).To(Device.Cpu, DType.Float32).Contiguous();
        Tensor pooled = encoded.Pooled.Narrow(0, 0, 1).To(Device.Cpu, DType.Float32).Contiguous();
        return new ConditioningValue([new ConditioningEntry(cond, pooled)]);
    }

    private static ClipTextOutput Run(ClipTextModel model, ClipValue clip, List<TokenChunk> rows)
    {
        int length = rows[0].Count;
        if (rows.Any(r => r.Count != length)) throw new InvalidOperationException("token chunks differ in length");
        Device device = model.Embeddings.TokenEmbedding.Weight.Value.Device;
        long[] ids = rows.SelectMany(r => r.TokenIds().Select(id => (long)id)).ToArray();
        if (!rows.Any(r => r.HasEmbeddings))
            return model.Forward(Torch.FromArray<long>(ids, [rows.Count, length]).To(device), clip.Layer);

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
                    v = clip.Embeddings!.Vectors(slot.Name);
                    if (v.Size(1) != width)
                        throw new InvalidOperationException(
                            $"embedding '{slot.Name}' has vectors of width {v.Size(1)}; this text encoder needs {width}");
                    vectors[slot.Name] = v = v.To(device, embeddings.DType);
                }
                embeddings.Select(0, r).Select(0, p).Copy_(v.Select(0, slot.VectorIndex));
            }
        return model.ForwardEmbeddings(embeddings, pooled, clip.Layer);
    }
}

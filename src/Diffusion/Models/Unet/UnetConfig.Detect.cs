namespace CharacterGen.Diffusion.Models.Unet;

public sealed partial record UnetConfig
{
    /// <summary>
    /// Reads the configuration from tensor names and shapes under <paramref name="prefix"/>, as ComfyUI's
    /// model_detection.detect_unet_config does: channels from input_blocks.0.0, a level ends at each Downsample
    /// ("op"), channel_mult from each ResBlock's out_layers.3, transformer depth by counting transformer_blocks,
    /// context_dim from attn2.to_k, linear projections from proj_in's rank. Heads are not in the weights: as ComfyUI's
    /// SD1 vs SD2 model configs, conv projections (SD1) get 8 heads, linear ones (SD2, SDXL) 64-wide heads. adm_in_channels
    /// comes from label_emb.0.0 (SDXL).
    /// </summary>
    public static UnetConfig Detect(IReadOnlyDictionary<string, long[]> shapes, string prefix = "model.diffusion_model.")
    {
        long[] Shape(string key) => shapes.TryGetValue(prefix + key, out long[]? s) ? s
            : throw new InvalidDataException($"UNet weight '{prefix + key}' is missing");
        bool Has(string key) => shapes.ContainsKey(prefix + key);
        bool AnyUnder(string key) => shapes.Keys.Any(k => k.StartsWith(prefix + key, StringComparison.Ordinal));
        int Depth(string block)
        {
            int d = 0;
            while (Has($"{block}transformer_blocks.{d}.norm1.weight")) d++;
            return d;
        }

        long[] convIn = Shape("input_blocks.0.0.weight");
        int mc = (int)convIn[0];
        var mults = new List<int>();
        var depths = new List<int>();
        var resCounts = new List<int>();
        int res = 0, mult = 0, depth = -1;
        int? contextDim = null;
        bool? linear = null;
        void CloseLevel()
        {
            if (res == 0) throw new InvalidDataException($"UNet level {mults.Count} has no ResBlock");
            mults.Add(mult);
            depths.Add(depth);
            resCounts.Add(res);
            (res, mult, depth) = (0, 0, -1);
        }

        for (int i = 1; AnyUnder($"input_blocks.{i}."); i++)
        {
            string block = $"input_blocks.{i}.";
            if (Has(block + "0.op.weight"))
            {
                CloseLevel();
                continue;
            }
            res++;
            mult = (int)(Shape(block + "0.out_layers.3.weight")[0] / mc);
            int d = Depth(block + "1.");
            if (depth >= 0 && d != depth)
                throw new InvalidDataException($"UNet level {mults.Count} mixes transformer depths {depth} and {d}");
            depth = d;
            if (d > 0)
            {
                contextDim ??= (int)Shape(block + "1.transformer_blocks.0.attn2.to_k.weight")[1];
                linear ??= Shape(block + "1.proj_in.weight").Length == 2;
            }
        }
        CloseLevel();
        if (resCounts.Distinct().Count() != 1)
            throw new InvalidDataException($"UNet levels have different ResBlock counts [{string.Join(",", resCounts)}]");

        int middle = Depth("middle_block.1.");
        if (middle > 0)
        {
            contextDim ??= (int)Shape("middle_block.1.transformer_blocks.0.attn2.to_k.weight")[1];
            linear ??= Shape("middle_block.1.proj_in.weight").Length == 2;
        }
        if (contextDim is null || linear is null) throw new InvalidDataException("the UNet has no cross-attention blocks");
        return new UnetConfig
        {
            InChannels = (int)convIn[1],
            // A ControlNet's encoder copy has no output layer: its out_channels do not matter.
            OutChannels = Has("out.2.weight") ? (int)Shape("out.2.weight")[0] : (int)convIn[1],
            ModelChannels = mc,
            ChannelMult = [.. mults],
            NumResBlocks = resCounts[0],
            TransformerDepth = [.. depths],
            TransformerDepthMiddle = middle,
            ContextDim = contextDim.Value,
            NumHeads = linear.Value ? -1 : 8,
            NumHeadChannels = linear.Value ? 64 : -1,
            UseLinearInTransformer = linear.Value,
            AdmInChannels = Has("label_emb.0.0.weight") ? (int)Shape("label_emb.0.0.weight")[1] : null,
        };
    }
}

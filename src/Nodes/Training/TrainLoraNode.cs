using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using CharacterGen.Diffusion.Checkpoints;
using CharacterGen.Diffusion.Conditioning;
using CharacterGen.Diffusion.Lora;
using CharacterGen.Diffusion.Sampling;
using CharacterGen.Diffusion.Text;
using CharacterGen.Diffusion.Training;
using CharacterGen.GraphRuntime.Contracts;
using CharacterGen.Nodes.Runtime;
using CharacterGen.Nodes.Values;
using CharacterGen.Tensors;
using CharacterGen.Tensors.Optim;

namespace CharacterGen.Nodes.Training;

/// <summary>
/// ComfyUI's TrainLoraNode (comfy_extras/nodes_train.py) with its inputs, outputs and defaults, trained by
/// <see cref="LoraTrainer"/>. Beyond ComfyUI (optional inputs, defaults keep its behaviour where it is sound): which
/// layers get LoRA, alpha, the loss weighting (kohya's uniform ε/v-MSE by default, or ComfyUI's x₀ loss), LR schedule
/// and warm-up, gradient clipping, resumable checkpoints under output/training/, and (with a CLIP and the captions) a
/// LoRA on the SD1.x text encoder too. Every optimizer step reports
/// progress with its loss, smoothed loss, learning rate, images/s and ETA. See src/Nodes/README.md for the differences.
/// </summary>
internal static class TrainLoraNode
{
    private const string NoLora = "[None]";

    public static IEnumerable<NodeDefinition> Definitions(NodeFolders folders) => [Train(folders)];

    private static NodeDefinition Train(NodeFolders folders) => new NodeBuilder("TrainLoraNode")
        .DisplayName("Train LoRA").Category("training").Experimental().InputIsList()
        .Required(InputSpec.Link("model", IoTypes.Model) with { Tooltip = "The model to train the LoRA on." })
        .Required(InputSpec.Link("latents", IoTypes.Latent) with { Tooltip = "The Latents to use for training, serve as dataset/input of the model." })
        .Required(InputSpec.Link("positive", IoTypes.Conditioning) with { Tooltip = "The positive conditioning to use for training." })
        .Required(InputSpec.Int("batch_size", 1, 1, 10000) with { Tooltip = "The batch size to use for training." })
        .Required(InputSpec.Int("grad_accumulation_steps", 1, 1, 1024) with { Tooltip = "The number of gradient accumulation steps to use for training." })
        .Required(InputSpec.Int("steps", 16, 1, 100000) with { Tooltip = "The number of steps to train the LoRA for." })
        .Required(InputSpec.Float("learning_rate", 0.0005, 0.0000001, 1.0, 0.0000001) with { Tooltip = "The learning rate to use for training." })
        .Required(InputSpec.Int("rank", 8, 1, 128) with { Tooltip = "The rank of the LoRA layers." })
        .Required(InputSpec.Combo("optimizer", ["AdamW"], "AdamW") with { Tooltip = "The optimizer to use for training (AdamW with torch's defaults)." })
        .Required(InputSpec.Combo("loss_function", ["MSE", "L1", "Huber", "SmoothL1"], "MSE") with { Tooltip = "The loss function to use for training." })
        .Required(InputSpec.Seed() with { Tooltip = "The seed to use for training (used in generator for LoRA weight initialization and noise sampling)" })
        .Required(InputSpec.Combo("training_dtype", ["bf16", "fp32"], "bf16") with { Tooltip = "The dtype to use for training (CharacterGen computes in the model's weight dtype)." })
        .Required(InputSpec.Combo("lora_dtype", ["bf16", "fp32"], "bf16") with { Tooltip = "The dtype to use for lora (CharacterGen keeps float32 LoRA weights)." })
        .Required(InputSpec.Combo("algorithm", ["LoRA"], "LoRA") with { Tooltip = "The algorithm to use for training." })
        .Required(InputSpec.Boolean("gradient_checkpointing", true) with { Tooltip = "Use gradient checkpointing for training: recompute each UNet block in the backward pass instead of keeping its activations (less memory, slower; same results)." })
        .Required(InputSpec.Combo("existing_lora", () => [.. folders.Models.List("loras"), NoLora]) with { Tooltip = "The existing LoRA to append to. Set to None for new LoRA." })
        .Optional(InputSpec.Boolean("bucket_mode", false) with { Tooltip = "Batches are always formed within a resolution bucket here." })
        .Optional(InputSpec.Combo("lora_targets", ["all", "transformer", "attention"], "all") with
        {
            Tooltip = "Layers that get LoRA: every Linear/Conv2d (ComfyUI), kohya's transformer layers, or only to_q/to_k/to_v/to_out.0.",
        })
        .Optional(InputSpec.Float("alpha", 1.0, 0.0001, 1024.0, 0.01) with { Tooltip = "LoRA alpha; the update is scaled by alpha / rank (ComfyUI: 1.0)." })
        .Optional(InputSpec.Combo("loss_weighting", ["epsilon", "x0"], "epsilon") with
        {
            Tooltip = "epsilon: compare the network's ε (or v) prediction with its target, every timestep weighted alike (kohya). x0: compare the denoised x̂₀ with x₀, a σ²-weighted ε-loss (ComfyUI).",
        })
        .Optional(InputSpec.Combo("lr_schedule", ["constant", "cosine", "linear"], "constant"))
        .Optional(InputSpec.Int("warmup_steps", 0, 0, 100000))
        .Optional(InputSpec.Float("max_grad_norm", 0.0, 0.0, 1000.0, 0.01) with { Tooltip = "Clip the gradients' global norm to this (0: off; kohya uses 1.0)." })
        .Optional(InputSpec.Int("checkpoint_every", 50, 0, 100000) with { Tooltip = "Write a resumable checkpoint every N steps to output/training/ (0: never)." })
        .Optional(InputSpec.Combo("mixed_precision", ["no", "bf16"], "no") with
        {
            Tooltip = "bf16: run the UNet's forward under bf16 autocast (float32 weights and LoRA; faster on CPUs with AVX512-BF16/AMX and on CUDA).",
        })
        .Optional(InputSpec.Link("clip", IoTypes.Clip) with
        {
            Tooltip = "Also train a LoRA on this text encoder (SD1.x; kohya's lora_te_ layers), from the captions in 'texts'. The model output carries only the UNet part; save the LoRA and load it with LoraLoader to use both.",
        })
        .Optional(InputSpec.Link("texts", IoTypes.String) with { Tooltip = "The captions the text encoder trains on: one per image, or one for all (needed with 'clip')." })
        .Optional(InputSpec.Float("text_encoder_learning_rate", 0.0, 0.0, 1.0, 0.0000001) with { Tooltip = "The text encoder LoRA's learning rate (0: the learning rate)." })
        .Output(IoTypes.Model, "model", tooltip: "Model with LoRA applied")
        .Output(LoraModelValue.Type, "lora", tooltip: "LoRA weights")
        .Output(LossMapValue.Type, "loss_map", tooltip: "Loss history")
        .Output(IoTypes.Int, "steps", tooltip: "Total training steps")
        .ExecuteTensors((ctx, i) => Run(ctx, i, folders))
        .Build();

    private static T First<T>(NodeInputs i, string name, T fallback) =>
        i.Contains(name) && i[name] is IReadOnlyList<object?> { Count: > 0 } list && list[0] is { } v
            ? v is T t ? t : (T)Convert.ChangeType(v, typeof(T), CultureInfo.InvariantCulture)
            : fallback;

    private static NodeOutput Run(NodeContext ctx, NodeInputs i, NodeFolders folders)
    {
        var model = (ModelValue)i.GetList("model")[0]!;
        string existing = First(i, "existing_lora", NoLora);
        int steps = (int)First(i, "steps", 16L);
        var options = new LoraTrainingOptions
        {
            Steps = steps,
            BatchSize = (int)First(i, "batch_size", 1L),
            GradientAccumulationSteps = (int)First(i, "grad_accumulation_steps", 1L),
            LearningRate = First(i, "learning_rate", 0.0005),
            Rank = (int)First(i, "rank", 8L),
            Alpha = First(i, "alpha", 1.0),
            Seed = i.GetList("seed")[0] switch { ulong u => u, long l => unchecked((ulong)l), var v => Convert.ToUInt64(v, CultureInfo.InvariantCulture) },
            LossFunction = First(i, "loss_function", "MSE") switch
            {
                "L1" => LossFunction.L1,
                "Huber" => LossFunction.Huber,
                "SmoothL1" => LossFunction.SmoothL1,
                _ => LossFunction.Mse,
            },
            LossWeighting = First(i, "loss_weighting", "epsilon") == "x0" ? LossWeighting.DenoisedX0 : LossWeighting.Uniform,
            Targets = First(i, "lora_targets", "all") switch
            {
                "attention" => LoraTargets.Attention,
                "transformer" => LoraTargets.Transformer,
                _ => LoraTargets.All,
            },
            Schedule = Enum.Parse<LearningRateDecay>(First(i, "lr_schedule", "constant"), ignoreCase: true),
            WarmupSteps = (int)First(i, "warmup_steps", 0L),
            MaxGradNorm = First(i, "max_grad_norm", 0.0),
            CheckpointEvery = (int)First(i, "checkpoint_every", 50L),
            GradientCheckpointing = First(i, "gradient_checkpointing", true),
            MixedPrecision = First(i, "mixed_precision", "no") == "bf16" ? MixedPrecision.Bf16 : MixedPrecision.No,
        };
        ClipValue? clip = i.Contains("clip") ? i.GetList("clip").OfType<ClipValue>().FirstOrDefault() : null;
        if (clip is not null)
        {
            if (clip.ModelG is not null || model.Unet.Config.AdmInChannels is not null)
                throw new ArgumentException("text-encoder LoRA training supports SD1.x checkpoints only; disconnect 'clip' to train the UNet alone");
            double teRate = First(i, "text_encoder_learning_rate", 0.0);
            options = options with { TrainTextEncoder = true, TextEncoderLearningRate = teRate > 0 ? teRate : null, TextEncoderLayer = clip.Layer };
        }

        List<TrainingSample> samples = Samples(model, i.GetList("latents").Cast<LatentValue>().ToList(),
            i.GetList("positive").Cast<ConditioningValue>().ToList(), clip is null ? null : Captions(clip, i));
        try
        {
            string identity = Identity(model, samples, existing, clip);
            string runHash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(identity + "|" + options.Fingerprint())))[..24];
            string checkpoint = Path.Combine(folders.Data.Output, "training", $"lora_{runHash}.ckpt.safetensors");
            ModelFamily family = model.Unet.Config.AdmInChannels is null ? ModelFamily.SD1Checkpoint : ModelFamily.SDXLCheckpoint;
            PredictionType prediction = model.ModelSampling.Parameterization == Parameterization.VPrediction
                ? PredictionType.VPrediction : PredictionType.Epsilon;

            using LoraFile? initial = existing == NoLora ? null : LoraFile.Load(folders.Models.Resolve("loras", existing));
            TrainedLora trained;
            using (Autograd.EnableGrad())
                trained = new LoraTrainer(model.PatchedUnet(), family, prediction, samples, options, clip?.PatchedModel()).Train(identity, checkpoint,
                    p => ctx.ReportProgress(p.Step, p.TotalSteps, p.ToFields()), ctx.CancellationToken, initial?.Tensors);

            var lora = new LoraModelValue(trained, "trained:" + runHash);
            try
            {
                ModelValue trainedModel;
                using (LoraFile view = lora.ToLoraFile())
                using (LoraPatches patches = LoraMapper.Map(view, "trained LoRA", model.Unet, null, Path.GetFileName(model.Path)))
                    trainedModel = model.WithLora(patches.Only(LoraTarget.Unet), 1.0);
                int total = steps + ExistingSteps(existing);
                return NodeOutput.Of(trainedModel, lora, new LossMapValue(trained.Losses), (long)total);
            }
            catch
            {
                lora.Dispose();
                throw;
            }
        }
        finally
        {
            samples.ForEach(s => s.Dispose());
        }
    }

    // The token ids of each caption (one 77-token chunk, as kohya's default max_token_length), for text-encoder training.
    private static List<long[]> Captions(ClipValue clip, NodeInputs i)
    {
        List<string> texts = i.Contains("texts") ? i.GetList("texts").Select(t => t as string ?? "").ToList() : [];
        if (texts.Count == 0) throw new ArgumentException("training the text encoder ('clip' connected) needs the captions in 'texts'");
        var tokenizer = new SDTokenizer(clip.Tokenizer, clip.TokenizerOptions, clip.Embeddings);
        var ids = new List<long[]>();
        for (int n = 0; n < texts.Count; n++)
        {
            IReadOnlyList<TokenChunk> chunks = tokenizer.TokenizeWithWeights(texts[n]);
            if (chunks.Count > 1) throw new ArgumentException($"caption {n + 1} is longer than one 77-token chunk; text-encoder training uses one chunk per caption");
            int[] tokens = chunks[0].TokenIds();
            if (tokens.Any(t => t < 0)) throw new ArgumentException($"caption {n + 1} uses a textual-inversion embedding, which text-encoder training cannot learn through");
            ids.Add([.. tokens.Select(t => (long)t)]);
        }
        return ids;
    }

    // One sample per latent row; the conditioning list pairs with it (or a single one serves all), as ComfyUI; so do the
    // captions' token ids when the text encoder trains.
    private static List<TrainingSample> Samples(ModelValue model, List<LatentValue> latents, List<ConditioningValue> positive,
        List<long[]>? captions)
    {
        var rows = latents.SelectMany(l => Enumerable.Range(0, (int)l.Samples.Size(0)).Select(b => l.Samples.Select(0, b))).ToList();
        var conds = positive.SelectMany(c => c.Entries).ToList();
        if (conds.Count == 1 && rows.Count > 1) conds = Enumerable.Repeat(conds[0], rows.Count).ToList();
        if (conds.Count != rows.Count)
            throw new ArgumentException($"Number of positive conditions ({conds.Count}) does not match number of images ({rows.Count}).");
        if (captions is { Count: 1 } && rows.Count > 1) captions = Enumerable.Repeat(captions[0], rows.Count).ToList();
        if (captions is not null && captions.Count != rows.Count)
            throw new ArgumentException($"Number of texts ({captions.Count}) does not match number of images ({rows.Count}).");
        bool sdxl = model.Unet.Config.AdmInChannels is not null;
        var samples = new List<TrainingSample>();
        try
        {
            for (int n = 0; n < rows.Count; n++)
            {
                using var scope = Torch.NewScope();
                Tensor latent = model.LatentFormat.ProcessIn(rows[n].To(DType.Float32));
                ConditioningEntry c = conds[n];
                Tensor? adm = null;
                if (sdxl)
                {
                    Tensor pooled = c.Pooled ?? throw new InvalidOperationException("an SDXL conditioning needs a pooled output (encode it with an SDXL CLIP)");
                    SdxlSizeConditioning size = c.Size ?? SdxlSizeConditioning.ForLatent(latent.Size(2), latent.Size(1));
                    adm = size.AdmVector(pooled.Reshape(1, -1)).Reshape(-1);
                }
                Tensor? tokens = captions is null ? null : Torch.FromArray<long>(captions[n], [captions[n].Length]);
                samples.Add(new TrainingSample(latent.Contiguous(), c.Cond.Select(0, 0).To(DType.Float32).Contiguous(), adm?.Contiguous(), tokens));
            }
            return samples;
        }
        catch
        {
            samples.ForEach(s => s.Dispose());
            throw;
        }
    }

    // What the run trains on: the base model, its LoRA stack, the starting LoRA, and every latent and embedding byte
    // (and the text encoder, its stack and the caption tokens when it trains too).
    private static string Identity(ModelValue model, List<TrainingSample> samples, string existing, ClipValue? clip)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(Encoding.UTF8.GetBytes($"{Path.GetFileName(model.Path)}|{string.Join(",", model.Loras.Select(l => $"{l.Lora.Identity}:{l.Strength:R}"))}|{existing}"));
        if (clip is not null)
            hash.AppendData(Encoding.UTF8.GetBytes($"|te:{clip}|{string.Join(",", clip.Loras.Select(l => $"{l.Lora.Identity}:{l.Strength:R}"))}"));
        foreach (TrainingSample s in samples)
            foreach (Tensor? t in new[] { s.Latent, s.Context, s.Adm, s.Tokens })
                if (t is not null) hash.AppendData(t.ToBytes());
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    // ComfyUI: "…_<N>_steps_…" in the existing LoRA's file name counts as already trained steps.
    private static int ExistingSteps(string existing)
    {
        if (existing == NoLora) return 0;
        int at = existing.IndexOf("_steps_", StringComparison.Ordinal);
        if (at < 0) return 0;
        string head = existing[..at];
        return int.TryParse(head[(head.LastIndexOf('_') + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out int n) ? n : 0;
    }
}

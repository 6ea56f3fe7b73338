using System.Diagnostics;
using CharacterGen.Diffusion.Checkpoints;
using CharacterGen.Diffusion.Models.Clip;
using CharacterGen.Diffusion.Models.Unet;
using CharacterGen.Diffusion.Models.Vae;
using CharacterGen.Diffusion.RandomWeights;
using CharacterGen.Diffusion.Sampling;
using CharacterGen.Diffusion.Text;
using CharacterGen.Tensors;
using CharacterGen.Tensors.Safetensors;

namespace CharacterGen.Diffusion.DemoModel;

/// <summary>Where a built demo model lies, and whether this call trained it or found it built.</summary>
public sealed record DemoModelFiles(string Checkpoint, string TokenizerFolder, string RecipeHash, bool Cached, TimeSpan Elapsed);

/// <summary>
/// Builds the demo model into a models folder: draws the shapes dataset, trains the VAE, encodes the latents, trains the
/// UNet against a frozen random CLIP, and writes checkpoints/demo-shapes.safetensors (the real SD1 single-file layout,
/// configuration in __metadata__) with its tokenizer in demo-shapes.tokenizer/. A stamp beside the checkpoint records the
/// recipe hash; when it matches, nothing is trained again. Files are written atomically, the stamp last, and a lock file
/// keeps two processes from building the same folder at once.
/// </summary>
public static class DemoModelBuilder
{
    public const string CheckpointName = "demo-shapes.safetensors";

    /// <summary>Beside the model folders (not inside one, so no loader lists it): trained stages reused across recipes.</summary>
    public const string StageFolder = "demo-model-stages";

    public static string CheckpointPath(string modelsFolder) => Path.Combine(Path.GetFullPath(modelsFolder), "checkpoints", CheckpointName);

    public static DemoModelFiles Build(string modelsFolder, ulong seed = 0, DemoModelRecipe? recipe = null, Action<string>? log = null)
    {
        recipe ??= DemoModelRecipe.Default;
        var clock = Stopwatch.StartNew();
        string checkpoint = CheckpointPath(modelsFolder);
        string tokenizer = Path.Combine(Path.GetDirectoryName(checkpoint)!, Path.GetFileNameWithoutExtension(checkpoint) + ".tokenizer");
        string stamp = checkpoint + ".recipe";
        string hash = recipe.Hash(seed);
        Directory.CreateDirectory(Path.GetDirectoryName(checkpoint)!);
        using FileStream held = AcquireLock(checkpoint + ".lock");
        if (IsBuilt(checkpoint, tokenizer, stamp, hash)) return new(checkpoint, tokenizer, hash, Cached: true, clock.Elapsed);

        File.Delete(stamp);
        ClipVocabulary vocabulary = DemoVocabulary.Build();
        CheckpointConfig config = new()
        {
            Family = "sd1", Prediction = PredictionType.Epsilon, Unet = recipe.Unet,
            Clip = recipe.Clip with { VocabSize = vocabulary.Count }, Vae = recipe.Vae,
        };
        using (Torch.NewScope()) Train(checkpoint, config, vocabulary, recipe, seed, log);

        string staging = tokenizer + ".tmp-" + Environment.ProcessId;
        if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
        vocabulary.WriteFiles(staging);
        if (Directory.Exists(tokenizer)) Directory.Delete(tokenizer, recursive: true);
        Directory.Move(staging, tokenizer);
        string stampTemp = stamp + ".tmp-" + Environment.ProcessId;
        File.WriteAllText(stampTemp, hash + "\n");
        File.Move(stampTemp, stamp, overwrite: true);
        log?.Invoke($"built in {clock.Elapsed.TotalSeconds:F0} s");
        return new(checkpoint, tokenizer, hash, Cached: false, clock.Elapsed);
    }

    private static void Train(string checkpoint, CheckpointConfig config, ClipVocabulary vocabulary, DemoModelRecipe recipe,
        ulong seed, Action<string>? log)
    {
        var clock = Stopwatch.StartNew();
        using var vae = new AutoencoderKL(config.Vae!);
        using var clip = new ClipTextModel(config.Clip!);
        using var unet = new UnetModel(config.Unet!);
        using var average = new UnetModel(config.Unet!);
        TrainingInit.Initialize(vae, seed + 1, zeroResidualOutputs: false);
        TestCheckpoints.Initialize(clip, seed + 2);
        TrainingInit.Initialize(unet, seed + 3);

        // Stage 1: the VAE, on freshly drawn scenes (a separate stream of scene indices from the UNet's). Kept beside the
        // model under its own hash, so a recipe that changes only the UNet stage does not train the VAE again.
        string vaeStage = Path.Combine(Path.GetDirectoryName(Path.GetDirectoryName(checkpoint)!)!, StageFolder,
            $"vae-{recipe.VaeHash(seed)}.safetensors");
        if (File.Exists(vaeStage))
        {
            using SafetensorsFile file = SafetensorsFile.Open(vaeStage);
            vae.Load((name, _) => file.LoadTensor(name));
            log?.Invoke($"vae stage reused from {vaeStage}");
        }
        else
        {
            long drawn = 1L << 40;
            var crops = new DemoRandom(seed + 6);
            VaeTraining.Train(vae, recipe.VaeTraining,
                (_, batch) => Crops(Images(Enumerable.Range(0, batch).Select(_ => ShapeDataset.Scene(seed, drawn++))), recipe.VaeTraining.CropSize, crops),
                seed + 4, Every(log, recipe.VaeTraining.Steps, "vae"));
            Directory.CreateDirectory(Path.GetDirectoryName(vaeStage)!);
            SafetensorsTensors.Save(vaeStage, vae.NamedParameters().Select(p => KeyValuePair.Create(p.Key, p.Value.Value)));
            log?.Invoke($"vae trained in {clock.Elapsed.TotalSeconds:F0} s");
        }

        // Stage 2: latents (normalised to SD's scale) and text embeddings, cached once.
        var scenes = ShapeDataset.Scenes(seed, int.MaxValue).Where(s => !recipe.IsHeldOut(s)).Take(recipe.LatentImages).ToList();
        Tensor means = Encode(vae, scenes);
        var (mean, scale) = VaeTraining.NormalizeLatents(vae, means);
        // What the rewritten encoder now gives, without encoding every picture again: k·(μ − m), times SD's 0.18215.
        Tensor latents = (means - Torch.FromArray(mean).Reshape(1, mean.Length, 1, 1)) * (scale * LatentFormat.SD15.ScaleFactor);
        var captionRows = new Dictionary<string, int>(StringComparer.Ordinal) { [""] = 0 };
        int[] captionOf = scenes.Select(s => captionRows.TryGetValue(s.Caption, out int row) ? row : captionRows[s.Caption] = captionRows.Count).ToArray();
        Tensor captions = EncodeText(clip, vocabulary, captionRows.OrderBy(p => p.Value).Select(p => p.Key).ToList());
        log?.Invoke($"{scenes.Count} latents (scale {scale:F3}), {captionRows.Count} captions");

        // Stage 3: the UNet.
        clock.Restart();
        UnetTraining.Train(unet, average, recipe.UnetTraining, latents, captions, captionOf, seed + 5,
            Every(log, recipe.UnetTraining.Steps, "unet"));
        log?.Invoke($"unet trained in {clock.Elapsed.TotalSeconds:F0} s");

        var tensors = new List<KeyValuePair<string, Tensor>>();
        tensors.AddRange(average.NamedParameters(CheckpointLoader.UnetPrefix).Select(p => KeyValuePair.Create(p.Key, p.Value.Value)));
        tensors.AddRange(clip.NamedParameters(CheckpointLoader.ClipPrefix).Select(p => KeyValuePair.Create(p.Key, p.Value.Value)));
        tensors.AddRange(vae.NamedParameters(CheckpointLoader.VaePrefix).Select(p => KeyValuePair.Create(p.Key, p.Value.Value)));
        SafetensorsTensors.Save(checkpoint, tensors, new Dictionary<string, string>
        {
            [CheckpointConfig.MetadataKey] = config.ToJson(),
            ["charactergen.demo_model"] = $"shapes demo model, recipe {recipe.Hash(seed)}, seed {seed}",
        });
    }

    /// <summary>Posterior means [N, 4, 8, 8] of the scenes, encoded in batches.</summary>
    private static Tensor Encode(AutoencoderKL vae, IReadOnlyList<ShapeScene> scenes)
    {
        using var scope = Torch.NewScope();
        using var noGrad = Autograd.NoGrad();
        var parts = new List<Tensor>();
        for (int i = 0; i < scenes.Count; i += 64)
            parts.Add(vae.Encode(Images(scenes.Skip(i).Take(64))));
        return Torch.Cat(parts, 0).MoveToOuterScope();
    }

    /// <summary>[K, 77, D] last-layer CLIP states of each caption, tokenized as CLIPTextEncode does (SD1: padded with the end token).</summary>
    private static Tensor EncodeText(ClipTextModel clip, ClipVocabulary vocabulary, IReadOnlyList<string> captions)
    {
        using var scope = Torch.NewScope();
        using var noGrad = Autograd.NoGrad();
        var tokenizer = new SDTokenizer(new ClipTokenizer(vocabulary), SDTokenizerOptions.ClipL);
        var ids = captions.SelectMany(c => tokenizer.TokenizeWithWeights(c).Single().TokenIds().Select(id => (long)id)).ToArray();
        Tensor tokens = Torch.FromArray<long>(ids, [captions.Count, ids.Length / captions.Count]);
        return clip.Forward(tokens).Hidden.MoveToOuterScope();
    }

    private static Tensor Images(IEnumerable<ShapeScene> scenes)
    {
        var list = scenes.ToList();
        float[] data = list.SelectMany(s => s.Render()).ToArray();
        return Torch.FromArray<float>(data, [list.Count, 3, ShapeScene.Size, ShapeScene.Size]);
    }

    // One crop per picture at offsets on the 8-pixel latent grid.
    private static Tensor Crops(Tensor images, int size, DemoRandom random)
    {
        if (size >= ShapeScene.Size) return images;
        int positions = (ShapeScene.Size - size) / 8 + 1;
        var rows = new List<Tensor>();
        for (int i = 0; i < images.Size(0); i++)
            rows.Add(images.Narrow(0, i, 1).Narrow(2, 8 * random.Next(positions), size).Narrow(3, 8 * random.Next(positions), size));
        return Torch.Cat(rows, 0);
    }

    private static Action<int, double>? Every(Action<string>? log, int steps, string stage)
    {
        if (log is null) return null;
        int every = Math.Max(1, steps / 10);
        var clock = Stopwatch.StartNew();
        double sum = 0;
        int count = 0;
        return (step, loss) =>
        {
            sum += loss;
            count++;
            if ((step + 1) % every != 0 && step + 1 != steps) return;
            log($"{stage} step {step + 1}/{steps} loss {sum / count:F4} ({clock.Elapsed.TotalSeconds:F0} s)");
            sum = 0;
            count = 0;
        };
    }

    private static bool IsBuilt(string checkpoint, string tokenizer, string stamp, string hash) =>
        File.Exists(stamp) && File.ReadAllText(stamp).Trim() == hash && File.Exists(checkpoint)
        && File.Exists(Path.Combine(tokenizer, ClipTokenizer.VocabFileName)) && File.Exists(Path.Combine(tokenizer, ClipTokenizer.MergesFileName));

    // An exclusive lock file: a second process building the same folder waits, then finds the model built.
    private static FileStream AcquireLock(string path)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (deadline.Elapsed < TimeSpan.FromMinutes(30))
            {
                Thread.Sleep(500);
            }
        }
    }
}

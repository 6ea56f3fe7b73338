using CharacterGen.Diffusion.Checkpoints;
using CharacterGen.Diffusion.Text;
using CharacterGen.GraphRuntime.Contracts;
using CharacterGen.Nodes.ModelCaching;
using CharacterGen.Nodes.Runtime;
using CharacterGen.Nodes.Values;

namespace CharacterGen.Nodes.Loaders;

/// <summary>CheckpointLoaderSimple, CheckpointLoader and VAELoader: handles to weights held by the <see cref="ModelCache"/>.</summary>
internal static class LoaderNodes
{
    public static IEnumerable<NodeDefinition> Definitions(NodeFolders folders) =>
        [CheckpointLoaderSimple(folders), CheckpointLoader(folders), VaeLoader(folders)];

    private static NodeDefinition CheckpointLoaderSimple(NodeFolders folders) => new NodeBuilder("CheckpointLoaderSimple")
        .DisplayName("Load Checkpoint").Category("loaders")
        .Description("Loads a diffusion model checkpoint; diffusion models are used to denoise latents.")
        .Required(ModelCombo.Of("ckpt_name", "checkpoints", folders.Models, () => Checkpoints(folders)) with { Tooltip = "The name of the checkpoint (model) to load." })
        .Output(IoTypes.Model).Output(IoTypes.Clip).Output(IoTypes.Vae)
        .ExecuteTensors((ctx, i) => LoadOrAlias(ctx, folders, i.Get<string>("ckpt_name")))
        .Build();

    // ComfyUI applies the yaml's parameterization and clip layer; our checkpoints carry what detection needs, so the
    // config is accepted (and must exist, as in ComfyUI's validation) but not read.
    private static NodeDefinition CheckpointLoader(NodeFolders folders) => new NodeBuilder("CheckpointLoader")
        .DisplayName("Load Checkpoint With Config (DEPRECATED)").Category("advanced/loaders").Deprecated()
        .Required(InputSpec.Combo("config_name", () => Configs(folders)))
        .Required(ModelCombo.Of("ckpt_name", "checkpoints", folders.Models, () => Checkpoints(folders)))
        .Output(IoTypes.Model).Output(IoTypes.Clip).Output(IoTypes.Vae)
        .ExecuteTensors((ctx, i) => LoadOrAlias(ctx, folders, i.Get<string>("ckpt_name")))
        .Build();

    private static NodeDefinition VaeLoader(NodeFolders folders) => new NodeBuilder("VAELoader")
        .DisplayName("Load VAE").Category("loaders")
        .Required(ModelCombo.Of("vae_name", "vae", folders.Models))
        .Output(IoTypes.Vae)
        .ExecuteTensors((ctx, i) =>
        {
            string path = folders.Models.Resolve("vae", i.Get<string>("vae_name"));
            return NodeOutput.Of(VaeValue.FromFile(ctx.GetRequiredService<ModelCache>().Vae(path)));
        })
        .Build();

    /// <summary>Checkpoint files, then alias names (which never end in a weight extension, so never collide).</summary>
    private static IReadOnlyList<string> Checkpoints(NodeFolders folders) =>
        [.. folders.Models.List("checkpoints"), .. folders.Aliases.Names];

    private static NodeOutput LoadOrAlias(NodeContext ctx, NodeFolders folders, string name)
    {
        if (!folders.Aliases.TryGet(name, out ModelAlias alias)) return Load(ctx, folders, name);
        NodeOutput loaded;
        try { loaded = Load(ctx, folders, alias.Checkpoint); }
        catch (FileNotFoundException e) { throw new FileNotFoundException($"model alias '{alias.Name}': {e.Message}", e); }
        return ModelAliasLoras.Apply(folders, alias, loaded);
    }

    private static NodeOutput Load(NodeContext ctx, NodeFolders folders, string name)
    {
        var cache = ctx.GetRequiredService<ModelCache>();
        string path = folders.Models.Resolve("checkpoints", name);
        string modelsRoot = folders.Models.Root;
        using ModelLease<StableDiffusionCheckpoint> lease = cache.Checkpoint(path);
        var tokenizer = new Lazy<ClipTokenizer>(() => cache.TokenizerFor(path, modelsRoot), LazyThreadSafetyMode.PublicationOnly);
        var made = new List<IDisposable>();
        try
        {
            if (lease.Value.Unet is not null) made.Add(new ModelValue(lease.Share()));
            if (lease.Value.Clip is not null)
                made.Add(new ClipValue(lease.Share(), tokenizer, lease.Value.DefaultClipLayer, new EmbeddingFolder(folders.Models)));
            if (lease.Value.Vae is not null) made.Add(VaeValue.FromCheckpoint(lease.Share()));
        }
        catch
        {
            foreach (IDisposable d in made) d.Dispose();
            throw;
        }
        // ComfyUI returns None for a part the file lacks; a node that needs it then fails with a clear message.
        return NodeOutput.Of(made.OfType<ModelValue>().FirstOrDefault(), made.OfType<ClipValue>().FirstOrDefault(),
            made.OfType<VaeValue>().FirstOrDefault());
    }

    private static IReadOnlyList<string> Configs(NodeFolders folders)
    {
        string dir = Path.Combine(folders.Models.Root, "configs");
        if (!Directory.Exists(dir)) return [];
        return Directory.EnumerateFiles(dir, "*.yaml", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(dir, f).Replace('\\', '/'))
            .Order(StringComparer.Ordinal).ToArray();
    }
}

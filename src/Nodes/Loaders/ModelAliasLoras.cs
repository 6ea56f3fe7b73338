using CharacterGen.GraphRuntime.Contracts;
using CharacterGen.Nodes.ModelCaching;
using CharacterGen.Nodes.Runtime;
using CharacterGen.Nodes.Values;

namespace CharacterGen.Nodes.Loaders;

/// <summary>
/// Applies a model alias's LoRAs to a loaded checkpoint's MODEL and CLIP, in order, through the same code as a chain of
/// LoraLoader nodes, so an alias gives the very same image as the checkpoint loader followed by those LoraLoaders.
/// </summary>
internal static class ModelAliasLoras
{
    /// <summary>Takes ownership of <paramref name="loaded"/> (MODEL, CLIP, VAE) and returns the patched outputs.</summary>
    public static NodeOutput Apply(NodeFolders folders, ModelAlias alias, NodeOutput loaded)
    {
        var model = loaded.Values[0] as ModelValue;
        var clip = loaded.Values[1] as ClipValue;
        var vae = loaded.Values[2];
        var reports = new List<object?>();
        try
        {
            foreach (AliasLora lora in alias.Loras)
            {
                if (model is null) throw new InvalidOperationException($"model alias '{alias.Name}': checkpoint '{alias.Checkpoint}' has no diffusion model to apply LoRAs to");
                (ModelValue Model, ClipValue? Clip, Dictionary<string, object?>? Info) next;
                try { next = LoraNodes.Patch(folders, model, clip, lora.Name, lora.StrengthModel, lora.StrengthClip); }
                catch (FileNotFoundException e) { throw new FileNotFoundException($"model alias '{alias.Name}': {e.Message}", e); }
                // Each step's inputs are intermediate values only this node holds.
                model.Dispose();
                clip?.Dispose();
                (model, clip) = (next.Model, next.Clip);
                if (next.Info is not null) reports.Add(next.Info);
            }
        }
        catch
        {
            model?.Dispose();
            clip?.Dispose();
            (vae as IDisposable)?.Dispose();
            throw;
        }
        if (reports.Count == 0) return NodeOutput.Of(model, clip, vae);
        return NodeOutput.WithUi(new Dictionary<string, object?> { ["lora"] = reports }, model, clip, vae);
    }
}

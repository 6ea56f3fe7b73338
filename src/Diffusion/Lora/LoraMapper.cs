using CharacterGen.Diffusion.Models.Clip;
using CharacterGen.Diffusion.Models.Unet;
using CharacterGen.Tensors;

namespace CharacterGen.Diffusion.Lora;

/// <summary>
/// Resolves a LoRA file against a model's networks (ComfyUI lora.py load_lora): for every key of the key map, the
/// first suffix pair present in the file becomes a patch; alpha and dora_scale ride along. Shapes are checked here,
/// so a LoRA for another family fails before any weight is touched.
/// </summary>
public static class LoraMapper
{
    /// <exception cref="LoraMismatchException">A patch does not fit its weight; the message names the LoRA key and the model.</exception>
    public static LoraPatches Map(LoraFile lora, string loraName, UnetModel? unet, ClipTextModel? clip, string modelName,
        ClipTextModel? clipG = null)
    {
        var keys = LoraKeyMap.Build(unet, clip, clipG);
        var shapes = new Dictionary<string, long[]>(StringComparer.Ordinal);
        foreach (var (n, p) in unet?.NamedParameters() ?? []) shapes[$"{LoraTarget.Unet}:{n}"] = p.Shape;
        foreach (var (n, p) in clip?.NamedParameters() ?? []) shapes[$"{LoraTarget.Clip}:{n}"] = p.Shape;
        foreach (var (n, p) in clipG?.NamedParameters() ?? []) shapes[$"{LoraTarget.ClipG}:{n}"] = p.Shape;

        var tensors = lora.Tensors;
        var used = new HashSet<string>(StringComparer.Ordinal);
        var patches = new List<LoraPatch>();
        try
        {
            foreach (var (key, target) in keys)
            {
                foreach (var (upSuffix, downSuffix, midSuffix, _) in LoraSuffixes.UpDown)
                {
                    if (!tensors.TryGetValue(key + upSuffix, out Tensor? up) || !tensors.TryGetValue(key + downSuffix, out Tensor? down)) continue;
                    Tensor? mid = midSuffix is not null && tensors.TryGetValue(key + midSuffix, out Tensor? m) ? m : null;
                    tensors.TryGetValue(key + LoraSuffixes.Alpha, out Tensor? alpha);
                    tensors.TryGetValue(key + LoraSuffixes.DoraScale, out Tensor? dora);
                    long[] weightShape = shapes[$"{target.Target}:{target.ParameterName}"];
                    CheckFits(key, up, down, mid, weightShape, loraName, target, modelName);
                    patches.Add(new LoraPatch(target.Target, target.ParameterName, key, up.Alias(), down.Alias(), mid?.Alias(),
                        alpha is null ? null : ScalarOf(alpha), dora?.Alias()));
                    used.UnionWith([key + upSuffix, key + downSuffix]);
                    if (mid is not null) used.Add(key + midSuffix!);
                    if (alpha is not null) used.Add(key + LoraSuffixes.Alpha);
                    if (dora is not null) used.Add(key + LoraSuffixes.DoraScale);
                    break;
                }
            }
        }
        catch
        {
            foreach (LoraPatch p in patches) p.Dispose();
            throw;
        }
        // Key-map order is arbitrary; patch order per weight only matters across LoRAs, but keep it stable anyway.
        patches.Sort((a, b) => string.CompareOrdinal(a.ParameterName, b.ParameterName));
        var unmatched = tensors.Keys.Where(k => !used.Contains(k)).Order(StringComparer.Ordinal).ToList();
        return new LoraPatches(lora.Identity, patches, unmatched);
    }

    private static void CheckFits(string key, Tensor up, Tensor down, Tensor? mid, long[] weight, string loraName, LoraKeyTarget target, string modelName)
    {
        long rank = down.Size(0);
        long upRank = up.NumElements / Math.Max(1, up.Size(0));
        long inputs = mid is null ? down.NumElements / Math.Max(1, rank) : down.Size(1) * mid.Size(2) * mid.Size(3);
        long weightInputs = weight.Skip(1).Aggregate(1L, (a, b) => a * b);
        bool fits = up.Size(0) == weight[0] && upRank == rank && inputs == weightInputs
            && (mid is null || (mid.Size(0) == rank && mid.Size(1) == rank));
        if (!fits)
            throw new LoraMismatchException(
                $"LoRA '{loraName}' does not fit model '{modelName}': {key} has up [{Dims(up)}], down [{Dims(down)}]"
                + (mid is null ? "" : $", mid [{Dims(mid)}]")
                + $" but {target.Target} weight {target.ParameterName} is [{string.Join(", ", weight)}] (a LoRA for another model family?)");
    }

    private static double ScalarOf(Tensor t)
    {
        using var scope = Torch.NewScope();
        return t.To(DType.Float64).Item();
    }

    private static string Dims(Tensor t) => string.Join(", ", t.Shape);
}

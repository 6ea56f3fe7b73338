using CharacterGen.Diffusion.Models.ClipVision;
using CharacterGen.Diffusion.Models.IpAdapter;
using CharacterGen.Nodes.ModelCaching;
using CharacterGen.Tensors;

namespace CharacterGen.Nodes.Values;

/// <summary>ComfyUI's CLIP_VISION: a non-owning handle to a cached CLIP image encoder.</summary>
public sealed class ClipVisionValue(ModelLease<ClipVisionModel> lease) : IDisposable
{
    public ClipVisionModel Model => lease.Value;

    public string Path => lease.Path;

    public ClipVisionValue Share() => new(lease.Share());

    public void Dispose() => lease.Dispose();

    public override string ToString() => $"ClipVision({System.IO.Path.GetFileName(Path)})";
}

/// <summary>ComfyUI's CLIP_VISION_OUTPUT (last_hidden_state, penultimate_hidden_states, image_embeds).</summary>
public sealed class ClipVisionOutputValue(ClipVisionOutput output) : ITensorOwner
{
    public ClipVisionOutput Output { get; } = output;

    public IEnumerable<Tensor> OwnedTensors => [Output.LastHiddenState, Output.PenultimateHiddenStates, Output.ImageEmbeds];

    public void Dispose() => Output.Dispose();
}

/// <summary>
/// cubiq's IPADAPTER: a handle to a cached IP-Adapter, and, when it comes from IPAdapterUnifiedLoader, the CLIP vision
/// encoder that goes with it (cubiq's pipeline dict).
/// </summary>
public sealed class IpAdapterValue(ModelLease<IpAdapterModel> lease, ClipVisionValue? clipVision = null) : IDisposable
{
    public IpAdapterModel Model => lease.Value;

    public ClipVisionValue? ClipVision { get; } = clipVision;

    public string Name => System.IO.Path.GetFileName(lease.Path);

    /// <summary>Another hold on the adapter's weights, for an applied adapter to keep (see <see cref="ShareHold"/>).</summary>
    public IDisposable Hold() => lease.Share();

    /// <summary>Another hold from a hold made by <see cref="Hold"/>.</summary>
    public static IDisposable ShareHold(IDisposable hold) => ((ModelLease<IpAdapterModel>)hold).Share();

    public IpAdapterValue Share() => new(lease.Share(), ClipVision?.Share());

    public void Dispose()
    {
        lease.Dispose();
        ClipVision?.Dispose();
    }

    public override string ToString() => $"IpAdapter({Name})";
}

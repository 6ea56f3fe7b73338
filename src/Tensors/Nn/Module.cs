namespace CharacterGen.Tensors.Nn;

/// <summary>
/// A tree of named parameters and child modules whose dotted names mirror checkpoint keys
/// ("down.0.block.1.conv1.weight"), so loading a checkpoint is a walk over names, not a mapping table.
/// Disposing a module disposes every parameter it holds.
/// </summary>
public abstract class Module : IDisposable
{
    private readonly List<KeyValuePair<string, Parameter>> _parameters = [];
    private readonly List<KeyValuePair<string, Module>> _children = [];

    protected Parameter Param(string name, params long[] shape) => AddParameter(name, new Parameter(shape));

    protected Parameter OptionalParam(string name, params long[] shape) => AddParameter(name, new Parameter(shape, optional: true));

    protected T Child<T>(string name, T module) where T : Module
    {
        _children.Add(new(name, module));
        return module;
    }

    private Parameter AddParameter(string name, Parameter p)
    {
        _parameters.Add(new(name, p));
        return p;
    }

    /// <summary>Every parameter with its full dotted name, depth first in registration order.</summary>
    public IEnumerable<KeyValuePair<string, Parameter>> NamedParameters(string prefix = "")
    {
        foreach (var (name, p) in _parameters) yield return new(prefix + name, p);
        foreach (var (name, child) in _children)
            foreach (var inner in child.NamedParameters(prefix + name + "."))
                yield return inner;
    }

    /// <summary>Every descendant module with its full dotted name ("input_blocks.1.1.proj_in"), depth first.</summary>
    public IEnumerable<KeyValuePair<string, Module>> NamedModules(string prefix = "")
    {
        foreach (var (name, child) in _children)
        {
            yield return new(prefix + name, child);
            foreach (var inner in child.NamedModules(prefix + name + "."))
                yield return inner;
        }
    }

    /// <summary>
    /// Fills every parameter from <paramref name="source"/> (full name → tensor, or null if absent). Missing required
    /// parameters are collected and reported together.
    /// </summary>
    public void Load(Func<string, Parameter, Tensor?> source, string prefix = "")
    {
        var missing = new List<string>();
        foreach (var (name, p) in NamedParameters(prefix))
        {
            Tensor? t = source(name, p);
            if (t is not null) p.Set(t);
            else if (!p.Optional) missing.Add(name);
        }
        if (missing.Count > 0)
            throw new KeyNotFoundException(
                $"{missing.Count} weight(s) missing, first: {string.Join(", ", missing.Take(5))}");
    }

    /// <summary>Fills every parameter with N(0, std²) samples (optional ones too), for tests and tiny demo models.</summary>
    public void InitializeRandom(Generator generator, double std = 0.02, DType dtype = DType.Float32, Device device = default)
    {
        foreach (var (_, p) in NamedParameters())
        {
            using var scope = Torch.NewScope();
            Tensor t = Torch.Randn(p.Shape, generator, dtype, device) * std;
            p.Set(t.MoveToOuterScope());
        }
    }

    /// <summary>Moves or converts every parameter in place.</summary>
    public void To(Device device, DType? dtype = null)
    {
        foreach (var (_, p) in NamedParameters())
        {
            if (!p.IsSet) continue;
            Tensor v = p.Value;
            p.Set(dtype is { } d ? v.To(device, d) : v.To(device));
        }
    }

    public long ParameterCount() => NamedParameters().Where(p => p.Value.IsSet).Sum(p => p.Value.Value.NumElements);

    public virtual void Dispose()
    {
        foreach (var (_, p) in _parameters) p.Clear();
        foreach (var (_, c) in _children) c.Dispose();
        GC.SuppressFinalize(this);
    }
}

/// <summary>Children named by index ("0", "1", …), as PyTorch's ModuleList and Sequential.</summary>
public sealed class ModuleList : Module
{
    private readonly List<Module?> _items = [];

    /// <summary>Adds a child at the next index; null keeps the index for a parameter-free layer (an activation).</summary>
    public ModuleList Add(Module? module)
    {
        if (module is not null) Child(_items.Count.ToString(System.Globalization.CultureInfo.InvariantCulture), module);
        _items.Add(module);
        return this;
    }

    public int Count => _items.Count;

    public Module? this[int index] => _items[index];

    public IEnumerable<Module?> Items => _items;
}

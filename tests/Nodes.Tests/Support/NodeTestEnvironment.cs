using CharacterGen.Diffusion.RandomWeights;
using CharacterGen.GraphRuntime.Contracts;
using CharacterGen.Nodes.Files;
using CharacterGen.Nodes.ModelCaching;
using CharacterGen.Tensors;

namespace CharacterGen.Nodes.Tests.Support;

/// <summary>
/// A temporary models tree (optionally with a tiny checkpoint and its tokenizer, as make-test-checkpoint writes them),
/// input/output/temp folders, a model cache and the built-in catalogue over them. Nodes run directly, outside an engine.
/// </summary>
internal sealed class NodeTestEnvironment : IDisposable
{
    public const string Checkpoint = "tiny.safetensors";

    private NodeTestEnvironment(string root, ModelCacheOptions? cacheOptions, ModelAliases? aliases)
    {
        Root = root;
        Models = new ModelFolders(Path.Combine(root, "models"));
        Data = new DataFolders(Path.Combine(root, "data"));
        Data.EnsureCreated();
        Cache = new ModelCache(cacheOptions ?? ModelCacheOptions.Default);
        Services = new ServiceBag().Add(Models).Add(Data).Add(Cache);
        Catalog = BuiltinNodes.Catalog(Models, Data, aliases);
    }

    public string Root { get; }
    public ModelFolders Models { get; }
    public DataFolders Data { get; }
    public ModelCache Cache { get; }
    public ServiceBag Services { get; }
    public NodeCatalog Catalog { get; }

    public static NodeTestEnvironment Create(bool withCheckpoint = true, ulong seed = 0, ModelCacheOptions? cacheOptions = null,
        ModelAliases? aliases = null)
    {
        var env = new NodeTestEnvironment(Path.Combine(Path.GetTempPath(), "cg-nodes-" + Guid.NewGuid().ToString("N")), cacheOptions, aliases);
        if (withCheckpoint) env.WriteCheckpoint(Checkpoint, seed);
        return env;
    }

    public string CheckpointPath(string name) => Path.Combine(Models.Root, "checkpoints", name);

    public void WriteCheckpoint(string name, ulong seed = 0)
    {
        using (Torch.NewScope()) TinyModelWriter.WriteSd15(CheckpointPath(name), seed);
    }

    public NodeDefinition Node(string classType) =>
        Catalog.Find(classType) ?? throw new ArgumentException($"no node {classType} in the catalogue");

    /// <summary>Runs one node; the caller owns (and disposes) the output values.</summary>
    public NodeOutput Run(string classType, params (string Name, object? Value)[] inputs) =>
        Node(classType).Execute(NodeContext.Detached(classType: classType, services: Services),
            NodeInputs.From(inputs.Select(i => new KeyValuePair<string, object?>(i.Name, i.Value))));

    public T Run<T>(string classType, params (string Name, object? Value)[] inputs) => (T)Run(classType, inputs).Values[0]!;

    /// <summary>MODEL, CLIP and VAE of the tiny checkpoint.</summary>
    public NodeOutput LoadCheckpoint(string name = Checkpoint) => Run("CheckpointLoaderSimple", ("ckpt_name", name));

    public void Dispose()
    {
        Cache.Dispose();
        try { Directory.Delete(Root, recursive: true); }
        catch (IOException) { /* best effort */ }
    }

    /// <summary>Disposes every disposable value of node outputs.</summary>
    public static void DisposeAll(params NodeOutput[] outputs)
    {
        foreach (var output in outputs)
            foreach (var value in output.Values)
                (value as IDisposable)?.Dispose();
    }
}

using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace CharacterGen.Diffusion.Onnx;

/// <summary>
/// An ONNX Runtime session over one model file, checked against what the caller accepts (<see cref="OnnxModelSpec"/>):
/// a file whose inputs or outputs have other names, ranks or element types is refused when it is opened, naming what
/// it has and what was expected, instead of failing inside ORT on the first run. Thread-safe (ORT sessions are);
/// disposing it releases the native session.
/// </summary>
public sealed class OnnxModel : IDisposable
{
    private readonly InferenceSession _session;

    private OnnxModel(string path, InferenceSession session, OnnxTensorInfo[] inputs, OnnxTensorInfo[] outputs,
        string provider, string? fallbackReason)
    {
        Path = path;
        _session = session;
        Inputs = inputs;
        Outputs = outputs;
        Provider = provider;
        FallbackReason = fallbackReason;
    }

    public string Path { get; }

    /// <summary>The model's inputs, in the order of the spec's inputs.</summary>
    public IReadOnlyList<OnnxTensorInfo> Inputs { get; }

    /// <summary>The model's outputs, in the order of the spec's outputs.</summary>
    public IReadOnlyList<OnnxTensorInfo> Outputs { get; }

    /// <summary>"CPU" or "CUDA".</summary>
    public string Provider { get; }

    /// <summary>Why CUDA was asked for and the CPU is used; null when nothing fell back.</summary>
    public string? FallbackReason { get; }

    /// <exception cref="FileNotFoundException">The file does not exist; the message names the file and its folder.</exception>
    /// <exception cref="InvalidDataException">Not an ONNX model, or not one of the accepted kind.</exception>
    public static OnnxModel Load(string path, OnnxModelSpec spec, OnnxExecution? execution = null)
    {
        string file = System.IO.Path.GetFileName(path), folder = System.IO.Path.GetDirectoryName(path) ?? ".";
        if (!File.Exists(path)) throw new FileNotFoundException($"{spec.Kind} model file '{file}' not found in {folder}", path);
        using SessionOptions options = (execution ?? OnnxExecution.Cpu).CreateOptions(out string provider, out string? fallback);
        InferenceSession session;
        try
        {
            session = new InferenceSession(path, options);
        }
        catch (OnnxRuntimeException e)
        {
            throw new InvalidDataException($"'{file}' is not a loadable ONNX model: {e.Message}", e);
        }
        try
        {
            OnnxTensorInfo[] inputs = Match(file, spec, "input", spec.Inputs, session.InputMetadata, session.InputNames);
            OnnxTensorInfo[] outputs = Match(file, spec, "output", spec.Outputs, session.OutputMetadata, session.OutputNames);
            return new OnnxModel(path, session, inputs, outputs, provider, fallback);
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    /// <summary>Runs the model on inputs given in the spec's input order; returns every output in the spec's output order.</summary>
    public OnnxTensor[] Run(params OnnxTensor[] inputs)
    {
        if (inputs.Length != Inputs.Count) throw new ArgumentException($"the model takes {Inputs.Count} inputs, got {inputs.Length}");
        var values = new List<OrtValue>(inputs.Length);
        try
        {
            foreach (OnnxTensor input in inputs) values.Add(OrtValue.CreateTensorValueFromMemory(input.Data, input.Shape));
            using var runOptions = new RunOptions();
            using IDisposableReadOnlyCollection<OrtValue> results = _session.Run(runOptions,
                Inputs.Select(i => i.Name).ToArray(), values, Outputs.Select(o => o.Name).ToArray());
            var outputs = new OnnxTensor[results.Count];
            for (int i = 0; i < results.Count; i++)
            {
                OrtValue value = results[i];
                long[] shape = value.GetTensorTypeAndShape().Shape;
                outputs[i] = new OnnxTensor(value.GetTensorDataAsSpan<float>().ToArray(), shape);
            }
            return outputs;
        }
        finally
        {
            foreach (OrtValue v in values) v.Dispose();
        }
    }

    /// <summary>True once the native session has been released.</summary>
    public bool IsDisposed { get; private set; }

    public void Dispose()
    {
        IsDisposed = true;
        _session.Dispose();
    }

    private static OnnxTensorInfo[] Match(string file, OnnxModelSpec spec, string role, IReadOnlyList<OnnxTensorSpec> wanted,
        IReadOnlyDictionary<string, NodeMetadata> metadata, IReadOnlyList<string> order)
    {
        string Has() => string.Join(", ", order.Select(n => Info(n, metadata[n]).ToString()));
        string Expected() => string.Join(", ", wanted.Select(w => w.Describe()));
        InvalidDataException Refuse(string why) =>
            new($"'{file}' is not a supported {spec.Kind} model: {why}; it has {role}s {Has()}, expected {Expected()}");

        if (order.Count != wanted.Count) throw Refuse($"{order.Count} {role}s instead of {wanted.Count}");
        var matched = new OnnxTensorInfo[wanted.Count];
        for (int i = 0; i < wanted.Count; i++)
        {
            OnnxTensorSpec w = wanted[i];
            string? name = w.Names is null ? order[i] : w.Names.FirstOrDefault(order.Contains);
            if (name is null) throw Refuse($"no {role} named {string.Join(" or ", w.Names!)}");
            NodeMetadata meta = metadata[name];
            if (!meta.IsTensor || meta.ElementDataType != TensorElementType.Float)
                throw Refuse($"{role} '{name}' is {meta.ElementDataType}, only float32 is supported");
            OnnxTensorInfo info = Info(name, meta);
            if (!w.Ranks.Contains(info.Dimensions.Length)) throw Refuse($"{role} '{name}' has rank {info.Dimensions.Length}");
            matched[i] = info;
        }
        return matched;
    }

    private static OnnxTensorInfo Info(string name, NodeMetadata meta) =>
        new(name, meta.IsTensor ? meta.Dimensions.Select(d => (long)d).ToArray() : []);
}

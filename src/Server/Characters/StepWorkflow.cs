using System.Text.Json.Nodes;

namespace CharacterGen.Server.Characters;

/// <summary>
/// One step's workflow (ComfyUI API format) from the characters workflow folder, with its parameters set by node title
/// (<c>_meta.title</c>), so operators can edit, re-wire or add nodes freely as long as the titled nodes remain.
/// The parameter → (title, input) table is <see cref="StepBindings"/> (docs/characters.md).
/// </summary>
public sealed class StepWorkflow
{
    private readonly JsonObject _nodes;

    private StepWorkflow(string name, JsonObject nodes)
    {
        Name = name;
        _nodes = nodes;
    }

    /// <summary>The file name, e.g. "base.json".</summary>
    public string Name { get; }

    /// <exception cref="CharacterWorkflowException">Missing or unreadable file.</exception>
    public static StepWorkflow Load(string folder, string name)
    {
        var path = Path.Combine(folder, name);
        try
        {
            return new StepWorkflow(name, JsonNode.Parse(File.ReadAllText(path)) as JsonObject
                ?? throw new CharacterWorkflowException($"characters/{name} is not a JSON object"));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Text.Json.JsonException)
        {
            throw new CharacterWorkflowException($"characters/{name} cannot be read: {e.Message}");
        }
    }

    /// <summary>Sets an input of the node titled <paramref name="binding"/>.Title (the one such node).</summary>
    /// <exception cref="CharacterWorkflowException">No node, or several nodes, carry that title.</exception>
    public StepWorkflow Set(StepBinding binding, JsonNode? value)
    {
        ((JsonObject)Node(binding.Title)["inputs"]!)[binding.Input] = value;
        return this;
    }

    /// <summary>The id of the node titled <paramref name="title"/> (to find its ui output).</summary>
    public string NodeId(string title) => NodeEntry(title).Key;

    public string ToJson() => _nodes.ToJsonString();

    private JsonObject Node(string title)
    {
        var node = (JsonObject)NodeEntry(title).Value!;
        if (node["inputs"] is not JsonObject) node["inputs"] = new JsonObject();
        return node;
    }

    private KeyValuePair<string, JsonNode?> NodeEntry(string title)
    {
        var matches = _nodes.Where(n => n.Value?["_meta"]?["title"]?.GetValue<string>() == title).ToList();
        return matches.Count switch
        {
            1 => matches[0],
            0 => throw new CharacterWorkflowException($"characters/{Name} has no node titled '{title}'"),
            _ => throw new CharacterWorkflowException($"characters/{Name} has {matches.Count} nodes titled '{title}'; titles must be unique"),
        };
    }
}

/// <summary>A step workflow the server cannot use as shipped or edited (an operator's mistake, reported to the client).</summary>
public sealed class CharacterWorkflowException(string message) : Exception(message);

/// <summary>An input of a titled node.</summary>
public sealed record StepBinding(string Title, string Input);

/// <summary>
/// Which node input each step parameter sets: node title and input name. Every step workflow uses the subset it needs;
/// docs/characters.md lists them per workflow.
/// </summary>
public static class StepBindings
{
    public static readonly StepBinding Checkpoint = new("Checkpoint", "ckpt_name");
    public static readonly StepBinding Prompt = new("Positive prompt", "text");
    public static readonly StepBinding NegativePrompt = new("Negative prompt", "text");
    public static readonly StepBinding Width = new("Image size", "width");
    public static readonly StepBinding Height = new("Image size", "height");
    public static readonly StepBinding Seed = new("Sampler", "seed");
    public static readonly StepBinding Steps = new("Sampler", "steps");
    public static readonly StepBinding Cfg = new("Sampler", "cfg");
    public static readonly StepBinding Denoise = new("Sampler", "denoise");
    public static readonly StepBinding SavePrefix = new("Save image", "filename_prefix");
    public static readonly StepBinding Photo = new("Photo", "image");
    public static readonly StepBinding BaseImage = new("Base image", "image");
    public static readonly StepBinding TrainingSet = new("Training set", "folder");
    public static readonly StepBinding LoraRank = new("Train LoRA", "rank");
    public static readonly StepBinding LoraAlpha = new("Train LoRA", "alpha");
    public static readonly StepBinding TrainingSteps = new("Train LoRA", "steps");
    public static readonly StepBinding LearningRate = new("Train LoRA", "learning_rate");
    public static readonly StepBinding TrainingSeed = new("Train LoRA", "seed");
    public static readonly StepBinding CheckpointEvery = new("Train LoRA", "checkpoint_every");
    public static readonly StepBinding LoraPrefix = new("Save LoRA", "prefix");
    public static readonly StepBinding Lora = new("Character LoRA", "lora_name");
    public static readonly StepBinding LoraStrengthModel = new("Character LoRA", "strength_model");
    public static readonly StepBinding LoraStrengthClip = new("Character LoRA", "strength_clip");

    public const string SaveImageTitle = "Save image";
    public const string SaveLoraTitle = "Save LoRA";
    public const string TrainTitle = "Train LoRA";
}

namespace CharacterGen.GraphRuntime.Contracts;

/// <summary>
/// One declared input of a node, ComfyUI's <c>(TYPE, {options})</c> tuple as a typed record.
/// Numbers are decimals so that both FLOAT steps (0.01) and full 64-bit seeds are exact.
/// </summary>
public sealed record InputSpec
{
    public required string Name { get; init; }
    /// <summary>Socket type: INT, FLOAT, STRING, BOOLEAN, COMBO, or a link type such as MODEL.</summary>
    public required string Type { get; init; }
    public InputSection Section { get; init; } = InputSection.Required;

    /// <summary>long, double, string or bool; null when the spec has no default.</summary>
    public object? Default { get; init; }
    public decimal? Min { get; init; }
    public decimal? Max { get; init; }
    public decimal? Step { get; init; }
    public decimal? Round { get; init; }
    public bool Multiline { get; init; }
    public string? Tooltip { get; init; }
    /// <summary>Not evaluated until the node's lazy-status hook asks for it.</summary>
    public bool Lazy { get; init; }
    /// <summary>A widget type that the frontend must show as a socket.</summary>
    public bool ForceInput { get; init; }
    /// <summary>The frontend adds a "control after generate" widget value after this one (seeds).</summary>
    public bool ControlAfterGenerate { get; init; }
    /// <summary>The frontend adds an upload widget value after this combo (LoadImage).</summary>
    public bool ImageUpload { get; init; }

    /// <summary>Fixed combo options.</summary>
    public IReadOnlyList<string>? Options { get; init; }
    /// <summary>Combo options computed when validating or exporting (e.g. the files in a models folder).</summary>
    public Func<IReadOnlyList<string>>? OptionsProvider { get; init; }
    /// <summary>Appended to a "Value not in list" error, e.g. which folders were searched for a model file.</summary>
    public Func<string>? NotInListHint { get; init; }

    public bool IsCombo => Type == IoTypes.Combo;
    /// <summary>True for the types that take literals (and show as widgets unless forced to a socket).</summary>
    public bool IsWidget => IoTypes.IsWidget(Type);

    /// <summary>The combo options now (provider evaluated on each call).</summary>
    public IReadOnlyList<string> CurrentOptions() => OptionsProvider?.Invoke() ?? Options ?? [];

    public static InputSpec Int(string name, long @default = 0, decimal? min = null, decimal? max = null, decimal? step = null) =>
        new() { Name = name, Type = IoTypes.Int, Default = @default, Min = min, Max = max, Step = step };

    /// <summary>A seed: INT 0..2^64-1 with the frontend's control_after_generate widget.</summary>
    public static InputSpec Seed(string name = "seed") =>
        Int(name, 0, 0, ulong.MaxValue) with { ControlAfterGenerate = true };

    public static InputSpec Float(string name, double @default = 0, double? min = null, double? max = null, double? step = null, double? round = null) =>
        new()
        {
            Name = name, Type = IoTypes.Float, Default = @default,
            Min = (decimal?)min, Max = (decimal?)max, Step = (decimal?)step, Round = (decimal?)round,
        };

    public static InputSpec String(string name, string? @default = "", bool multiline = false) =>
        new() { Name = name, Type = IoTypes.String, Default = @default, Multiline = multiline };

    public static InputSpec Boolean(string name, bool @default = false) =>
        new() { Name = name, Type = IoTypes.Boolean, Default = @default };

    public static InputSpec Combo(string name, IReadOnlyList<string> options, string? @default = null) =>
        new() { Name = name, Type = IoTypes.Combo, Options = options, Default = @default };

    public static InputSpec Combo(string name, Func<IReadOnlyList<string>> provider) =>
        new() { Name = name, Type = IoTypes.Combo, OptionsProvider = provider };

    /// <summary>A socket input of a link type (MODEL, LATENT, ...).</summary>
    public static InputSpec Link(string name, string type) => new() { Name = name, Type = type };
}

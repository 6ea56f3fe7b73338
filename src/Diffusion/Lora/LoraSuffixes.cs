namespace CharacterGen.Diffusion.Lora;

/// <summary>
/// The tensor names a LoRA entry may use after its key (ComfyUI lora.py load_lora): (up, down, mid) suffixes in the
/// order they are tried, and the format each implies.
/// </summary>
internal static class LoraSuffixes
{
    public static readonly (string Up, string Down, string? Mid, LoraFormat Format)[] UpDown =
    [
        (".lora_up.weight", ".lora_down.weight", ".lora_mid.weight", LoraFormat.Kohya),
        ("_lora.up.weight", "_lora.down.weight", null, LoraFormat.Diffusers),
        (".lora_B.weight", ".lora_A.weight", null, LoraFormat.Peft),
        (".lora.up.weight", ".lora.down.weight", null, LoraFormat.Diffusers),
        (".lora_linear_layer.up.weight", ".lora_linear_layer.down.weight", null, LoraFormat.Diffusers),
        (".lora_B.default.weight", ".lora_A.default.weight", null, LoraFormat.Peft),
        (".lora_B", ".lora_A", null, LoraFormat.Peft),
    ];

    public const string Alpha = ".alpha";
    public const string DoraScale = ".dora_scale";
}

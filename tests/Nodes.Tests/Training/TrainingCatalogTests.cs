using System.Text.Json.Nodes;
using CharacterGen.Nodes.Tests.Support;

namespace CharacterGen.Nodes.Tests.Training;

/// <summary>The training nodes as object_info shows them: ComfyUI's names, input order, defaults and list flags.</summary>
public sealed class TrainingCatalogTests
{
    [Test]
    public void TrainLoraNode_has_comfyuis_inputs_in_order_and_its_outputs()
    {
        using var env = NodeTestEnvironment.Create(withCheckpoint: false);
        var info = JsonNode.Parse(env.Catalog.ObjectInfoJson())!.AsObject();
        var train = info["TrainLoraNode"]!;
        string[] Strings(JsonNode? a) => a!.AsArray().Select(n => n!.GetValue<string>()).ToArray();
        Assert.That(Strings(train["input_order"]!["required"]), Is.EqualTo(new[]
        {
            "model", "latents", "positive", "batch_size", "grad_accumulation_steps", "steps", "learning_rate", "rank", "optimizer",
            "loss_function", "seed", "training_dtype", "lora_dtype", "algorithm", "gradient_checkpointing", "existing_lora",
        }));
        Assert.That(Strings(train["output"]), Is.EqualTo(new[] { "MODEL", "LORA_MODEL", "LOSS_MAP", "INT" }));
        var lr = train["input"]!["required"]!["learning_rate"]![1]!;
        Assert.That(lr["default"]!.GetValue<double>(), Is.EqualTo(0.0005));
        Assert.That(Strings(train["input"]!["required"]!["existing_lora"]![0]), Does.Contain("[None]"));
        Assert.That(Strings(info["LoadImageTextDataSetFromFolder"]!["output"]), Is.EqualTo(new[] { "IMAGE", "STRING" }));
        Assert.That(info["LoadImageTextDataSetFromFolder"]!["output_is_list"]!.AsArray().Select(b => b!.GetValue<bool>()), Is.EqualTo(new[] { true, true }));
        Assert.That(Strings(info["MakeTrainingDataset"]!["output"]), Is.EqualTo(new[] { "LATENT", "CONDITIONING" }));
        Assert.That(Strings(info["SaveLoRA"]!["input_order"]!["required"]), Is.EqualTo(new[] { "lora", "prefix" }));
        Assert.That(info["SaveLoRA"]!["output_node"]!.GetValue<bool>(), Is.True);
    }
}

using System.Text.Json.Nodes;
using CharacterGen.GraphRuntime.Validation;
using CharacterGen.GraphRuntime.WorkflowFormat;
using static CharacterGen.GraphRuntime.Validation.ValidationErrorTypes;

namespace CharacterGen.GraphRuntime.Tests;

public class ValidationTests
{
    private TestNodes _nodes = null!;

    [SetUp] public void SetUp() => _nodes = new TestNodes();
    [TearDown] public void TearDown() => _nodes.Dispose();

    private ValidationResult Validate(string json, ValidationOptions? options = null) =>
        WorkflowValidator.Validate(Prompts.Api(json), _nodes.Catalog, options);

    private static ValidationError Single(ValidationResult r, string nodeId)
    {
        Assert.That(r.NodeErrors.ContainsKey(nodeId), $"no errors for node {nodeId}: {r.ToJsonString()}");
        Assert.That(r.NodeErrors[nodeId].Errors, Has.Count.EqualTo(1), r.ToJsonString());
        return r.NodeErrors[nodeId].Errors[0];
    }

    [Test]
    public void A_valid_workflow_compiles_its_outputs_and_their_ancestors_only()
    {
        var r = Validate("""
            {"1": {"class_type": "Const", "inputs": {"value": 2}},
             "2": {"class_type": "Add", "inputs": {"a": ["1", 0], "b": 3}},
             "3": {"class_type": "Output", "inputs": {"value": ["2", 0]}},
             "9": {"class_type": "Const", "inputs": {"value": "not even checked"}}}
            """);
        Assert.That(r.IsValid, r.ToJsonString());
        Assert.That(r.Graph!.Nodes.Select(n => n.Id), Is.EqualTo(new[] { "1", "2", "3" }));
        Assert.That(r.ToJsonString(), Is.EqualTo("""{"error":null,"node_errors":{}}"""));
    }

    [Test]
    public void Missing_class_type_and_unknown_class_are_invalid_prompt_even_when_unreachable()
    {
        var r = Validate("""
            {"1": {"inputs": {}}, "2": {"class_type": "Nope", "inputs": {}},
             "3": {"class_type": "Output", "inputs": {"value": 1}}}
            """);
        Assert.That(r.Error!.Type, Is.EqualTo(InvalidPrompt));
        Assert.That(r.Error.Message, Is.EqualTo("Cannot execute because a node is missing the class_type property."));
        Assert.That(r.Error.Details, Is.EqualTo("Node ID '#1'"));
        Assert.That(r.NodeErrors["2"].Errors[0].Message, Is.EqualTo("Cannot execute because node Nope does not exist."));
        Assert.That(r.Graph, Is.Null);
    }

    [Test]
    public void No_output_node_is_prompt_no_outputs()
    {
        var r = Validate("""{"1": {"class_type": "Const", "inputs": {"value": 1}}}""");
        Assert.That(r.ToJson()["error"]!.ToJsonString(), Is.EqualTo(
            """{"type":"prompt_no_outputs","message":"Prompt has no outputs","details":"","extra_info":{}}"""));
    }

    [Test]
    public void Missing_required_input_is_required_input_missing_and_fails_the_outputs()
    {
        var r = Validate("""
            {"1": {"class_type": "Add", "inputs": {"a": 1}},
             "2": {"class_type": "Output", "inputs": {"value": ["1", 0]}}}
            """);
        var e = Single(r, "1");
        Assert.That(e.Type, Is.EqualTo(RequiredInputMissing));
        Assert.That(e.Message, Is.EqualTo("Required input is missing"));
        Assert.That(e.Details, Is.EqualTo("b"));
        Assert.That(e.InputName, Is.EqualTo("b"));
        Assert.That(r.NodeErrors["1"].DependentOutputs, Is.EqualTo(new[] { "2" }));
        Assert.That(r.NodeErrors["1"].ClassType, Is.EqualTo("Add"));
        Assert.That(r.NodeErrors.ContainsKey("2"), Is.False, "downstream nodes are invalid without reasons of their own");
        Assert.That(r.Error!.Type, Is.EqualTo(PromptOutputsFailedValidation));
        Assert.That(r.Error.Message, Is.EqualTo("Prompt outputs failed validation"));
    }

    [TestCase("""["1"]""")]
    [TestCase("""["1", 0, 1]""")]
    [TestCase("""[1, 0]""")]
    [TestCase("""["1", -1]""")]
    [TestCase("""["1", 0.5]""")]
    [TestCase("""["1", "0"]""")]
    public void Malformed_links_are_bad_linked_input(string link)
    {
        var r = Validate($$$$"""
            {"1": {"class_type": "Const", "inputs": {"value": 1}},
             "2": {"class_type": "Output", "inputs": {"value": {{{{link}}}}}}}
            """);
        var e = Single(r, "2");
        Assert.That(e.Type, Is.EqualTo(BadLinkedInput));
        Assert.That(e.Message, Is.EqualTo("Bad linked input, must be a length-2 list of [node_id, slot_index]"));
    }

    [Test]
    public void A_link_to_a_missing_node_or_slot_names_it()
    {
        var r = Validate("""
            {"1": {"class_type": "Const", "inputs": {"value": 1}},
             "2": {"class_type": "Add", "inputs": {"a": ["99", 0], "b": ["1", 7]}},
             "3": {"class_type": "Output", "inputs": {"value": ["2", 0]}}}
            """);
        var errors = r.NodeErrors["2"].Errors;
        Assert.That(errors.Select(e => e.Type), Is.EqualTo(new[] { BadLinkedInput, BadLinkedInput }));
        Assert.That(errors[0].Details, Is.EqualTo("a, node '99' does not exist"));
        Assert.That(errors[1].Details, Is.EqualTo("b, node '1' (Const) has 1 outputs, slot 7 requested"));
    }

    [Test]
    public void Linking_the_wrong_type_is_return_type_mismatch()
    {
        var r = Validate("""
            {"1": {"class_type": "LoadModel", "inputs": {"ckpt_name": "a.safetensors"}},
             "2": {"class_type": "Sample", "inputs": {"model": ["1", 1], "seed": 1, "steps": 1}},
             "3": {"class_type": "Output", "inputs": {"value": ["2", 0]}}}
            """);
        var e = Single(r, "2");
        Assert.That(e.Type, Is.EqualTo(ReturnTypeMismatch));
        Assert.That(e.Message, Is.EqualTo("Return type mismatch between linked nodes"));
        Assert.That(e.Details, Is.EqualTo("model, received_type(CLIP) mismatch input_type(MODEL)"));
        Assert.That(e.ExtraInfo["received_type"]!.GetValue<string>(), Is.EqualTo("CLIP"));
        Assert.That(e.ExtraInfo["linked_node"]!.ToJsonString(), Is.EqualTo("""["1",1]"""));
    }

    [TestCase("\"1.5\"", "invalid literal for int() with base 10: '1.5'")]
    [TestCase("\"abc\"", "invalid literal for int() with base 10: 'abc'")]
    [TestCase("null", "int() argument must be a string or a number, not NoneType")]
    [TestCase("1e30", "the value does not fit a 64-bit integer")]
    [TestCase("18446744073709551616", "the value does not fit a 64-bit integer")]
    public void Unconvertible_literals_are_invalid_input_type(string value, string problem)
    {
        var r = Validate($$$$"""{"1": {"class_type": "Const", "inputs": {"value": {{{{value}}}}}}, "2": {"class_type": "Output", "inputs": {"value": ["1", 0]}}}""");
        var e = Single(r, "1");
        Assert.That(e.Type, Is.EqualTo(InvalidInputType));
        Assert.That(e.Message, Is.EqualTo("Failed to convert an input value to a INT value"));
        Assert.That(e.ExtraInfo["exception_message"]!.GetValue<string>(), Is.EqualTo(problem));
    }

    [Test]
    public void Int_conversion_follows_python_int()
    {
        var r = Validate("""{"1": {"class_type": "Add", "inputs": {"a": 3.9, "b": "12"}}, "2": {"class_type": "Output", "inputs": {"value": ["1", 0]}}}""");
        Assert.That(r.IsValid, r.ToJsonString());
        Assert.That(r.Graph!.Find("1")!.Literals["a"], Is.EqualTo(3L));
        Assert.That(r.Graph.Find("1")!.Literals["b"], Is.EqualTo(12L));
    }

    [TestCase("\"NaN\"")]
    [TestCase("\"nan\"")]
    [TestCase("\"Infinity\"")]
    [TestCase("\"-inf\"")]
    public void NaN_and_infinities_are_refused(string value)
    {
        var r = Validate($$$$"""{"1": {"class_type": "Scale", "inputs": {"x": {{{{value}}}}}}, "2": {"class_type": "Output", "inputs": {"value": ["1", 0]}}}""");
        var e = Single(r, "1");
        Assert.That(e.Type, Is.EqualTo(InvalidInputType));
        Assert.That(e.ExtraInfo["exception_message"]!.GetValue<string>(), Is.EqualTo("NaN and infinities are not allowed"));
    }

    [TestCase("\"false\"", false)]
    [TestCase("\"False\"", false)]
    [TestCase("\"true\"", true)]
    [TestCase("0", false)]
    [TestCase("true", true)]
    public void Boolean_strings_mean_what_they_say(string value, bool expected)
    {
        var r = Validate($$$$"""{"1": {"class_type": "Text", "inputs": {"text": "x", "upper": {{{{value}}}}}}, "2": {"class_type": "Output", "inputs": {"value": ["1", 0]}}}""");
        Assert.That(r.IsValid, r.ToJsonString());
        Assert.That(r.Graph!.Find("1")!.Literals["upper"], Is.EqualTo(expected));
    }

    [Test]
    public void A_boolean_that_is_not_one_is_invalid_input_type()
    {
        var r = Validate("""{"1": {"class_type": "Text", "inputs": {"text": "x", "upper": "maybe"}}, "2": {"class_type": "Output", "inputs": {"value": ["1", 0]}}}""");
        Assert.That(Single(r, "1").Type, Is.EqualTo(InvalidInputType));
    }

    [Test]
    public void Out_of_range_numbers_use_comfyui_messages()
    {
        var r = Validate("""
            {"1": {"class_type": "Const", "inputs": {"value": -1001}},
             "2": {"class_type": "Scale", "inputs": {"x": 10.5}},
             "3": {"class_type": "Output", "inputs": {"value": ["1", 0]}},
             "4": {"class_type": "Output", "inputs": {"value": ["2", 0]}}}
            """);
        var small = Single(r, "1");
        Assert.That(small.Type, Is.EqualTo(ValueSmallerThanMin));
        Assert.That(small.Message, Is.EqualTo("Value -1001 smaller than min of -1000"));
        Assert.That(small.Details, Is.EqualTo("value"));
        var big = Single(r, "2");
        Assert.That(big.Type, Is.EqualTo(ValueBiggerThanMax));
        Assert.That(big.Message, Is.EqualTo("Value 10.5 bigger than max of 10.0"));
        Assert.That(big.ExtraInfo["input_config"]!.ToJsonString(),
            Is.EqualTo("""["FLOAT",{"default":1.0,"min":-10.0,"max":10.0,"step":0.01,"tooltip":"value"}]"""));
    }

    [Test]
    public void A_combo_value_not_in_the_list_is_value_not_in_list()
    {
        var r = Validate("""{"1": {"class_type": "LoadModel", "inputs": {"ckpt_name": "c.safetensors"}}, "2": {"class_type": "Output", "inputs": {"value": ["1", 0]}}}""");
        var e = Single(r, "1");
        Assert.That(e.Type, Is.EqualTo(ValueNotInList));
        Assert.That(e.Message, Is.EqualTo("Value not in list"));
        Assert.That(e.Details, Is.EqualTo("ckpt_name: 'c.safetensors' not in ['a.safetensors', 'b.safetensors']"));
        Assert.That(e.ExtraInfo["input_config"]!.ToJsonString(), Is.EqualTo("""[["a.safetensors","b.safetensors"]]"""));
    }

    [Test]
    public void Combo_lists_longer_than_20_are_not_echoed_back()
    {
        _nodes.Models.AddRange(Enumerable.Range(0, 30).Select(i => $"secret/dir/m{i}.safetensors"));
        var r = Validate("""{"1": {"class_type": "LoadModel", "inputs": {"ckpt_name": "zzz"}}, "2": {"class_type": "Output", "inputs": {"value": ["1", 0]}}}""");
        var e = Single(r, "1");
        Assert.That(e.Details, Is.EqualTo("ckpt_name: 'zzz' not in (list of length 32)"));
        Assert.That(e.ExtraInfo["input_config"], Is.Null);
        Assert.That(r.ToJsonString(), Does.Not.Contain("secret/dir"));
    }

    [Test]
    public void Combo_options_are_read_from_the_provider_at_validation_time()
    {
        const string json = """{"1": {"class_type": "LoadModel", "inputs": {"ckpt_name": "new.safetensors"}}, "2": {"class_type": "Output", "inputs": {"value": ["1", 0]}}}""";
        Assert.That(Validate(json).IsValid, Is.False);
        _nodes.Models.Add("new.safetensors");
        Assert.That(Validate(json).IsValid, Is.True);
    }

    [Test]
    public void A_failing_validation_hook_is_custom_validation_failed_and_skips_builtin_checks()
    {
        var r = Validate("""{"1": {"class_type": "LoadFile", "inputs": {"path": "missing.png"}}, "2": {"class_type": "Output", "inputs": {"value": ["1", 0]}}}""");
        var e = Single(r, "1");
        Assert.That(e.Type, Is.EqualTo(CustomValidationFailed));
        Assert.That(e.Message, Is.EqualTo("Custom validation failed for node"));
        Assert.That(e.Details, Is.EqualTo("path - file 'missing.png' not found"));
        Assert.That(e.InputName, Is.EqualTo("path"));
    }

    [Test]
    public void Unknown_literal_inputs_are_reported_not_dropped()
    {
        var r = Validate("""{"1": {"class_type": "Const", "inputs": {"value": 1, "valeu": 2}}, "2": {"class_type": "Output", "inputs": {"value": ["1", 0]}}}""");
        var e = Single(r, "1");
        Assert.That(e.Type, Is.EqualTo(UnknownInput));
        Assert.That(e.InputName, Is.EqualTo("valeu"));
    }

    [Test]
    public void Dynamic_inputs_are_accepted_as_links_of_the_declared_type_only()
    {
        var ok = Validate("""
            {"1": {"class_type": "Const", "inputs": {"value": 1}},
             "2": {"class_type": "Concat", "inputs": {"value1": ["1", 0], "value3": ["1", 0], "value2": ["1", 0]}},
             "3": {"class_type": "Output", "inputs": {"value": ["2", 0]}}}
            """);
        Assert.That(ok.IsValid, ok.ToJsonString());

        var bad = Validate("""
            {"1": {"class_type": "LoadModel", "inputs": {"ckpt_name": "a.safetensors"}},
             "2": {"class_type": "Const", "inputs": {"value": 1}},
             "3": {"class_type": "Concat", "inputs": {"value1": ["2", 0], "value2": ["1", 0], "value3": 5, "valuex": ["2", 0]}},
             "4": {"class_type": "Output", "inputs": {"value": ["3", 0]}}}
            """);
        Assert.That(bad.NodeErrors["3"].Errors.Select(e => (e.Type, e.InputName)), Is.EqualTo(new[]
        {
            (ReturnTypeMismatch, "value2"), (UnknownInput, "value3"), (UnknownInput, "valuex"),
        }));
    }

    [Test]
    public void A_cycle_is_reported_on_every_node_in_it()
    {
        var r = Validate("""
            {"7": {"class_type": "Add", "inputs": {"a": ["9", 0], "b": 1}},
             "8": {"class_type": "Add", "inputs": {"a": ["7", 0], "b": 1}},
             "9": {"class_type": "Add", "inputs": {"a": ["8", 0], "b": 1}},
             "10": {"class_type": "Add", "inputs": {"a": ["9", 0], "b": 1}},
             "11": {"class_type": "Output", "inputs": {"value": ["10", 0]}}}
            """);
        Assert.That(r.NodeErrors.Keys, Is.EquivalentTo(new[] { "7", "8", "9" }));
        foreach (var id in new[] { "7", "8", "9" })
        {
            var e = Single(r, id);
            Assert.That(e.Type, Is.EqualTo(DependencyCycle));
            Assert.That(e.ExtraInfo["cycle"]!.AsArray().Select(n => n!.GetValue<string>()), Is.EquivalentTo(new[] { "7", "8", "9" }));
        }
        Assert.That(r.Graph, Is.Null);
    }

    [Test]
    public void A_node_linking_to_itself_is_a_cycle()
    {
        var r = Validate("""{"1": {"class_type": "Add", "inputs": {"a": ["1", 0], "b": 1}}, "2": {"class_type": "Output", "inputs": {"value": ["1", 0]}}}""");
        Assert.That(Single(r, "1").Type, Is.EqualTo(DependencyCycle));
    }

    [Test]
    public void Every_error_of_every_node_is_collected_in_one_pass()
    {
        var r = Validate("""
            {"1": {"class_type": "Add", "inputs": {"a": "x"}},
             "2": {"class_type": "Const", "inputs": {"value": 5000}},
             "3": {"class_type": "Output", "inputs": {"value": ["1", 0]}},
             "4": {"class_type": "Output", "inputs": {"value": ["2", 0]}}}
            """);
        Assert.That(r.NodeErrors["1"].Errors.Select(e => e.Type), Is.EqualTo(new[] { InvalidInputType, RequiredInputMissing }));
        Assert.That(r.NodeErrors["2"].Errors.Select(e => e.Type), Is.EqualTo(new[] { ValueBiggerThanMax }));
    }

    [Test]
    public void Partial_outputs_follow_comfyui_when_allowed_and_are_refused_otherwise()
    {
        const string json = """
            {"1": {"class_type": "Const", "inputs": {"value": 5000}},
             "2": {"class_type": "Output", "inputs": {"value": ["1", 0]}},
             "3": {"class_type": "Const", "inputs": {"value": 1}},
             "4": {"class_type": "Output", "inputs": {"value": ["3", 0]}}}
            """;
        var strict = Validate(json);
        Assert.That(strict.Error!.Type, Is.EqualTo(PromptOutputsFailedValidation));
        Assert.That(strict.Graph, Is.Null);

        var partial = Validate(json, new ValidationOptions { AllowPartialOutputs = true });
        Assert.That(partial.Error, Is.Null);
        Assert.That(partial.NodeErrors.Keys, Is.EqualTo(new[] { "1" }));
        Assert.That(partial.Graph!.Outputs.Select(o => o.Id), Is.EqualTo(new[] { "4" }));
    }

    [Test]
    public void Output_targets_limit_what_is_validated_and_run()
    {
        var r = Validate("""
            {"1": {"class_type": "Const", "inputs": {"value": 5000}},
             "2": {"class_type": "Output", "inputs": {"value": ["1", 0]}},
             "3": {"class_type": "Const", "inputs": {"value": 1}},
             "4": {"class_type": "Output", "inputs": {"value": ["3", 0]}}}
            """, new ValidationOptions { OutputTargets = ["4"] });
        Assert.That(r.IsValid, r.ToJsonString());
        Assert.That(r.Graph!.Nodes.Select(n => n.Id), Is.EqualTo(new[] { "3", "4" }));
    }

    [Test]
    public void A_workflow_over_the_cost_budget_is_refused()
    {
        const string json = """
            {"1": {"class_type": "EmptyLatent", "inputs": {"width": 16384, "height": 16384, "batch_size": 4096}},
             "2": {"class_type": "Output", "inputs": {"value": ["1", 0]}}}
            """;
        var r = Validate(json, new ValidationOptions { CostBudget = 4096.0 * 4096 * 8 });
        Assert.That(r.Error!.Type, Is.EqualTo(CostBudgetExceeded));
        Assert.That(r.NodeErrors["1"].Errors[0].Type, Is.EqualTo(CostBudgetExceeded));
        Assert.That(r.Graph, Is.Null);
        Assert.That(Validate(json).IsValid, "no budget, no refusal");
    }

    [Test]
    public void Too_many_nodes_is_invalid_prompt()
    {
        var r = Validate("""{"1": {"class_type": "Const", "inputs": {"value": 1}}, "2": {"class_type": "Output", "inputs": {"value": ["1", 0]}}}""",
            new ValidationOptions { MaxNodes = 1 });
        Assert.That(r.Error!.Type, Is.EqualTo(InvalidPrompt));
    }

    [Test]
    public void Workflows_built_in_code_validate_like_parsed_ones()
    {
        // JsonNodes made in code hold CLR ints and doubles rather than JSON text.
        var prompt = new JsonObject
        {
            ["1"] = new JsonObject { ["class_type"] = "Scale", ["inputs"] = new JsonObject { ["x"] = 2, ["factor"] = 1.5f } },
            ["2"] = new JsonObject { ["class_type"] = "Add", ["inputs"] = new JsonObject { ["a"] = 2.9, ["b"] = (short)1 } },
            ["3"] = new JsonObject { ["class_type"] = "Output", ["inputs"] = new JsonObject { ["value"] = new JsonArray("1", 0) } },
            ["4"] = new JsonObject { ["class_type"] = "Output", ["inputs"] = new JsonObject { ["value"] = new JsonArray("2", (byte)0) } },
        };
        var r = WorkflowValidator.Validate(ApiWorkflow.FromJson(prompt), _nodes.Catalog);
        Assert.That(r.IsValid, r.ToJsonString());
        Assert.That(r.Graph!.Find("1")!.Literals["x"], Is.EqualTo(2.0));
        Assert.That(r.Graph.Find("2")!.Literals["a"], Is.EqualTo(2L));
        Assert.That(r.Graph.Find("2")!.Literals["b"], Is.EqualTo(1L));
    }

    [Test]
    public void Literal_lists_are_unwrapped_from_value()
    {
        var r = Validate("""{"1": {"class_type": "Output", "inputs": {"value": {"__value__": [1, 2]}}}}""");
        Assert.That(r.IsValid, r.ToJsonString());
        Assert.That(r.Graph!.Find("1")!.Literals["value"], Is.EqualTo(new List<object?> { 1L, 2L }));
    }

    [Test]
    public void The_node_errors_json_has_comfyui_shape()
    {
        var r = Validate("""{"1": {"class_type": "Sample", "inputs": {"seed": 1, "steps": 0}}, "2": {"class_type": "Output", "inputs": {"value": ["1", 0]}}}""");
        var json = r.ToJson();
        Assert.That(json.Select(p => p.Key), Is.EqualTo(new[] { "error", "node_errors" }));
        var node = json["node_errors"]!["1"]!.AsObject();
        Assert.That(node.Select(p => p.Key), Is.EqualTo(new[] { "errors", "dependent_outputs", "class_type" }));
        var error = node["errors"]![0]!.AsObject();
        Assert.That(error.Select(p => p.Key), Is.EqualTo(new[] { "type", "message", "details", "extra_info" }));
        Assert.That(node["errors"]!.AsArray().Select(e => e!["type"]!.GetValue<string>()),
            Is.EqualTo(new[] { RequiredInputMissing, ValueSmallerThanMin }));
        Assert.That(node["errors"]![1]!["message"]!.GetValue<string>(), Is.EqualTo("Value 0 smaller than min of 1"));
        Assert.That(json["error"]!["type"]!.GetValue<string>(), Is.EqualTo(PromptOutputsFailedValidation));
    }
}

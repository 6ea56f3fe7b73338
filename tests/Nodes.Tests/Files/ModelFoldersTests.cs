using CharacterGen.Nodes.Files;

namespace CharacterGen.Nodes.Tests.Files;

/// <summary>
/// Model folders as operators lay them out: links into shared storage are followed, extra_model_paths.yaml adds
/// folders, and client names still only select files inside the folders by their text.
/// </summary>
public sealed class ModelFoldersTests
{
    private string _base = "", _models = "", _shared = "";

    [SetUp]
    public void MakeTree()
    {
        _base = Path.Combine(Path.GetTempPath(), "cg-modelfolders-" + Guid.NewGuid().ToString("N"));
        _models = Path.Combine(_base, "models");
        _shared = Path.Combine(_base, "shared-storage");
        Directory.CreateDirectory(Path.Combine(_models, "checkpoints", "people"));
        Directory.CreateDirectory(_shared);
    }

    [TearDown]
    public void RemoveTree() => Directory.Delete(_base, recursive: true);

    private string Touch(params string[] parts)
    {
        string path = Path.Combine([_base, .. parts]);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, "x");
        return path;
    }

    [Test]
    public void Lists_only_weight_files_and_reads_legacy_folder_names()
    {
        Touch("models", "checkpoints", "a.safetensors");
        Touch("models", "checkpoints", "people", "b.sft");
        Touch("models", "checkpoints", "old.ckpt");
        Touch("models", "clip", "legacy.safetensors");
        var folders = new ModelFolders(_models);
        Assert.That(folders.List("checkpoints"), Is.EqualTo(new[] { "a.safetensors", "people/b.sft" }));
        Assert.That(folders.List("text_encoders"), Is.EqualTo(new[] { "legacy.safetensors" }), "legacy clip/ folder is read");
        Assert.That(folders.List("loras"), Is.Empty);
        Assert.That(folders.Resolve("checkpoints", "people/b.sft"), Does.EndWith("people/b.sft"));
        Assert.Throws<ArgumentException>(() => folders.List("nonsense"));
    }

    [Test]
    public void A_checkpoint_linked_in_from_shared_storage_is_listed_and_resolves()
    {
        string target = Touch("shared-storage", "v1-5-pruned-emaonly.safetensors");
        File.CreateSymbolicLink(Path.Combine(_models, "checkpoints", "v1-5.safetensors"), target);
        Directory.CreateSymbolicLink(Path.Combine(_models, "checkpoints", "team"), _shared);

        var folders = new ModelFolders(_models);
        Assert.That(folders.List("checkpoints"), Is.EqualTo(new[] { "team/v1-5-pruned-emaonly.safetensors", "v1-5.safetensors" }));
        Assert.That(File.ReadAllText(folders.Resolve("checkpoints", "v1-5.safetensors")), Is.EqualTo("x"));
        Assert.That(File.ReadAllText(folders.Resolve("checkpoints", "team/v1-5-pruned-emaonly.safetensors")), Is.EqualTo("x"));
    }

    [Test]
    public void A_link_loop_is_listed_once_and_a_dangling_link_is_left_out()
    {
        Touch("models", "checkpoints", "people", "b.safetensors");
        Directory.CreateSymbolicLink(Path.Combine(_models, "checkpoints", "people", "again"), Path.Combine(_models, "checkpoints"));
        File.CreateSymbolicLink(Path.Combine(_models, "checkpoints", "gone.safetensors"), Path.Combine(_shared, "deleted.safetensors"));

        var listed = new ModelFolders(_models).List("checkpoints");
        Assert.That(listed, Is.EqualTo(new[] { "people/b.safetensors" }));
    }

    [TestCase("../../shared-storage/x.safetensors")]
    [TestCase("/etc/passwd")]
    [TestCase("~/x.safetensors")]
    [TestCase("a\0b.safetensors")]
    public void Client_names_cannot_leave_the_folders(string name)
    {
        Touch("shared-storage", "x.safetensors");
        Assert.Throws<PathEscapeException>(() => new ModelFolders(_models).Resolve("checkpoints", name));
    }

    [Test]
    public void A_missing_file_names_every_folder_searched()
    {
        File.WriteAllText(Path.Combine(_models, ExtraModelPaths.FileName), """
            a111:
                base_path: ../webui
                checkpoints: models/Stable-diffusion
            """);
        var e = Assert.Throws<FileNotFoundException>(() => new ModelFolders(_models).Resolve("checkpoints", "x.safetensors"))!;
        Assert.That(e.Message, Is.EqualTo("no checkpoints file named 'x.safetensors'; searched checkpoints/, a111:models/Stable-diffusion"));
        Assert.That(e.Message, Does.Not.Contain(_base), "no absolute server paths in a message clients see");
    }

    [Test]
    public void Extra_model_paths_yaml_adds_folders_as_comfyui_reads_them()
    {
        Environment.SetEnvironmentVariable("CG_TEST_WEBUI", Path.Combine(_base, "webui"));
        try
        {
            Touch("webui", "models", "Stable-diffusion", "sd15.safetensors");
            Touch("webui", "models", "Lora", "one.safetensors");
            Touch("webui", "models", "LyCORIS", "two.safetensors");
            Touch("comfy", "models", "clip", "t5.safetensors");
            Touch("comfy", "models", "checkpoints", "first.safetensors");
            Touch("models", "checkpoints", "first.safetensors");
            string config = Path.Combine(_base, "config", "extra_model_paths.yaml");
            Directory.CreateDirectory(Path.GetDirectoryName(config)!);
            File.WriteAllText(config, """
                a111:
                    base_path: ${CG_TEST_WEBUI}
                    checkpoints: models/Stable-diffusion
                    configs: models/Stable-diffusion
                    loras: |
                         models/Lora
                         models/LyCORIS
                    hypernetworks: models/hypernetworks
                comfyui:
                    base_path: ../comfy/
                    is_default: true
                    checkpoints: models/checkpoints/
                    clip: models/clip/
                empty:
                """);

            var folders = new ModelFolders(_models, [config]);
            Assert.That(folders.List("checkpoints"), Is.EqualTo(new[] { "first.safetensors", "sd15.safetensors" }));
            Assert.That(folders.List("loras"), Is.EqualTo(new[] { "one.safetensors", "two.safetensors" }));
            Assert.That(folders.List("text_encoders"), Is.EqualTo(new[] { "t5.safetensors" }), "ComfyUI's legacy key clip means text_encoders");
            Assert.That(folders.Resolve("checkpoints", "first.safetensors"), Is.EqualTo(Path.Combine(_base, "comfy", "models", "checkpoints", "first.safetensors")),
                "is_default folders are searched before the models root");
            Assert.That(folders.Resolve("checkpoints", "sd15.safetensors"), Does.StartWith(Path.Combine(_base, "webui")));
        }
        finally
        {
            Environment.SetEnvironmentVariable("CG_TEST_WEBUI", null);
        }
    }

    [TestCase("just text")]
    [TestCase("group: [1, 2]")]
    [TestCase("group:\n  checkpoints: [a, b]")]
    [TestCase("group: {checkpoints: \"a\"\n")]
    public void A_malformed_extra_model_paths_yaml_is_refused_with_its_name(string text)
    {
        File.WriteAllText(Path.Combine(_models, ExtraModelPaths.FileName), text);
        var e = Assert.Throws<InvalidDataException>(() => _ = new ModelFolders(_models))!;
        Assert.That(e.Message, Does.StartWith(ExtraModelPaths.FileName));
    }

    [Test]
    public void A_named_extra_config_that_does_not_exist_is_an_error() =>
        Assert.Throws<FileNotFoundException>(() => _ = new ModelFolders(_models, [Path.Combine(_base, "nope.yaml")]));
}

using CharacterGen.Diffusion.Checkpoints;
using CharacterGen.Diffusion.RandomWeights;

namespace CharacterGen.Diffusion.Tests.Training;

/// <summary>The training tests' tiny random-weight SD1.5 checkpoint (seed 3, vocabulary 500), written and loaded once per fixture.</summary>
public abstract class TinyCheckpointFixture(CheckpointParts parts)
{
    /// <summary>A scratch folder for the fixture's files, deleted with the checkpoint.</summary>
    protected string Folder { get; private set; } = "";

    protected StableDiffusionCheckpoint Checkpoint { get; private set; } = null!;

    [OneTimeSetUp]
    public void LoadTinyCheckpoint()
    {
        Folder = Directory.CreateTempSubdirectory("cg-train-").FullName;
        string path = Path.Combine(Folder, "tiny.safetensors");
        TestCheckpoints.WriteSd15(path, seed: 3, TinySizes.Default.WithVocabSize(500));
        Checkpoint = CheckpointLoader.Load(path, parts: parts);
    }

    [OneTimeTearDown]
    public void DisposeTinyCheckpoint()
    {
        Checkpoint.Dispose();
        Directory.Delete(Folder, recursive: true);
    }
}

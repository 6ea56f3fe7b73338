using CharacterGen.Diffusion.Checkpoints;
using CharacterGen.Diffusion.Lora;
using CharacterGen.Diffusion.RandomWeights;
using CharacterGen.Diffusion.Training;
using CharacterGen.Tensors;

namespace CharacterGen.Diffusion.Tests.Training;

/// <summary>LoRA training on a tiny SDXL checkpoint: the ADM vector reaches the UNet, keys use kohya's SDXL (LDM) names.</summary>
public sealed class SdxlLoraTrainingTests
{
    [Test]
    public void AnSdxlLoraTrainsWithTheAdmVectorAndLoadsWithLdmKohyaNames()
    {
        string dir = Directory.CreateTempSubdirectory("cg-train-sdxl-").FullName;
        try
        {
            string ckptPath = Path.Combine(dir, "tiny_xl.safetensors");
            TestCheckpoints.WriteSdxl(ckptPath, seed: 5);
            using var ckpt = CheckpointLoader.Load(ckptPath, parts: CheckpointParts.Unet | CheckpointParts.Clip);
            var config = ckpt.Unet!.Config;
            var samples = LoraTrainerTests.Samples(2, 21, config.ContextDim, config.AdmInChannels!.Value);
            try
            {
                long baseline = Tensor.LiveCount;
                var options = new LoraTrainingOptions { Steps = 2, Rank = 4, Alpha = 2, Targets = LoraTargets.Transformer, Seed = 3 };
                string path = Path.Combine(dir, "xl.safetensors");
                using (TrainedLora lora = new LoraTrainer(ckpt.Unet, ckpt.Family, ckpt.Prediction, samples, options).Train("xl"))
                {
                    Assert.That(lora.Losses, Has.Count.EqualTo(2).And.All.GreaterThan(0));
                    Assert.That(lora.Metadata["ss_base_model_version"], Is.EqualTo("sdxl_base_v1-0"));
                    Assert.That(lora.Tensors.Select(t => t.Key), Has.Some.StartsWith("lora_unet_input_blocks_").And.Some.Contains("_proj_in."));
                    lora.Save(path);
                }
                Assert.That(Tensor.LiveCount, Is.EqualTo(baseline));

                using LoraFile file = LoraFile.Load(path);
                using LoraPatches patches = LoraMapper.Map(file, "xl", ckpt.Unet, ckpt.Clip, "tiny_xl", ckpt.ClipG);
                Assert.That(patches.Unmatched, Is.Empty);
                Assert.That(patches.Patches.Select(p => p.ParameterName), Has.Some.Contains("transformer_blocks.0.ff.net.0.proj"));

                var noAdm = LoraTrainerTests.Samples(1, 22, config.ContextDim);
                try
                {
                    Assert.Throws<ArgumentException>(() => new LoraTrainer(ckpt.Unet, ckpt.Family, ckpt.Prediction, noAdm, options).Train("xl").Dispose());
                }
                finally
                {
                    noAdm.ForEach(s => s.Dispose());
                }
            }
            finally
            {
                samples.ForEach(s => s.Dispose());
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}

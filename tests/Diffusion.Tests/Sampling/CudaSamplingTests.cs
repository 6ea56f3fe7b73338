using CharacterGen.Diffusion.Sampling;
using CharacterGen.Tensors;

namespace CharacterGen.Diffusion.Tests.Sampling;

/// <summary>Runs only where libtorch sees a GPU: sampling a CUDA latent gives the CPU result, on the GPU.</summary>
public sealed class CudaSamplingTests
{
    [Test]
    public void CudaLatentSamplesLikeTheCpu([Values("euler_ancestral", "dpmpp_2m_sde", "uni_pc")] string sampler)
    {
        if (!Cuda.IsAvailable) Assert.Ignore("no CUDA device");
        using var scope = Torch.NewScope();
        var ms = DiscreteModelSampling.Eps();
        Tensor latent = Torch.Randn([1, 4, 16, 16], 4UL) * 2.0;
        Tensor mask = Torch.Cat([Torch.Ones([1, 128, 64]), Torch.Zeros([1, 128, 64])], 2);
        var settings = new KSamplerSettings { Seed = 21, Steps = 8, SamplerName = sampler, SchedulerName = "karras", Denoise = 0.8 };
        Tensor Run(Device d) => KSampler.Sample(new CfgGuider<double>(new ToyConditionedModel(), 0.5, -0.5, 3), ms, LatentFormat.SD15,
            latent.To(d), settings, noiseMask: mask.To(d));
        Tensor gpu = Run(Device.Cuda());
        Assert.That(gpu.Device, Is.EqualTo(Device.Cuda()));
        Close.Assert(gpu.To(Device.Cpu), Run(Device.Cpu), 1e-4, 1e-4);
    }
}

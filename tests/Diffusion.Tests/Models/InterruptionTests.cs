using System.Diagnostics;
using CharacterGen.Diffusion.Checkpoints;
using CharacterGen.Diffusion.Models;
using CharacterGen.Diffusion.Models.Vae;
using CharacterGen.Tensors;

namespace CharacterGen.Diffusion.Tests.Models;

/// <summary>
/// Cancellation inside long model calls (issue #10): the watched token stops the UNet between blocks, attention
/// between query chunks and the tiled VAE between tiles, instead of at the end of a sampler step.
/// </summary>
public sealed class InterruptionTests
{
    private StableDiffusionCheckpoint _checkpoint = null!;

    [OneTimeSetUp]
    public void LoadCheckpoint() => _checkpoint = ModelFixture.Load();

    [OneTimeTearDown]
    public void Dispose() => _checkpoint.Dispose();

    [Test]
    public void A_cancelled_watch_stops_the_unet_and_a_finished_watch_no_longer_does()
    {
        long live = Tensor.LiveCount;
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        var unet = _checkpoint.Unet!;
        using var scope = Torch.NewScope();
        Tensor x = Torch.Zeros([1, 4, 8, 8]), t = Torch.Full([1], 10.0), ctx = Torch.Zeros([1, 77, unet.Config.ContextDim]);

        using (Interrupts.WatchToken(cancelled.Token))
            Assert.Throws<OperationCanceledException>(() => unet.Forward(x, t, ctx));
        Assert.That(unet.Forward(x, t, ctx).Shape, Is.EqualTo(new long[] { 1, 4, 8, 8 }), "the previous (empty) watch is back");
        scope.Dispose();
        Assert.That(Tensor.LiveCount, Is.EqualTo(live), "the interrupted forward leaked nothing");
    }

    [Test]
    public void Chunked_attention_equals_the_whole_computation()
    {
        using var scope = Torch.NewScope();
        // 2 heads × 4,200 queries × 8,200 keys = 68.9 Mi scores: just over the chunking threshold (two chunks).
        Tensor q = Torch.Randn([1, 2, 4200, 4], seed: 1), k = Torch.Randn([1, 2, 8200, 4], seed: 2), v = Torch.Randn([1, 2, 8200, 4], seed: 3);
        Assert.That(2L * 4200 * 8200, Is.GreaterThan(ChunkedAttention.MaxScoreElements));
        TensorCompare.Close(ChunkedAttention.Compute(q, k, v), F.ScaledDotProductAttention(q, k, v), rel: 1e-5);
    }

    [Test]
    public void A_cancel_during_a_long_attention_takes_effect_between_chunks()
    {
        using var scope = Torch.NewScope();
        // 65,536² scores: 64 chunks, many seconds of work on a CPU.
        Tensor q = Torch.Randn([1, 1, 65536, 4], seed: 1);
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
        var clock = Stopwatch.StartNew();
        using (Interrupts.WatchToken(cancel.Token))
            Assert.Throws<OperationCanceledException>(() => ChunkedAttention.Compute(q, q, q));
        Assert.That(clock.Elapsed, Is.LessThan(TimeSpan.FromSeconds(5)));
    }

    [Test]
    public void Tiles_blend_back_to_the_whole_result_for_a_local_operation()
    {
        using var scope = Torch.NewScope();
        Tensor latent = Torch.Randn([2, 4, 100, 150], seed: 4);
        // Nearest ×8 upsampling only looks at its own pixel, so overlapping tiles must reproduce it exactly.
        Tensor tiled = TiledVae.Map(latent, 64, 16, 8, 1, 4, t => F.Interpolate(t, 8.0));
        TensorCompare.Close(tiled, F.Interpolate(latent, 8.0), rel: 1e-6);
    }

    [Test]
    public void Tile_origins_cover_the_side_with_the_last_tile_flush_with_the_end()
    {
        Assert.That(TiledVae.Starts(50, 64, 16), Is.EqualTo(new long[] { 0 }));
        Assert.That(TiledVae.Starts(150, 64, 16), Is.EqualTo(new long[] { 0, 48, 86 }));
        Assert.That(TiledVae.Starts(64, 64, 16), Is.EqualTo(new long[] { 0 }));
    }

    [Test]
    public void A_latent_within_one_tile_decodes_exactly_as_the_whole_and_a_cancel_stops_between_tiles()
    {
        using var scope = Torch.NewScope();
        var vae = _checkpoint.Vae!;
        Tensor small = Torch.Randn([1, 4, 6, 9], seed: 5);
        TensorCompare.Close(TiledVae.Decode(vae, small), vae.Decode(small), rel: 1e-6);

        Tensor big = Torch.Randn([1, 4, 20, 20], seed: 6);
        Assert.That(TiledVae.Decode(vae, big, tile: 8, overlap: 2).Shape, Is.EqualTo(new long[] { 1, 3, 160, 160 }));
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        using (Interrupts.WatchToken(cancelled.Token))
            Assert.Throws<OperationCanceledException>(() => TiledVae.Decode(vae, big, tile: 8, overlap: 2));
    }
}

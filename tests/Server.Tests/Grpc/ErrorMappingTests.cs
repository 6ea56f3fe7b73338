using CharacterGen.Nodes.Files;
using CharacterGen.Server.Grpc;

namespace CharacterGen.Server.Tests.Grpc;

/// <summary>Domain failures that are the client's to see get their status in the one mapper; bugs get none.</summary>
public sealed class ErrorMappingTests
{
    [Test]
    public void A_full_disk_is_resource_exhausted_naming_the_folder()
    {
        var status = GrpcErrorMapping.Map(new StorageFullException("assets"))!.Status;
        Assert.That(status.StatusCode, Is.EqualTo(StatusCode.ResourceExhausted));
        Assert.That(status.Detail, Does.Contain("assets folder"));
    }

    [Test]
    public void Anything_unknown_is_left_to_the_internal_error_path() =>
        Assert.That(GrpcErrorMapping.Map(new InvalidOperationException("bug")), Is.Null);
}

using CharacterGen.Grpc.Bench.Protos;
using CharacterGen.Protos.V1;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;

namespace CharacterGen.Grpc.Bench;

/// <summary>cgbench.v1.Bench on the server's gRPC stack: the same work as python_server.py.</summary>
public sealed class BenchService : Protos.Bench.BenchBase
{
    public override Task<PingReply> Ping(PingRequest request, ServerCallContext context) =>
        Task.FromResult(new PingReply { Text = request.Text });

    public override async Task Events(EventsRequest request, IServerStreamWriter<JobEvent> responses, ServerCallContext context)
    {
        const string jobId = "00000000-0000-4000-8000-000000000000";
        for (var i = 1; i <= request.Count; i++)
        {
            await responses.WriteAsync(new JobEvent
            {
                JobId = jobId,
                Sequence = i,
                Time = Timestamp.FromDateTime(DateTime.UtcNow),
                NodeProgress = new NodeProgress { NodeId = "3", Value = i, Max = request.Count },
            }, context.CancellationToken);
        }
    }
}

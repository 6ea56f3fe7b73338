using CharacterGen.Protos.V1;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;

namespace CharacterGen.Server.Characters;

/// <summary>Stored records → proto messages. Inline bytes are filled in by the service when a request asks for them.</summary>
public static class CharacterMapping
{
    public static CharacterState ToProto(CharacterStatus status) => status switch
    {
        CharacterStatus.Initial => CharacterState.Initial,
        CharacterStatus.BaseApproved => CharacterState.BaseApproved,
        CharacterStatus.GeneratingTraining => CharacterState.GeneratingTraining,
        CharacterStatus.Training => CharacterState.Training,
        CharacterStatus.Ready => CharacterState.Ready,
        _ => CharacterState.Error,
    };

    public static Character ToProto(CharacterRecord c, IReadOnlyList<CandidateRecord> candidates, IReadOnlyList<TrainingImageRecord> images,
        TrainingRunRecord? run)
    {
        var proto = new Character
        {
            CharacterId = c.Id,
            Name = c.Name,
            Description = c.Description,
            NegativePrompt = c.NegativePrompt,
            State = ToProto(c.Status),
            ErrorMessage = c.ErrorMessage,
            Checkpoint = c.Checkpoint,
            TriggerWord = c.TriggerWord,
            ApprovedCandidateId = c.ApprovedCandidateId ?? "",
            CandidateCount = candidates.Count,
            TrainingImageCount = images.Count,
            LoraName = c.LoraName ?? "",
            CreatedAt = Timestamp.FromDateTimeOffset(c.CreatedAt),
            UpdatedAt = Timestamp.FromDateTimeOffset(c.UpdatedAt),
        };
        if (candidates.FirstOrDefault(k => k.Id == c.ApprovedCandidateId) is { } approved) proto.BaseImage = ToProto(approved.Image);
        if (c.Status == CharacterStatus.GeneratingTraining && c.Plan is { } plan)
        {
            proto.TrainingSetTotal = plan.Images.Count;
            proto.TrainingSetDone = plan.Images.Count(p => images.Any(i => i.Index == p.Index));
        }
        if (run is not null) proto.Training = ToProto(run);
        return proto;
    }

    public static ImageRef ToProto(StoredImage image, byte[]? content = null) => new()
    {
        AssetId = image.AssetId,
        Width = image.Width,
        Height = image.Height,
        Content = content is null ? ByteString.Empty : ByteString.CopyFrom(content),
    };

    public static Candidate ToProto(CandidateRecord c, string? approvedId, byte[]? content = null) => new()
    {
        CandidateId = c.Id,
        Image = ToProto(c.Image, content),
        Prompt = c.Prompt,
        Seed = c.Seed,
        Approved = c.Id == approvedId,
        CreatedAt = Timestamp.FromDateTimeOffset(c.CreatedAt),
    };

    public static TrainingImage ToProto(TrainingImageRecord t, byte[]? content = null) => new()
    {
        TrainingImageId = t.Id,
        Index = t.Index,
        Image = ToProto(t.Image, content),
        Prompt = t.Prompt,
        Seed = t.Seed,
        CreatedAt = Timestamp.FromDateTimeOffset(t.CreatedAt),
    };

    public static TrainingRun ToProto(TrainingRunRecord run)
    {
        var proto = new TrainingRun
        {
            Rank = run.Rank,
            Alpha = run.Alpha,
            Steps = run.Steps,
            LearningRate = run.LearningRate,
            Seed = run.Seed,
            StartedAt = Timestamp.FromDateTimeOffset(run.StartedAt),
        };
        if (run.LastProgress is { } json) proto.Progress = TrainingProgress.Parser.ParseJson(json);
        if (run.FinishedAt is { } finished) proto.FinishedAt = Timestamp.FromDateTimeOffset(finished);
        return proto;
    }

    public static CharacterEvent StateChanged(string id, CharacterStatus from, CharacterStatus to, string message = "") => new()
    {
        CharacterId = id,
        StateChanged = new StateChanged { From = ToProto(from), To = ToProto(to), Message = message },
    };
}

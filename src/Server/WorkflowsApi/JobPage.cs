using System.Text;
using CharacterGen.GraphRuntime.Execution;
using CharacterGen.GraphRuntime.Jobs;
using CharacterGen.Server.Grpc;
using Proto = CharacterGen.Protos.V1;

namespace CharacterGen.Server.WorkflowsApi;

/// <summary>
/// One page of ListJobs. The token names the last job of the previous page (and its index, used only
/// if that job has since left the list), so finished jobs do not shift between pages as new jobs finish.
/// It also carries the filter: a token is only valid with the states it was made for.
/// </summary>
internal static class JobPage
{
    public const int DefaultPageSize = 50;
    public const int MaxPageSize = 1000;

    /// <summary>The page's jobs (with queue positions) and the token for the next page ("" when this is the last).</summary>
    public static (IReadOnlyList<Proto.Job> Jobs, string NextToken) Select(
        IReadOnlyList<JobSnapshot> all, IReadOnlyCollection<Proto.JobState> states, int pageSize, string pageToken)
    {
        if (pageSize < 0) RpcErrors.ThrowInvalidArgument("page_size", "must not be negative");
        var size = pageSize == 0 ? DefaultPageSize : Math.Min(pageSize, MaxPageSize);
        var filter = FilterKey(states);

        // Positions count every pending job, whatever the filter.
        var listed = new List<(JobSnapshot Job, int Position)>();
        var pending = 0;
        foreach (var job in all)
        {
            var position = job.Status == JobStatus.Pending ? pending++ : 0;
            if (states.Count == 0 || states.Contains(JobMapping.ToProto(job.Status))) listed.Add((job, position));
        }

        var start = pageToken.Length == 0 ? 0 : StartAfter(listed, pageToken, filter);
        var page = listed.Skip(start).Take(size).ToList();
        var end = start + page.Count;
        var next = end < listed.Count && page.Count > 0 ? Token(page[^1].Job.Id, end, filter) : "";
        return (page.Select(p => JobMapping.ToProto(p.Job, p.Position)).ToList(), next);
    }

    private static int StartAfter(List<(JobSnapshot Job, int Position)> listed, string token, string filter)
    {
        if (!TryRead(token, out var lastId, out var index, out var tokenFilter) || tokenFilter != filter)
            RpcErrors.ThrowInvalidArgument("page_token", "is not a next_page_token of a ListJobs call with the same states");
        var found = listed.FindIndex(entry => entry.Job.Id == lastId);
        return found >= 0 ? found + 1 : Math.Min(index, listed.Count);
    }

    private static string FilterKey(IReadOnlyCollection<Proto.JobState> states) =>
        string.Join(",", states.Select(s => (int)s).Distinct().Order());

    private static string Token(string lastJobId, int index, string filter) =>
        Convert.ToBase64String(Encoding.UTF8.GetBytes($"1\n{lastJobId}\n{index}\n{filter}"));

    private static bool TryRead(string token, out string lastJobId, out int index, out string filter)
    {
        lastJobId = filter = "";
        index = 0;
        var bytes = new byte[token.Length];
        if (!Convert.TryFromBase64String(token, bytes, out var length)) return false;
        var parts = Encoding.UTF8.GetString(bytes, 0, length).Split('\n');
        if (parts.Length != 4 || parts[0] != "1" || !int.TryParse(parts[2], out index) || index < 0) return false;
        lastJobId = parts[1];
        filter = parts[3];
        return true;
    }
}

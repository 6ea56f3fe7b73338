using CharacterGen.GraphRuntime.Execution;
using CharacterGen.Protos.V1;
using CharacterGen.Server.Grpc;
using CharacterGen.Server.Tests.WorkflowsApi.Support;

namespace CharacterGen.Server.Tests.WorkflowsApi;

/// <summary>ListJobs: filtering by state and paging.</summary>
public sealed class ListJobsTests : WorkflowsFixture
{
    private async Task<List<string>> CompletedJobsAsync(int count, Func<int, string>? workflow = null)
    {
        var ids = new List<string>();
        for (var i = 0; i < count; i++)
        {
            var submitted = await Workflows.SubmitAsync(workflow?.Invoke(i) ?? TestWorkflows.Pipeline(100 + i));
            await Server.FinishedAsync(submitted.JobId);
            ids.Add(submitted.JobId);
        }
        return ids;
    }

    private Task<ListJobsResponse> PageAsync(int size, string token, params JobState[] states) =>
        Workflows.OkAsync("ListJobs", new ListJobsRequest { PageSize = size, PageToken = token, States = { states } }, ListJobsResponse.Parser);

    private async Task<List<List<string>>> AllPagesAsync(int size, params JobState[] states)
    {
        var pages = new List<List<string>>();
        var token = "";
        do
        {
            var page = await PageAsync(size, token, states);
            pages.Add(page.Jobs.Select(j => j.JobId).ToList());
            token = page.NextPageToken;
        } while (token.Length > 0 && pages.Count < 1000);
        return pages;
    }

    [Test]
    public async Task Pages_cover_every_matching_job_once_in_list_order()
    {
        var mine = await CompletedJobsAsync(5);

        var pages = await AllPagesAsync(2, JobState.Succeeded);

        var expected = Server.Engine.ListJobs().Where(j => j.Status == JobStatus.Succeeded).Select(j => j.Id).ToList();
        Assert.That(pages.SelectMany(p => p), Is.EqualTo(expected));
        Assert.That(pages.Take(pages.Count - 1).Select(p => p.Count), Is.All.EqualTo(2));
        Assert.That(expected.Take(5), Is.EqualTo(Enumerable.Reverse(mine)), "finished jobs are listed newest first");
    }

    [Test]
    public async Task Jobs_finishing_between_pages_do_not_shift_the_later_pages()
    {
        await CompletedJobsAsync(4);
        var before = Server.Engine.ListJobs().Where(j => j.Status == JobStatus.Succeeded).Select(j => j.Id).ToList();
        var first = await PageAsync(2, "", JobState.Succeeded);

        var newcomer = (await CompletedJobsAsync(1)).Single();
        var rest = new List<string>();
        for (var token = first.NextPageToken; token.Length > 0;)
        {
            var page = await PageAsync(2, token, JobState.Succeeded);
            rest.AddRange(page.Jobs.Select(j => j.JobId));
            token = page.NextPageToken;
        }

        Assert.That(first.Jobs.Select(j => j.JobId).Concat(rest), Is.EqualTo(before));
        Assert.That(rest, Does.Not.Contain(newcomer));
    }

    [Test]
    public async Task States_filter_the_list_and_positions_count_every_pending_job()
    {
        var failed = (await CompletedJobsAsync(1, _ => TestWorkflows.Failing("x"))).Single();
        var gate = Key();
        var running = await Workflows.SubmitAsync(TestWorkflows.Pipeline(1, gate: gate));
        await Server.Gates.Entered(gate).WaitAsync(Hang);
        var pendingA = await Workflows.SubmitAsync(TestWorkflows.Pipeline(2));
        var pendingB = await Workflows.SubmitAsync(TestWorkflows.Pipeline(3));

        var onlyFailed = await PageAsync(0, "", JobState.Failed);
        var active = await PageAsync(0, "", JobState.Running, JobState.Pending);

        Assert.That(onlyFailed.Jobs.Select(j => j.State), Is.All.EqualTo(JobState.Failed));
        Assert.That(onlyFailed.Jobs[0].JobId, Is.EqualTo(failed));
        Assert.That(active.Jobs.Select(j => (j.JobId, j.State, j.QueuePosition)), Is.EqualTo(new[]
        {
            (running.JobId, JobState.Running, 0), (pendingA.JobId, JobState.Pending, 0), (pendingB.JobId, JobState.Pending, 1),
        }));
        Assert.That(active.NextPageToken, Is.Empty);
    }

    [Test]
    public async Task Bad_paging_arguments_are_refused()
    {
        await CompletedJobsAsync(3);
        var page = await PageAsync(1, "", JobState.Succeeded);

        var negative = await Workflows.CallAsync("ListJobs", new ListJobsRequest { PageSize = -1 });
        var garbage = await Workflows.CallAsync("ListJobs", new ListJobsRequest { PageToken = "not-a-token" });
        var otherFilter = await Workflows.CallAsync("ListJobs", new ListJobsRequest { PageToken = page.NextPageToken, States = { JobState.Failed } });
        var unspecified = await Workflows.CallAsync("ListJobs", new ListJobsRequest { States = { JobState.Unspecified } });

        Assert.That(page.NextPageToken, Is.Not.Empty);
        Assert.That(new[] { negative.Status, garbage.Status, otherFilter.Status, unspecified.Status }, Is.All.EqualTo(StatusCode.InvalidArgument));
        Assert.That(garbage.RichStatus!.Details.Single().Unpack<Google.Rpc.BadRequest>().FieldViolations.Single().Field, Is.EqualTo("page_token"));
    }
}

using Orleans.Concurrency;
using OrleansVault.Projects;

namespace OrleansVault.Grains.Audit;

/// <summary>Writes and reads a project's audit events through the silo's <see cref="IAuditStore"/>; holds no state of its own.</summary>
[StatelessWorker]
public sealed class AuditGrain(IAuditStore store) : Grain, IAuditGrain
{
    public const int MaxQueryLimit = 1000;

    public Task Append(IReadOnlyList<AuditEvent> events)
    {
        var projectId = this.GetPrimaryKeyString();
        return store.AppendAsync([.. events.Where(e => string.Equals(e.ProjectId, projectId, StringComparison.Ordinal))]);
    }

    public Task<IReadOnlyList<AuditEvent>> Query(long since, int limit) =>
        store.QueryAsync(this.GetPrimaryKeyString(), since, Math.Clamp(limit, 1, MaxQueryLimit));
}

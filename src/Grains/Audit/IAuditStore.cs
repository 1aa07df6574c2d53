using OrleansVault.Projects;

namespace OrleansVault.Grains.Audit;

/// <summary>Where audit events are kept: append-only, queryable per project. The silo's hosting provides it.</summary>
public interface IAuditStore
{
    Task AppendAsync(IReadOnlyList<AuditEvent> events);

    Task<IReadOnlyList<AuditEvent>> QueryAsync(string projectId, long since, int limit);
}

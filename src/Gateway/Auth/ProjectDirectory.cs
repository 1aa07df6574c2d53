using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using OrleansVault.Gateway.Options;
using OrleansVault.Projects;

namespace OrleansVault.Gateway.Auth;

/// <summary>Project configuration as a gateway reads it: from the project grain, reused for a short, configurable time.</summary>
public sealed class ProjectDirectory(IGrainFactory grains, IOptions<AuthOptions> options, TimeProvider time)
{
    private readonly ConcurrentDictionary<string, (ProjectSnapshot? Snapshot, DateTimeOffset FetchedAt)> _cache = new(StringComparer.Ordinal);

    public async ValueTask<ProjectSnapshot?> GetAsync(string projectId)
    {
        if (_cache.TryGetValue(projectId, out var entry) && time.GetUtcNow() - entry.FetchedAt < options.Value.ProjectCacheTtl)
        {
            return entry.Snapshot;
        }

        var snapshot = await grains.GetGrain<IProjectGrain>(projectId).GetSnapshot();
        _cache[projectId] = (snapshot, time.GetUtcNow());
        return snapshot;
    }

    /// <summary>Replaces the cached copy after a change made through this gateway.</summary>
    public void Update(ProjectSnapshot snapshot) => _cache[snapshot.ProjectId] = (snapshot, time.GetUtcNow());
}

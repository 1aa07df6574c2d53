using OrleansVault.Projects;

namespace OrleansVault.Grains.Projects;

/// <summary>The persisted configuration of a project.</summary>
[GenerateSerializer]
[Alias("ov.ProjectState")]
public sealed class ProjectState
{
    [Id(0)]
    public bool Exists { get; set; }

    [Id(1)]
    public List<ApiKeyRecord> Keys { get; set; } = [];

    [Id(2)]
    public List<ClassPolicy> Classes { get; set; } = [];

    [Id(3)]
    public long Version { get; set; }
}

/// <summary>A project: keys and class policies, kept in one grain so every gateway of a cluster sees the same configuration.</summary>
public sealed class ProjectGrain(
    [PersistentState("project", "VaultStore")] IPersistentState<ProjectState> state) : Grain, IProjectGrain
{
    public Task<ProjectSnapshot?> GetSnapshot()
    {
        return Task.FromResult(state.State.Exists ? Snapshot() : null);
    }

    public async Task<ProjectSnapshot> UpsertKey(ApiKeyRecord key)
    {
        var keys = state.State.Keys;
        var index = keys.FindIndex(k => string.Equals(k.KeyId, key.KeyId, StringComparison.Ordinal));
        if (index >= 0)
        {
            keys[index] = key;
        }
        else
        {
            keys.Add(key);
        }

        return await SaveAsync();
    }

    public async Task<ProjectSnapshot> UpsertClass(ClassPolicy policy)
    {
        var classes = state.State.Classes;
        classes.RemoveAll(c => string.Equals(c.Name, policy.Name, StringComparison.Ordinal));
        classes.Add(policy);
        return await SaveAsync();
    }

    public Task<ClassPolicy> GetClassPolicy(string className)
    {
        var policy = state.State.Classes.FirstOrDefault(c => string.Equals(c.Name, className, StringComparison.Ordinal))
            ?? ClassPolicy.Default(className);
        return Task.FromResult(policy);
    }

    private async Task<ProjectSnapshot> SaveAsync()
    {
        state.State.Exists = true;
        state.State.Version++;
        await state.WriteStateAsync();
        return Snapshot();
    }

    private ProjectSnapshot Snapshot() =>
        new(this.GetPrimaryKeyString(), [.. state.State.Keys], [.. state.State.Classes], state.State.Version);
}

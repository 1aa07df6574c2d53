using Microsoft.Extensions.Options;
using OrleansVault.Errors;
using OrleansVault.Grains.Objects;
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

    /// <summary>Shared objects of the project that have stored state (never decreases: objects are not deleted).</summary>
    [Id(4)]
    public long ObjectCount { get; set; }
}

/// <summary>A project: keys and class policies, kept in one grain so every gateway of a cluster sees the same configuration.</summary>
public sealed class ProjectGrain(
    [PersistentState("project", "VaultStore")] IPersistentState<ProjectState> state,
    IOptions<SharedObjectOptions> options) : Grain, IProjectGrain
{
    private IGrainTimer? _countFlush;
    private bool _countDirty;

    public Task<bool> RegisterObject()
    {
        if (state.State.ObjectCount >= options.Value.MaxObjectsPerProject)
        {
            return Task.FromResult(false);
        }

        // Counted in memory and stored a moment later: one write per new object would make this grain the bottleneck
        // of every project's growth. A crash in between under-counts by those objects at most.
        state.State.ObjectCount++;
        _countDirty = true;
        _countFlush ??= this.RegisterGrainTimer(FlushCountAsync, new GrainTimerCreationOptions(options.Value.PurgeInterval, options.Value.PurgeInterval));
        return Task.FromResult(true);
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        await FlushCountAsync(cancellationToken);
    }

    private async Task FlushCountAsync(CancellationToken cancellationToken)
    {
        if (_countDirty)
        {
            _countDirty = false;
            await state.WriteStateAsync(cancellationToken);
        }
    }

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

    public async Task<ProjectSnapshot> RemoveKey(string keyId)
    {
        var (index, _) = FindKey(keyId);
        state.State.Keys.RemoveAt(index);
        return await SaveAsync();
    }

    public async Task<ProjectSnapshot> SetKeyEnabled(string keyId, bool enabled)
    {
        var (index, key) = FindKey(keyId);
        state.State.Keys[index] = key with { Enabled = enabled };
        return await SaveAsync();
    }

    public async Task<ProjectSnapshot> AddSecret(string keyId, ApiSecretRecord secret)
    {
        var (index, key) = FindKey(keyId);
        var extra = key.ExtraSecrets ?? [];
        if (extra.Count + 1 >= ApiKeyRecord.MaxSecrets)
        {
            throw VaultException.Conflict(ErrorCodes.SecretLimit, $"A key has at most {ApiKeyRecord.MaxSecrets} active secrets; remove one first.");
        }

        if (secret.SecretId == ApiKeyRecord.PrimarySecretId || extra.Any(s => s.SecretId == secret.SecretId))
        {
            throw VaultException.Conflict(ErrorCodes.SecretLimit, "That secret id is taken.");
        }

        state.State.Keys[index] = key with { ExtraSecrets = [.. extra, secret] };
        return await SaveAsync();
    }

    public async Task<ProjectSnapshot> RemoveSecret(string keyId, string secretId)
    {
        var (index, key) = FindKey(keyId);
        var extra = key.ExtraSecrets ?? [];
        ApiKeyRecord updated;
        if (secretId == ApiKeyRecord.PrimarySecretId)
        {
            // The oldest extra secret becomes the primary one; with none left the key would lock itself out.
            if (extra.Count == 0)
            {
                throw VaultException.Conflict(ErrorCodes.SecretLimit, "A key keeps at least one secret; disable the key instead.");
            }

            updated = key with { SecretHash = extra[0].Hash, ExtraSecrets = [.. extra.Skip(1)], RetiredSecretHashes = Retire(key, key.SecretHash) };
        }
        else
        {
            if (!extra.Any(s => s.SecretId == secretId))
            {
                throw new VaultException(VaultErrorKind.NotFound, ErrorCodes.SecretNotFound, "The key has no secret with that id.");
            }

            updated = key with
            {
                ExtraSecrets = [.. extra.Where(s => s.SecretId != secretId)],
                RetiredSecretHashes = Retire(key, extra.First(s => s.SecretId == secretId).Hash),
            };
        }

        state.State.Keys[index] = updated;
        return await SaveAsync();
    }

    private static IReadOnlyList<byte[]> Retire(ApiKeyRecord key, byte[] hash) =>
        [.. (key.RetiredSecretHashes ?? []).TakeLast(ApiKeyRecord.MaxRetiredSecrets - 1), hash];

    private (int Index, ApiKeyRecord Key) FindKey(string keyId)
    {
        var index = state.State.Keys.FindIndex(k => string.Equals(k.KeyId, keyId, StringComparison.Ordinal));
        return index >= 0
            ? (index, state.State.Keys[index])
            : throw new VaultException(VaultErrorKind.NotFound, ErrorCodes.KeyNotFound, "The project has no such API key.");
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

using System.Globalization;
using Microsoft.Extensions.Logging;
using Orleans.Runtime;
using Orleans.Serialization;
using Orleans.Storage;
using OrleansVault.Errors;
using OrleansVault.Hosting.Encryption;

namespace OrleansVault.Hosting.Persistence;

/// <summary>
/// What our two grain storages share (embedded SQLite, cluster PostgreSQL): each state is one row, serialized with the
/// Orleans binary serializer and sealed by <see cref="StateProtector"/> (AES-256-GCM under its scope's data key, bound
/// to the row's grain); an integer ETag guards every write so a stale activation can never overwrite a newer one; and
/// writes go through a <see cref="GroupCommitQueue"/>, so one transaction stores every write waiting at that moment.
/// A subclass says how a row is read, how a batch is committed and how the <c>admin</c> command's rows are found.
/// </summary>
public abstract partial class SealedGrainStorage : IGrainStorage, IStoredStates, IAsyncDisposable, IDisposable
{
    private readonly string _storageName;
    private readonly Serializer _serializer;
    private readonly GroupCommitQueue _queue;

    protected SealedGrainStorage(string storageName, int maxWritesPerCommit, int writers, Serializer serializer, StateProtector protector, ILogger logger)
    {
        _storageName = storageName;
        _serializer = serializer;
        Protector = protector;
        Logger = logger;
        _queue = new GroupCommitQueue(storageName, maxWritesPerCommit, writers, CommitAsync, (error, count) => LogCommitFailed(Logger, error, _storageName, count));
    }

    protected StateProtector Protector { get; }

    protected ILogger Logger { get; }

    public async Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var id = grainId.ToString();
        StoredRow? row;
        try
        {
            row = await ReadRowAsync(stateName, id);
        }
        catch (Exception error) when (IsOutage(error))
        {
            LogReadFailed(Logger, error, _storageName, stateName, grainId);
            throw Unavailable();
        }

        if (row is not null)
        {
            grainState.State = _serializer.Deserialize<T>(await Protector.UnprotectAsync(stateName, id, row.Payload));
            grainState.ETag = row.Etag.ToString(CultureInfo.InvariantCulture);
            grainState.RecordExists = true;
        }
        else
        {
            grainState.State = Activator.CreateInstance<T>();
            grainState.ETag = null;
            grainState.RecordExists = false;
        }
    }

    public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        long? current = grainState.ETag is null ? null : long.Parse(grainState.ETag, CultureInfo.InvariantCulture);
        var id = grainId.ToString();
        var payload = await Protector.ProtectAsync(stateName, id, _serializer.SerializeToArray(grainState.State));
        if (!await SubmitAsync(new PendingWrite(stateName, id, payload, current)))
        {
            LogEtagMismatch(Logger, _storageName, stateName, grainId);
            throw new InconsistentStateException($"The stored state of {grainId} changed since it was read.", "unknown", grainState.ETag ?? "none");
        }

        grainState.ETag = ((current ?? 0) + 1).ToString(CultureInfo.InvariantCulture);
        grainState.RecordExists = true;
    }

    public async Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        await SubmitAsync(new PendingWrite(stateName, grainId.ToString(), Payload: null, CurrentEtag: null));
        grainState.ETag = null;
        grainState.RecordExists = false;
        grainState.State = Activator.CreateInstance<T>();
    }

    /// <summary>
    /// Rewrites every row of <paramref name="scope"/> (all scopes when null) that is not under its scope's current data
    /// key, keeping its ETag (the content is unchanged). A row changed meanwhile is skipped: its new write already used a
    /// current key, or the next run picks it up. Returns how many rows were rewritten.
    /// </summary>
    public async Task<int> ReencryptAsync(string? scope)
    {
        var rewritten = 0;
        await foreach (var row in ReadAllRowsAsync())
        {
            var rowScope = StateProtector.ScopeOf(row.StateName, row.GrainId);
            if ((scope is not null && rowScope != scope) || StateProtector.VersionOf(row.Payload) == (await Protector.Keys.GetCurrentAsync(rowScope)).Version)
            {
                continue;
            }

            var payload = await Protector.ProtectAsync(row.StateName, row.GrainId, await Protector.UnprotectAsync(row.StateName, row.GrainId, row.Payload));
            rewritten += await RewriteRowAsync(row, payload) ? 1 : 0;
        }

        return rewritten;
    }

    /// <summary>How many rows each (scope, data key version) protects, for <c>admin status</c>.</summary>
    public async Task<IReadOnlyDictionary<(string Scope, int? Version), int>> CountRowsByKeyAsync()
    {
        var counts = new Dictionary<(string, int?), int>();
        await foreach (var row in ReadAllRowsAsync())
        {
            var key = (StateProtector.ScopeOf(row.StateName, row.GrainId), StateProtector.VersionOf(row.Payload));
            counts[key] = counts.GetValueOrDefault(key) + 1;
        }

        return counts;
    }

    /// <summary>Deletes every row of a scope (after its keys were destroyed they are unreadable anyway); returns the count.</summary>
    public async Task<int> DeleteScopeAsync(string scope)
    {
        var deleted = 0;
        await foreach (var row in ReadAllRowsAsync())
        {
            if (StateProtector.ScopeOf(row.StateName, row.GrainId) == scope)
            {
                deleted += await DeleteRowAsync(row) ? 1 : 0;
            }
        }

        return deleted;
    }

    public virtual ValueTask DisposeAsync() => _queue.DisposeAsync();

    /// <summary>Writes already queued are still committed: the writers drain the queue before they stop.</summary>
    public void Dispose() => _queue.Dispose();

    /// <summary>The row of one state, or null.</summary>
    protected abstract Task<StoredRow?> ReadRowAsync(string stateName, string grainId);

    /// <summary>Stores a batch in one transaction; returns, per write, whether its ETag matched (a delete always does).</summary>
    protected abstract Task<bool[]> CommitAsync(IReadOnlyList<PendingWrite> batch);

    /// <summary>Every stored row, for the <c>admin</c> command.</summary>
    protected abstract IAsyncEnumerable<StoredRow> ReadAllRowsAsync();

    /// <summary>Replaces a row's payload if its ETag is still the one read; true when it was.</summary>
    protected abstract Task<bool> RewriteRowAsync(StoredRow row, byte[] payload);

    /// <summary>Deletes a row; true when there was one.</summary>
    protected abstract Task<bool> DeleteRowAsync(StoredRow row);

    /// <summary>
    /// Whether an error means the database cannot be reached or used right now. Such an error reaches the grain as the
    /// retryable <see cref="ErrorCodes.Unavailable"/> (the driver's exception may not cross silos) and is logged here.
    /// </summary>
    protected virtual bool IsOutage(Exception error) => false;

    /// <summary>Queues a write; true when it was applied, false when its ETag no longer matched.</summary>
    protected async Task<bool> SubmitAsync(PendingWrite write)
    {
        try
        {
            return await _queue.SubmitAsync(write);
        }
        catch (Exception error) when (IsOutage(error))
        {
            // Logged once per failed commit by the queue's callback.
            throw Unavailable();
        }
    }

    private static VaultException Unavailable() => new(VaultErrorKind.Unavailable, ErrorCodes.Unavailable, "Storage is unavailable; retry.");

    [LoggerMessage(EventId = 1101, Level = LogLevel.Warning, Message = "Storage {Storage}: write of {StateName} for {GrainId} lost an ETag race")]
    private static partial void LogEtagMismatch(ILogger logger, string storage, string stateName, GrainId grainId);

    [LoggerMessage(EventId = 1102, Level = LogLevel.Error, Message = "Storage {Storage}: a commit of {Count} writes failed; none of them is stored")]
    private static partial void LogCommitFailed(ILogger logger, Exception exception, string storage, int count);

    [LoggerMessage(EventId = 1103, Level = LogLevel.Error, Message = "Storage {Storage}: reading {StateName} for {GrainId} failed")]
    private static partial void LogReadFailed(ILogger logger, Exception exception, string storage, string stateName, GrainId grainId);
}

/// <summary>One stored state as the <c>admin</c> command and reads see it; <paramref name="Partition"/> is storage-specific (PostgreSQL: the service id).</summary>
public sealed record StoredRow(string StateName, string GrainId, long Etag, byte[] Payload, string? Partition = null);

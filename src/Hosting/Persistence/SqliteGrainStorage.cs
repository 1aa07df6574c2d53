using System.Globalization;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Orleans.Runtime;
using Orleans.Serialization;
using Orleans.Storage;
using OrleansVault.Hosting.Encryption;

namespace OrleansVault.Hosting.Persistence;

/// <summary>
/// Grain storage in one SQLite file (embedded mode). Each state is one row, serialized with the Orleans
/// binary serializer, encrypted by <see cref="StateProtector"/> (AES-256-GCM under its project's data key, bound to
/// the row's grain), and guarded by an integer ETag so a stale activation can never overwrite a newer write.
/// </summary>
/// <remarks>
/// Writes go through one writer connection that commits every write waiting at that moment in one transaction
/// (group commit): SQLite allows one writer at a time, so concurrent writers on their own connections only queue
/// on its lock (sleeping in the busy handler) and pay one fsync each. A write's task completes after its
/// transaction is durable, so persist-before-acknowledge holds. Reads use pooled connections (WAL readers do not
/// wait for the writer).
/// </remarks>
public sealed partial class SqliteGrainStorage : IGrainStorage, IStoredStates, IAsyncDisposable, IDisposable
{
    private readonly string _storageName;
    private readonly SqliteTables _tables;
    private readonly SqliteStorageOptions _options;
    private readonly Serializer _serializer;
    private readonly StateProtector _protector;
    private readonly ILogger _logger;
    private readonly GroupCommitQueue _queue;
    private SqliteConnection? _writerConnection;

    public SqliteGrainStorage(string storageName, SqliteStorageOptions options, Serializer serializer, StateProtector protector, ILogger<SqliteGrainStorage> logger)
    {
        _storageName = storageName;
        _tables = new SqliteTables(options.ConnectionString, """
            CREATE TABLE IF NOT EXISTS grain_state (
                state_name TEXT NOT NULL,
                grain_id   TEXT NOT NULL,
                etag       INTEGER NOT NULL,
                payload    BLOB NOT NULL,
                updated_at INTEGER NOT NULL,
                PRIMARY KEY (state_name, grain_id)
            ) WITHOUT ROWID;
            """);
        _options = options;
        _serializer = serializer;
        _protector = protector;
        _logger = logger;
        _queue = new GroupCommitQueue(nameof(SqliteGrainStorage), options.MaxWritesPerCommit, writers: 1, CommitAsync,
            (error, count) => LogCommitFailed(_logger, error, _storageName, count));
    }

    public async Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        await using var connection = await OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT etag, payload FROM grain_state WHERE state_name = $name AND grain_id = $id";
        command.Parameters.AddWithValue("$name", stateName);
        command.Parameters.AddWithValue("$id", grainId.ToString());
        await using var reader = await command.ExecuteReaderAsync();
        if (await reader.ReadAsync())
        {
            var etag = reader.GetInt64(0);
            var payload = await _protector.UnprotectAsync(stateName, grainId.ToString(), (byte[])reader[1]);
            grainState.State = _serializer.Deserialize<T>(payload);
            grainState.ETag = etag.ToString(CultureInfo.InvariantCulture);
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
        var payload = await _protector.ProtectAsync(stateName, id, _serializer.SerializeToArray(grainState.State));
        var write = new PendingWrite(stateName, id, payload, current);
        if (!await SubmitAsync(write))
        {
            LogEtagMismatch(_logger, _storageName, stateName, grainId);
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
            if (scope is not null && rowScope != scope)
            {
                continue;
            }

            var current = await _protector.Keys.GetCurrentAsync(rowScope);
            if (StateProtector.VersionOf(row.Payload) == current.Version)
            {
                continue;
            }

            var plaintext = await _protector.UnprotectAsync(row.StateName, row.GrainId, row.Payload);
            var payload = await _protector.ProtectAsync(row.StateName, row.GrainId, plaintext);
            await using var connection = await OpenAsync();
            await using var update = connection.CreateCommand();
            update.CommandText = "UPDATE grain_state SET payload = $payload WHERE state_name = $name AND grain_id = $id AND etag = $etag";
            update.Parameters.AddWithValue("$payload", payload);
            update.Parameters.AddWithValue("$name", row.StateName);
            update.Parameters.AddWithValue("$id", row.GrainId);
            update.Parameters.AddWithValue("$etag", row.Etag);
            rewritten += await update.ExecuteNonQueryAsync();
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
                deleted += await SubmitAsync(new PendingWrite(row.StateName, row.GrainId, Payload: null, CurrentEtag: null)) ? 1 : 0;
            }
        }

        return deleted;
    }

    private async IAsyncEnumerable<(string StateName, string GrainId, long Etag, byte[] Payload)> ReadAllRowsAsync()
    {
        await using var connection = await OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT state_name, grain_id, etag, payload FROM grain_state";
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            yield return (reader.GetString(0), reader.GetString(1), reader.GetInt64(2), (byte[])reader[3]);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _queue.DisposeAsync();
        _writerConnection?.Dispose();
    }

    // Writes already queued are still committed: the writer drains the queue before it stops.
    public void Dispose() => _queue.Dispose();

    /// <summary>Queues a write for the writer; true when it was applied, false when its ETag no longer matched.</summary>
    private Task<bool> SubmitAsync(PendingWrite write) => _queue.SubmitAsync(write);

    /// <summary>The one writer's commit: its connection lives across batches; after a failure the next batch opens a fresh one.</summary>
    private async Task<bool[]> CommitAsync(IReadOnlyList<PendingWrite> batch)
    {
        try
        {
            _writerConnection ??= await OpenWriterAsync();
            return Commit(_writerConnection, batch);
        }
        catch
        {
            _writerConnection?.Dispose();
            _writerConnection = null;
            throw;
        }
    }

    /// <summary>Applies the batch in one transaction; each write learns whether its ETag matched once the commit is durable.</summary>
    private static bool[] Commit(SqliteConnection connection, IReadOnlyList<PendingWrite> batch)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var applied = new bool[batch.Count];
        using (var transaction = connection.BeginTransaction())
        {
            using var insert = Command(connection, transaction, """
                INSERT INTO grain_state (state_name, grain_id, etag, payload, updated_at)
                VALUES ($name, $id, 1, $payload, $now)
                ON CONFLICT (state_name, grain_id) DO NOTHING
                """);
            using var update = Command(connection, transaction, """
                UPDATE grain_state SET etag = $current + 1, payload = $payload, updated_at = $now
                WHERE state_name = $name AND grain_id = $id AND etag = $current
                """);
            using var delete = Command(connection, transaction, "DELETE FROM grain_state WHERE state_name = $name AND grain_id = $id");
            for (var i = 0; i < batch.Count; i++)
            {
                var write = batch[i];
                var command = write.Payload is null ? delete : write.CurrentEtag is null ? insert : update;
                command.Parameters["$name"].Value = write.StateName;
                command.Parameters["$id"].Value = write.GrainId;
                command.Parameters["$payload"].Value = (object?)write.Payload ?? DBNull.Value;
                command.Parameters["$now"].Value = now;
                command.Parameters["$current"].Value = (object?)write.CurrentEtag ?? DBNull.Value;

                // A conditional statement that matches no row changes nothing, so one stale write cannot spoil the batch.
                var rows = command.ExecuteNonQuery();
                applied[i] = write.Payload is null || rows == 1;
            }

            transaction.Commit();
        }

        return applied;
    }

    private static SqliteCommand Command(SqliteConnection connection, SqliteTransaction transaction, string sql)
    {
        var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        // Every statement gets the same five parameters; SQLite binds the ones its text names and ignores the rest.
        foreach (var name in (ReadOnlySpan<string>)["$name", "$id", "$payload", "$now", "$current"])
        {
            command.Parameters.Add(new SqliteParameter { ParameterName = name });
        }

        return command;
    }

    private async Task<SqliteConnection> OpenWriterAsync()
    {
        var connection = await OpenAsync();
        await using var pragma = connection.CreateCommand();
        pragma.CommandText = $"PRAGMA synchronous = {_options.Synchronous}; PRAGMA busy_timeout = 30000;";
        await pragma.ExecuteNonQueryAsync();
        return connection;
    }

    private Task<SqliteConnection> OpenAsync() => _tables.OpenAsync();

    [LoggerMessage(EventId = 1101, Level = LogLevel.Warning, Message = "Storage {Storage}: write of {StateName} for {GrainId} lost an ETag race")]
    private static partial void LogEtagMismatch(ILogger logger, string storage, string stateName, GrainId grainId);

    [LoggerMessage(EventId = 1102, Level = LogLevel.Error, Message = "Storage {Storage}: a commit of {Count} writes failed; none of them is stored")]
    private static partial void LogCommitFailed(ILogger logger, Exception exception, string storage, int count);
}

/// <summary>Where and how embedded mode stores grain state: the directory is <c>Vault:DataDirectory</c>, the rest is bound from <c>Vault:Storage</c>.</summary>
public sealed class SqliteStorageOptions
{
    public string DataDirectory { get; set; } = "./data";

    public string FileName { get; set; } = "vault.db";

    /// <summary>SQLite's synchronous level: FULL (default, durable across power loss) or NORMAL (durable across process crashes).</summary>
    public string Synchronous { get; set; } = "FULL";

    /// <summary>The most writes committed in one transaction (group commit).</summary>
    public int MaxWritesPerCommit { get; set; } = 512;

    public string ConnectionString => new SqliteConnectionStringBuilder
    {
        DataSource = Path.Combine(DataDirectory, FileName),
        Mode = SqliteOpenMode.ReadWriteCreate,
        Pooling = true,
        DefaultTimeout = 30,
    }.ToString();
}

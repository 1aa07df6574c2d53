using System.Data.Common;
using System.Globalization;
using Microsoft.Extensions.Logging;
using Npgsql;
using NpgsqlTypes;
using Orleans.Runtime;
using Orleans.Serialization;
using Orleans.Storage;
using OrleansVault.Errors;
using OrleansVault.Hosting.Encryption;

namespace OrleansVault.Hosting.Persistence;

/// <summary>
/// Cluster-mode grain storage on PostgreSQL (<c>vault_grain_state</c>, schema 004). Each state is one row, serialized
/// with the Orleans binary serializer, encrypted by <see cref="StateProtector"/> exactly as in embedded mode, and
/// guarded by an integer version (the ETag) so a stale activation can never overwrite a newer write.
/// </summary>
/// <remarks>
/// Writes of all grains of this silo go through a <see cref="GroupCommitQueue"/>: each commit stores every write waiting
/// at that moment in one transaction, sent as one batch of statements (one round trip and one WAL flush for all of
/// them). A write completes only once its transaction has committed. A database failure reaches the grain as a
/// retryable <see cref="VaultException"/> (the driver's own exception cannot cross silos); the cause is logged here.
/// </remarks>
public sealed partial class PostgresGrainStorage : IGrainStorage, IStoredStates, IAsyncDisposable, IDisposable
{
    private const string Upsert = """
        INSERT INTO vault_grain_state (service_id, state_name, grain_id, version, payload)
        VALUES ($1, $2, $3, 1, $4)
        ON CONFLICT (service_id, state_name, grain_id) DO NOTHING
        """;

    private const string Update = """
        UPDATE vault_grain_state SET version = version + 1, payload = $4, modified_on = now()
        WHERE service_id = $1 AND state_name = $2 AND grain_id = $3 AND version = $5
        """;

    private const string Delete = "DELETE FROM vault_grain_state WHERE service_id = $1 AND state_name = $2 AND grain_id = $3";

    private readonly NpgsqlDataSource _dataSource;
    private readonly string _serviceId;
    private readonly Serializer _serializer;
    private readonly StateProtector _protector;
    private readonly ILogger _logger;
    private readonly GroupCommitQueue _queue;

    public PostgresGrainStorage(NpgsqlDataSource dataSource, string serviceId, PostgresStorageSettings settings, Serializer serializer, StateProtector protector, ILogger<PostgresGrainStorage> logger)
    {
        _dataSource = dataSource;
        _serviceId = serviceId;
        _serializer = serializer;
        _protector = protector;
        _logger = logger;
        _queue = new GroupCommitQueue(nameof(PostgresGrainStorage), settings.MaxWritesPerCommit, settings.Writers, CommitAsync,
            (error, count) => LogCommitFailed(_logger, error, count));
    }

    public async Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var id = grainId.ToString();
        (long Version, byte[] Payload)? row;
        try
        {
            await using var command = _dataSource.CreateCommand("SELECT version, payload FROM vault_grain_state WHERE service_id = $1 AND state_name = $2 AND grain_id = $3");
            Bind(command.Parameters, stateName, id);
            await using var reader = await command.ExecuteReaderAsync();
            row = await reader.ReadAsync() ? (reader.GetInt64(0), (byte[])reader[1]) : null;
        }
        catch (Exception error) when (error is DbException or TimeoutException or IOException)
        {
            LogReadFailed(_logger, error, stateName, grainId);
            throw Unavailable();
        }

        if (row is { } found)
        {
            grainState.State = _serializer.Deserialize<T>(await _protector.UnprotectAsync(stateName, id, found.Payload));
            grainState.ETag = found.Version.ToString(CultureInfo.InvariantCulture);
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
        if (!await SubmitAsync(new PendingWrite(stateName, id, payload, current)))
        {
            LogEtagMismatch(_logger, stateName, grainId);
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

    public async Task<int> ReencryptAsync(string? scope)
    {
        var rewritten = 0;
        foreach (var row in await ReadRowsAsync())
        {
            var rowScope = StateProtector.ScopeOf(row.StateName, row.GrainId);
            if ((scope is not null && rowScope != scope) || StateProtector.VersionOf(row.Payload) == (await _protector.Keys.GetCurrentAsync(rowScope)).Version)
            {
                continue;
            }

            // Same content, same version: a row written meanwhile (under the current key) is left alone.
            var payload = await _protector.ProtectAsync(row.StateName, row.GrainId, await _protector.UnprotectAsync(row.StateName, row.GrainId, row.Payload));
            await using var update = _dataSource.CreateCommand("UPDATE vault_grain_state SET payload = $4 WHERE service_id = $1 AND state_name = $2 AND grain_id = $3 AND version = $5");
            Bind(update.Parameters, row.StateName, row.GrainId, row.ServiceId);
            update.Parameters.Add(new NpgsqlParameter { Value = payload, NpgsqlDbType = NpgsqlDbType.Bytea });
            update.Parameters.Add(new NpgsqlParameter { Value = row.Version });
            rewritten += await update.ExecuteNonQueryAsync();
        }

        return rewritten;
    }

    public async Task<IReadOnlyDictionary<(string Scope, int? Version), int>> CountRowsByKeyAsync()
    {
        var counts = new Dictionary<(string, int?), int>();
        foreach (var row in await ReadRowsAsync())
        {
            var key = (StateProtector.ScopeOf(row.StateName, row.GrainId), StateProtector.VersionOf(row.Payload));
            counts[key] = counts.GetValueOrDefault(key) + 1;
        }

        return counts;
    }

    public async Task<int> DeleteScopeAsync(string scope)
    {
        var deleted = 0;
        foreach (var row in (await ReadRowsAsync()).Where(r => StateProtector.ScopeOf(r.StateName, r.GrainId) == scope))
        {
            await using var delete = _dataSource.CreateCommand(Delete);
            Bind(delete.Parameters, row.StateName, row.GrainId, row.ServiceId);
            deleted += await delete.ExecuteNonQueryAsync();
        }

        return deleted;
    }

    public ValueTask DisposeAsync() => _queue.DisposeAsync();

    public void Dispose() => _queue.Dispose();

    private static VaultException Unavailable() => new(VaultErrorKind.Unavailable, ErrorCodes.Unavailable, "Storage is unavailable; retry.");

    private async Task<bool> SubmitAsync(PendingWrite write)
    {
        try
        {
            return await _queue.SubmitAsync(write);
        }
        catch (Exception error) when (error is DbException or TimeoutException or IOException)
        {
            // Logged once per failed commit by the queue's callback.
            throw Unavailable();
        }
    }

    /// <summary>Stores a batch in one transaction, one statement per write sent together; a statement that matches no row changes nothing.</summary>
    private async Task<bool[]> CommitAsync(IReadOnlyList<PendingWrite> batch)
    {
        await using var connection = await _dataSource.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await using var statements = new NpgsqlBatch(connection, transaction);
        foreach (var write in batch)
        {
            var statement = new NpgsqlBatchCommand(write.Payload is null ? Delete : write.CurrentEtag is null ? Upsert : Update);
            Bind(statement.Parameters, write.StateName, write.GrainId);
            if (write.Payload is not null)
            {
                statement.Parameters.Add(new NpgsqlParameter { Value = write.Payload, NpgsqlDbType = NpgsqlDbType.Bytea });
                if (write.CurrentEtag is { } etag)
                {
                    statement.Parameters.Add(new NpgsqlParameter { Value = etag });
                }
            }

            statements.BatchCommands.Add(statement);
        }

        await statements.ExecuteNonQueryAsync();
        await transaction.CommitAsync();
        var applied = new bool[batch.Count];
        for (var i = 0; i < batch.Count; i++)
        {
            applied[i] = batch[i].Payload is null || statements.BatchCommands[i].RecordsAffected == 1;
        }

        return applied;
    }

    private void Bind(NpgsqlParameterCollection parameters, string stateName, string grainId, string? serviceId = null)
    {
        parameters.Add(new NpgsqlParameter { Value = serviceId ?? _serviceId });
        parameters.Add(new NpgsqlParameter { Value = stateName });
        parameters.Add(new NpgsqlParameter { Value = grainId });
    }

    private async Task<List<Row>> ReadRowsAsync()
    {
        var rows = new List<Row>();
        await using var command = _dataSource.CreateCommand("SELECT service_id, state_name, grain_id, version, payload FROM vault_grain_state");
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            rows.Add(new Row(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetInt64(3), (byte[])reader[4]));
        }

        return rows;
    }

    [LoggerMessage(EventId = 1111, Level = LogLevel.Warning, Message = "PostgreSQL storage: write of {StateName} for {GrainId} lost an ETag race")]
    private static partial void LogEtagMismatch(ILogger logger, string stateName, GrainId grainId);

    [LoggerMessage(EventId = 1112, Level = LogLevel.Error, Message = "PostgreSQL storage: a commit of {Count} writes failed; none of them is stored")]
    private static partial void LogCommitFailed(ILogger logger, Exception exception, int count);

    [LoggerMessage(EventId = 1113, Level = LogLevel.Error, Message = "PostgreSQL storage: reading {StateName} for {GrainId} failed")]
    private static partial void LogReadFailed(ILogger logger, Exception exception, string stateName, GrainId grainId);

    private sealed record Row(string ServiceId, string StateName, string GrainId, long Version, byte[] Payload);
}

/// <summary>How cluster-mode storage commits (<c>Vault:Cluster:Storage</c>).</summary>
public sealed class PostgresStorageSettings
{
    /// <summary>The most writes stored in one transaction (group commit).</summary>
    public int MaxWritesPerCommit { get; set; } = 512;

    /// <summary>How many commits one silo runs at once (each on its own pooled connection).</summary>
    public int Writers { get; set; } = 2;
}

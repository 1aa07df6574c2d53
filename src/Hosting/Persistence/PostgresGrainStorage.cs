using System.Data.Common;
using Microsoft.Extensions.Logging;
using Npgsql;
using NpgsqlTypes;
using Orleans.Serialization;
using OrleansVault.Hosting.Encryption;

namespace OrleansVault.Hosting.Persistence;

/// <summary>
/// Cluster-mode grain storage on PostgreSQL (<c>vault_grain_state</c>, schema 004), sealed and ETag-guarded as
/// <see cref="SealedGrainStorage"/> says, with exactly embedded mode's envelope.
/// </summary>
/// <remarks>
/// Writes of all grains of this silo go through group commit: each commit stores every write waiting at that moment in
/// one transaction, sent as one batch of statements (one round trip and one WAL flush for all of them), and
/// <see cref="PostgresStorageSettings.Writers"/> commits run at once. A database failure reaches the grain as a
/// retryable error (the driver's own exception cannot cross silos); the cause is logged here.
/// </remarks>
public sealed class PostgresGrainStorage(NpgsqlDataSource dataSource, string serviceId, PostgresStorageSettings settings, Serializer serializer, StateProtector protector, ILogger<PostgresGrainStorage> logger)
    : SealedGrainStorage("PostgreSQL", settings.MaxWritesPerCommit, settings.Writers, serializer, protector, logger)
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

    protected override bool IsOutage(Exception error) => error is DbException or TimeoutException or IOException;

    protected override async Task<StoredRow?> ReadRowAsync(string stateName, string grainId)
    {
        await using var command = dataSource.CreateCommand("SELECT version, payload FROM vault_grain_state WHERE service_id = $1 AND state_name = $2 AND grain_id = $3");
        Bind(command.Parameters, stateName, grainId, serviceId);
        await using var reader = await command.ExecuteReaderAsync();
        return await reader.ReadAsync() ? new StoredRow(stateName, grainId, reader.GetInt64(0), (byte[])reader[1], serviceId) : null;
    }

    protected override async IAsyncEnumerable<StoredRow> ReadAllRowsAsync()
    {
        // Every service's rows: a project's data keys (and so its crypto-shredding) do not depend on the service.
        await using var command = dataSource.CreateCommand("SELECT service_id, state_name, grain_id, version, payload FROM vault_grain_state");
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            yield return new StoredRow(reader.GetString(1), reader.GetString(2), reader.GetInt64(3), (byte[])reader[4], reader.GetString(0));
        }
    }

    protected override async Task<bool> RewriteRowAsync(StoredRow row, byte[] payload)
    {
        await using var update = dataSource.CreateCommand("UPDATE vault_grain_state SET payload = $4 WHERE service_id = $1 AND state_name = $2 AND grain_id = $3 AND version = $5");
        Bind(update.Parameters, row.StateName, row.GrainId, row.Partition!);
        update.Parameters.Add(new NpgsqlParameter { Value = payload, NpgsqlDbType = NpgsqlDbType.Bytea });
        update.Parameters.Add(new NpgsqlParameter { Value = row.Etag });
        return await update.ExecuteNonQueryAsync() == 1;
    }

    protected override async Task<bool> DeleteRowAsync(StoredRow row)
    {
        await using var delete = dataSource.CreateCommand(Delete);
        Bind(delete.Parameters, row.StateName, row.GrainId, row.Partition!);
        return await delete.ExecuteNonQueryAsync() == 1;
    }

    /// <summary>
    /// Stores a batch in one transaction, one statement per write sent together; a statement that matches no row changes
    /// nothing. The batch is that transaction: PostgreSQL runs every statement sent before the batch's one Sync as a
    /// single implicit transaction (all or none), so it commits in one round trip, without BEGIN and COMMIT.
    /// </summary>
    protected override async Task<bool[]> CommitAsync(IReadOnlyList<PendingWrite> batch)
    {
        await using var connection = await dataSource.OpenConnectionAsync();
        await using var statements = new NpgsqlBatch(connection);
        foreach (var write in batch)
        {
            var statement = new NpgsqlBatchCommand(write.Payload is null ? Delete : write.CurrentEtag is null ? Upsert : Update);
            Bind(statement.Parameters, write.StateName, write.GrainId, serviceId);
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
        var applied = new bool[batch.Count];
        for (var i = 0; i < batch.Count; i++)
        {
            applied[i] = batch[i].Payload is null || statements.BatchCommands[i].RecordsAffected == 1;
        }

        return applied;
    }

    private static void Bind(NpgsqlParameterCollection parameters, string stateName, string grainId, string service)
    {
        parameters.Add(new NpgsqlParameter { Value = service });
        parameters.Add(new NpgsqlParameter { Value = stateName });
        parameters.Add(new NpgsqlParameter { Value = grainId });
    }
}

/// <summary>How cluster-mode storage commits (<c>Vault:Cluster:Storage</c>).</summary>
public sealed class PostgresStorageSettings
{
    /// <summary>The most writes stored in one transaction (group commit).</summary>
    public int MaxWritesPerCommit { get; set; } = 512;

    /// <summary>How many commits one silo runs at once (each on its own pooled connection).</summary>
    public int Writers { get; set; } = 2;
}

using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Orleans.Serialization;
using OrleansVault.Hosting.Encryption;

namespace OrleansVault.Hosting.Persistence;

/// <summary>
/// Grain storage in one SQLite file (embedded mode), sealed and ETag-guarded as <see cref="SealedGrainStorage"/> says.
/// </summary>
/// <remarks>
/// Writes go through one writer connection that commits every write waiting at that moment in one transaction
/// (group commit): SQLite allows one writer at a time, so concurrent writers on their own connections only queue
/// on its lock (sleeping in the busy handler) and pay one fsync each. A write's task completes after its
/// transaction is durable, so persist-before-acknowledge holds. Reads use pooled connections (WAL readers do not
/// wait for the writer).
/// </remarks>
public sealed class SqliteGrainStorage : SealedGrainStorage
{
    private readonly SqliteTables _tables;
    private readonly SqliteStorageOptions _options;
    private SqliteConnection? _writerConnection;

    public SqliteGrainStorage(string storageName, SqliteStorageOptions options, Serializer serializer, StateProtector protector, ILogger<SqliteGrainStorage> logger)
        : base(storageName, options.MaxWritesPerCommit, writers: 1, serializer, protector, logger)
    {
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
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        _writerConnection?.Dispose();
    }

    protected override async Task<StoredRow?> ReadRowAsync(string stateName, string grainId)
    {
        await using var connection = await OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT etag, payload FROM grain_state WHERE state_name = $name AND grain_id = $id";
        command.Parameters.AddWithValue("$name", stateName);
        command.Parameters.AddWithValue("$id", grainId);
        await using var reader = await command.ExecuteReaderAsync();
        return await reader.ReadAsync() ? new StoredRow(stateName, grainId, reader.GetInt64(0), (byte[])reader[1]) : null;
    }

    protected override async IAsyncEnumerable<StoredRow> ReadAllRowsAsync()
    {
        await using var connection = await OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT state_name, grain_id, etag, payload FROM grain_state";
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            yield return new StoredRow(reader.GetString(0), reader.GetString(1), reader.GetInt64(2), (byte[])reader[3]);
        }
    }

    protected override async Task<bool> RewriteRowAsync(StoredRow row, byte[] payload)
    {
        await using var connection = await OpenAsync();
        await using var update = connection.CreateCommand();
        update.CommandText = "UPDATE grain_state SET payload = $payload WHERE state_name = $name AND grain_id = $id AND etag = $etag";
        update.Parameters.AddWithValue("$payload", payload);
        update.Parameters.AddWithValue("$name", row.StateName);
        update.Parameters.AddWithValue("$id", row.GrainId);
        update.Parameters.AddWithValue("$etag", row.Etag);
        return await update.ExecuteNonQueryAsync() == 1;
    }

    protected override Task<bool> DeleteRowAsync(StoredRow row) => SubmitAsync(new PendingWrite(row.StateName, row.GrainId, Payload: null, CurrentEtag: null));

    /// <summary>The one writer's commit: its connection lives across batches; after a failure the next batch opens a fresh one.</summary>
    protected override async Task<bool[]> CommitAsync(IReadOnlyList<PendingWrite> batch)
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

using System.Globalization;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Orleans.Runtime;
using Orleans.Serialization;
using Orleans.Storage;

namespace OrleansVault.Hosting.Persistence;

/// <summary>
/// Grain storage in one SQLite file (embedded mode). Each state is one row, serialized with the Orleans
/// binary serializer, guarded by an integer ETag so a stale activation can never overwrite a newer write.
/// </summary>
public sealed partial class SqliteGrainStorage : IGrainStorage, IDisposable
{
    private readonly string _storageName;
    private readonly string _connectionString;
    private readonly string _synchronous;
    private readonly Serializer _serializer;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _schemaLock = new(1, 1);
    private volatile bool _schemaReady;

    public SqliteGrainStorage(string storageName, SqliteStorageOptions options, Serializer serializer, ILogger<SqliteGrainStorage> logger)
    {
        _storageName = storageName;
        Directory.CreateDirectory(options.DataDirectory);
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = Path.Combine(options.DataDirectory, options.FileName),
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = true,
            DefaultTimeout = 30,
        }.ToString();
        _synchronous = options.Synchronous;
        _serializer = serializer;
        _logger = logger;
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
            var payload = (byte[])reader[1];
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
        var payload = _serializer.SerializeToArray(grainState.State);
        await using var connection = await OpenAsync();
        await using var command = connection.CreateCommand();
        command.Parameters.AddWithValue("$name", stateName);
        command.Parameters.AddWithValue("$id", grainId.ToString());
        command.Parameters.AddWithValue("$payload", payload);
        command.Parameters.AddWithValue("$now", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        long newEtag;
        if (grainState.ETag is null)
        {
            newEtag = 1;
            command.CommandText = """
                INSERT INTO grain_state (state_name, grain_id, etag, payload, updated_at)
                VALUES ($name, $id, 1, $payload, $now)
                ON CONFLICT (state_name, grain_id) DO NOTHING
                """;
        }
        else
        {
            var current = long.Parse(grainState.ETag, CultureInfo.InvariantCulture);
            newEtag = current + 1;
            command.CommandText = """
                UPDATE grain_state SET etag = $new, payload = $payload, updated_at = $now
                WHERE state_name = $name AND grain_id = $id AND etag = $current
                """;
            command.Parameters.AddWithValue("$current", current);
            command.Parameters.AddWithValue("$new", newEtag);
        }

        if (await command.ExecuteNonQueryAsync() != 1)
        {
            LogEtagMismatch(_logger, _storageName, stateName, grainId);
            throw new InconsistentStateException($"The stored state of {grainId} changed since it was read.", "unknown", grainState.ETag ?? "none");
        }

        grainState.ETag = newEtag.ToString(CultureInfo.InvariantCulture);
        grainState.RecordExists = true;
    }

    public async Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        await using var connection = await OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "DELETE FROM grain_state WHERE state_name = $name AND grain_id = $id";
        command.Parameters.AddWithValue("$name", stateName);
        command.Parameters.AddWithValue("$id", grainId.ToString());
        await command.ExecuteNonQueryAsync();
        grainState.ETag = null;
        grainState.RecordExists = false;
        grainState.State = Activator.CreateInstance<T>();
    }

    public void Dispose() => _schemaLock.Dispose();

    private async Task<SqliteConnection> OpenAsync()
    {
        var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync();
        await using (var pragma = connection.CreateCommand())
        {
            pragma.CommandText = $"PRAGMA synchronous = {_synchronous}; PRAGMA busy_timeout = 30000;";
            await pragma.ExecuteNonQueryAsync();
        }

        if (!_schemaReady)
        {
            await EnsureSchemaAsync(connection);
        }

        return connection;
    }

    private async Task EnsureSchemaAsync(SqliteConnection connection)
    {
        await _schemaLock.WaitAsync();
        try
        {
            if (_schemaReady)
            {
                return;
            }

            await using var command = connection.CreateCommand();
            command.CommandText = """
                PRAGMA journal_mode = WAL;
                CREATE TABLE IF NOT EXISTS grain_state (
                    state_name TEXT NOT NULL,
                    grain_id   TEXT NOT NULL,
                    etag       INTEGER NOT NULL,
                    payload    BLOB NOT NULL,
                    updated_at INTEGER NOT NULL,
                    PRIMARY KEY (state_name, grain_id)
                ) WITHOUT ROWID;
                """;
            await command.ExecuteNonQueryAsync();
            _schemaReady = true;
        }
        finally
        {
            _schemaLock.Release();
        }
    }

    [LoggerMessage(EventId = 1101, Level = LogLevel.Warning, Message = "Storage {Storage}: write of {StateName} for {GrainId} lost an ETag race")]
    private static partial void LogEtagMismatch(ILogger logger, string storage, string stateName, GrainId grainId);
}

/// <summary>Where and how embedded mode stores grain state: the directory is <c>Vault:DataDirectory</c>, the rest is bound from <c>Vault:Storage</c>.</summary>
public sealed class SqliteStorageOptions
{
    public string DataDirectory { get; set; } = "./data";

    public string FileName { get; set; } = "vault.db";

    /// <summary>SQLite's synchronous level: FULL (default, durable across power loss) or NORMAL (durable across process crashes).</summary>
    public string Synchronous { get; set; } = "FULL";
}

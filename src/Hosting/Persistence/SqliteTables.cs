using Microsoft.Data.Sqlite;

namespace OrleansVault.Hosting.Persistence;

/// <summary>
/// Connections to the embedded SQLite file for one set of tables: the file's directory is created up front, WAL is
/// switched on and the tables are created (idempotent SQL) by the first open of this instance.
/// </summary>
public sealed class SqliteTables : IVaultDatabase
{
    private readonly string _schemaSql;
    private readonly SemaphoreSlim _schemaLock = new(1, 1);
    private volatile bool _schemaReady;

    public SqliteTables(string connectionString, string schemaSql)
    {
        ConnectionString = connectionString;
        _schemaSql = schemaSql;
        if (Path.GetDirectoryName(Path.GetFullPath(new SqliteConnectionStringBuilder(connectionString).DataSource)) is { } directory)
        {
            Directory.CreateDirectory(directory);
        }
    }

    public string ConnectionString { get; }

    async Task<System.Data.Common.DbConnection> IVaultDatabase.OpenConnectionAsync() => await OpenAsync();

    public async Task<SqliteConnection> OpenAsync()
    {
        var connection = new SqliteConnection(ConnectionString);
        try
        {
            await connection.OpenAsync();
            if (!_schemaReady)
            {
                await EnsureSchemaAsync(connection);
            }

            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
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
            command.CommandText = "PRAGMA journal_mode = WAL;\n" + _schemaSql;
            await command.ExecuteNonQueryAsync();
            _schemaReady = true;
        }
        finally
        {
            _schemaLock.Release();
        }
    }
}

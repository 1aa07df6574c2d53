using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Data.Common;
using OrleansVault.Hosting.Persistence;

namespace OrleansVault.Hosting.Encryption;

/// <summary>A data key, unwrapped, with its version within its scope (a project, or "cluster").</summary>
public sealed record DataKey(string Scope, int Version, byte[] Key);

/// <summary>Thrown when a scope's data keys were destroyed (its project was deleted): its data is unreadable by design.</summary>
public sealed class DataKeyDestroyedException(string scope)
    : Exception($"The data keys of '{scope}' were destroyed; its data cannot be read or written.")
{
    public string Scope { get; } = scope;
}

/// <summary>
/// Per-scope AES-256 data keys, wrapped with the master key (AES-GCM, bound to scope and version) and kept in the
/// <c>data_keys</c> table beside the data they protect. Unwrapped keys are cached; a scope's current version is
/// re-read after <see cref="MasterKeyOptions.KeyCacheRefresh"/>, so a rotation or deletion made by an admin command in
/// another process reaches a running node within that time.
/// </summary>
public sealed class DataKeyStore
{
    private const int NonceSize = 12;
    private const int TagSize = 16;
    private readonly IVaultDatabase _database;
    private readonly MasterKeyRing _masters;
    private readonly TimeSpan _refresh;
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<(string Scope, int Version), DataKey> _keys = new();
    private readonly ConcurrentDictionary<string, (DataKey Key, DateTimeOffset CheckedAt)> _current = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _create = new(1, 1);

    /// <summary>The tables in the embedded SQLite file (created on first use).</summary>
    public const string SqliteSchema = """
        CREATE TABLE IF NOT EXISTS data_keys (
            scope      TEXT NOT NULL,
            version    INTEGER NOT NULL,
            master_id  TEXT NOT NULL,
            wrapped    BLOB NOT NULL,
            created_at INTEGER NOT NULL,
            PRIMARY KEY (scope, version)
        ) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS destroyed_scopes (
            scope        TEXT NOT NULL PRIMARY KEY,
            destroyed_at INTEGER NOT NULL
        ) WITHOUT ROWID;
        """;

    public DataKeyStore(string sqliteConnectionString, MasterKeyRing masters, TimeSpan refresh, TimeProvider time)
        : this(new SqliteTables(sqliteConnectionString, SqliteSchema), masters, refresh, time)
    {
    }

    public DataKeyStore(IVaultDatabase database, MasterKeyRing masters, TimeSpan refresh, TimeProvider time)
    {
        _database = database;
        _masters = masters;
        _refresh = refresh;
        _time = time;
    }

    /// <summary>The key new writes of <paramref name="scope"/> use; the first one is created on first use.</summary>
    public async ValueTask<DataKey> GetCurrentAsync(string scope)
    {
        if (_current.TryGetValue(scope, out var cached) && _time.GetUtcNow() - cached.CheckedAt < _refresh)
        {
            return cached.Key;
        }

        await using var connection = await OpenAsync();
        if (await IsDestroyedAsync(connection, scope))
        {
            Forget(scope);
            throw new DataKeyDestroyedException(scope);
        }

        var key = await ReadNewestAsync(connection, scope) ?? await CreateAsync(connection, scope, expectedNewest: 0);
        _current[scope] = (key, _time.GetUtcNow());
        return key;
    }

    /// <summary>A specific version, to read what was written under it.</summary>
    public async ValueTask<DataKey> GetAsync(string scope, int version)
    {
        if (_keys.TryGetValue((scope, version), out var key))
        {
            return key;
        }

        await using var connection = await OpenAsync();
        if (await IsDestroyedAsync(connection, scope))
        {
            Forget(scope);
            throw new DataKeyDestroyedException(scope);
        }

        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT master_id, wrapped FROM data_keys WHERE scope = @scope AND version = @version";
        command.With("@scope", scope);
        command.With("@version", version);
        await using var reader = await command.ExecuteReaderAsync();
        if (!await reader.ReadAsync())
        {
            throw new CryptographicException($"No data key version {version} for '{scope}'.");
        }

        return Remember(new DataKey(scope, version, Unwrap(scope, version, reader.GetString(0), (byte[])reader[1])));
    }

    /// <summary>Adds a new version that new writes use from now on; older versions stay readable.</summary>
    public async Task<DataKey> RotateAsync(string scope)
    {
        await using var connection = await OpenAsync();
        if (await IsDestroyedAsync(connection, scope))
        {
            throw new DataKeyDestroyedException(scope);
        }

        var newest = await ReadNewestAsync(connection, scope);
        var key = await CreateAsync(connection, scope, newest?.Version ?? 0);
        _current[scope] = (key, _time.GetUtcNow());
        return key;
    }

    /// <summary>Re-wraps every data key under the current master key; returns how many were re-wrapped.</summary>
    public async Task<int> RewrapAllAsync()
    {
        await using var connection = await OpenAsync();
        var rows = new List<(string Scope, int Version, string MasterId, byte[] Wrapped)>();
        await using (var select = connection.CreateCommand())
        {
            select.CommandText = "SELECT scope, version, master_id, wrapped FROM data_keys";
            await using var reader = await select.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                rows.Add((reader.GetString(0), reader.GetInt32(1), reader.GetString(2), (byte[])reader[3]));
            }
        }

        var count = 0;
        foreach (var (scope, version, masterId, wrapped) in rows.Where(r => r.MasterId != _masters.Current.Id))
        {
            var key = Unwrap(scope, version, masterId, wrapped);
            await using var update = connection.CreateCommand();
            update.CommandText = "UPDATE data_keys SET master_id = @master, wrapped = @wrapped WHERE scope = @scope AND version = @version AND master_id = @old";
            update.With("@master", _masters.Current.Id);
            update.With("@wrapped", Wrap(scope, version, key));
            update.With("@scope", scope);
            update.With("@version", version);
            update.With("@old", masterId);
            count += await update.ExecuteNonQueryAsync();
        }

        return count;
    }

    /// <summary>Crypto-shredding: deletes every data key of the scope and records that it is gone for good.</summary>
    public async Task DestroyAsync(string scope)
    {
        await using var connection = await OpenAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await using (var command = connection.CreateCommand())
        {
            command.Transaction = transaction;
            command.CommandText = """
                DELETE FROM data_keys WHERE scope = @scope;
                INSERT INTO destroyed_scopes (scope, destroyed_at) VALUES (@scope, @now) ON CONFLICT (scope) DO NOTHING;
                """;
            command.With("@scope", scope);
            command.With("@now", _time.GetUtcNow().ToUnixTimeMilliseconds());
            await command.ExecuteNonQueryAsync();
        }

        await transaction.CommitAsync();
        Forget(scope);
    }

    /// <summary>Every scope with its versions and the master key id wrapping each (for <c>admin status</c>).</summary>
    public async Task<IReadOnlyList<(string Scope, int Version, string MasterId)>> ListAsync()
    {
        await using var connection = await OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT scope, version, master_id FROM data_keys ORDER BY scope, version";
        await using var reader = await command.ExecuteReaderAsync();
        var list = new List<(string, int, string)>();
        while (await reader.ReadAsync())
        {
            list.Add((reader.GetString(0), reader.GetInt32(1), reader.GetString(2)));
        }

        return list;
    }

    private void Forget(string scope)
    {
        _current.TryRemove(scope, out _);
        foreach (var k in _keys.Keys.Where(k => k.Scope == scope))
        {
            _keys.TryRemove(k, out _);
        }
    }

    private DataKey Remember(DataKey key) => _keys.GetOrAdd((key.Scope, key.Version), key);

    private async Task<DataKey?> ReadNewestAsync(DbConnection connection, string scope)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT version, master_id, wrapped FROM data_keys WHERE scope = @scope ORDER BY version DESC LIMIT 1";
        command.With("@scope", scope);
        await using var reader = await command.ExecuteReaderAsync();
        if (!await reader.ReadAsync())
        {
            return null;
        }

        var version = reader.GetInt32(0);
        return _keys.TryGetValue((scope, version), out var known)
            ? known
            : Remember(new DataKey(scope, version, Unwrap(scope, version, reader.GetString(1), (byte[])reader[2])));
    }

    /// <summary>Creates version <paramref name="expectedNewest"/> + 1; if another writer got there first, uses theirs.</summary>
    private async Task<DataKey> CreateAsync(DbConnection connection, string scope, int expectedNewest)
    {
        await _create.WaitAsync();
        try
        {
            var version = expectedNewest + 1;
            var key = RandomNumberGenerator.GetBytes(32);
            await using var command = connection.CreateCommand();
            command.CommandText = """
                INSERT INTO data_keys (scope, version, master_id, wrapped, created_at) VALUES (@scope, @version, @master, @wrapped, @now)
                ON CONFLICT (scope, version) DO NOTHING
                """;
            command.With("@scope", scope);
            command.With("@version", version);
            command.With("@master", _masters.Current.Id);
            command.With("@wrapped", Wrap(scope, version, key));
            command.With("@now", _time.GetUtcNow().ToUnixTimeMilliseconds());
            if (await command.ExecuteNonQueryAsync() == 1)
            {
                return Remember(new DataKey(scope, version, key));
            }

            return await ReadNewestAsync(connection, scope) ?? throw new CryptographicException($"Could not create a data key for '{scope}'.");
        }
        finally
        {
            _create.Release();
        }
    }

    private static async Task<bool> IsDestroyedAsync(DbConnection connection, string scope)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT 1 FROM destroyed_scopes WHERE scope = @scope";
        command.With("@scope", scope);
        return await command.ExecuteScalarAsync() is not null;
    }

    private byte[] Wrap(string scope, int version, byte[] key)
    {
        var output = new byte[NonceSize + key.Length + TagSize];
        var nonce = output.AsSpan(0, NonceSize);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(_masters.Current.Key, TagSize);
        aes.Encrypt(nonce, key, output.AsSpan(NonceSize, key.Length), output.AsSpan(NonceSize + key.Length), WrapContext(scope, version));
        return output;
    }

    private byte[] Unwrap(string scope, int version, string masterId, byte[] wrapped)
    {
        var master = _masters.Find(masterId)
            ?? throw new CryptographicException($"The data key {scope}/v{version} is wrapped by master key {masterId}, which is not configured (Vault:MasterKeyFile / Vault:RetiredMasterKeyFiles).");
        if (wrapped.Length < NonceSize + TagSize)
        {
            throw new CryptographicException($"The data key {scope}/v{version} is damaged.");
        }

        var key = new byte[wrapped.Length - NonceSize - TagSize];
        using var aes = new AesGcm(master.Key, TagSize);
        aes.Decrypt(wrapped.AsSpan(0, NonceSize), wrapped.AsSpan(NonceSize, key.Length), wrapped.AsSpan(NonceSize + key.Length), key, WrapContext(scope, version));
        return key;
    }

    private static byte[] WrapContext(string scope, int version) => Encoding.UTF8.GetBytes($"ov/data-key/{scope}/{version}");

    private Task<DbConnection> OpenAsync() => _database.OpenConnectionAsync();
}

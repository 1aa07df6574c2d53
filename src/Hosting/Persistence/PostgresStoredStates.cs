using Npgsql;
using OrleansVault.Hosting.Encryption;

namespace OrleansVault.Hosting.Persistence;

/// <summary>
/// The <c>admin</c> command's view of cluster-mode grain state: the <c>orleansstorage</c> rows that
/// <see cref="EncryptedGrainStorage"/> wrote (payload = the encrypted envelope, key = <c>ov:{grain id}</c>).
/// </summary>
public sealed class PostgresStoredStates(NpgsqlDataSource dataSource, StateProtector protector) : IStoredStates
{
    private const string KeyMatch = """
        grainidhash = @hash AND graintypehash = @typehash AND serviceid = @service AND graintypestring = @state
        AND grainidn0 = @n0 AND grainidn1 = @n1 AND grainidextensionstring = @ext
        """;

    public async Task<int> ReencryptAsync(string? scope)
    {
        var rewritten = 0;
        foreach (var row in await ReadRowsAsync())
        {
            var rowScope = StateProtector.ScopeOf(row.StateName, row.GrainId);
            if ((scope is not null && rowScope != scope) || StateProtector.VersionOf(row.Payload) == (await protector.Keys.GetCurrentAsync(rowScope)).Version)
            {
                continue;
            }

            var payload = await protector.ProtectAsync(row.StateName, row.GrainId, await protector.UnprotectAsync(row.StateName, row.GrainId, row.Payload));
            await using var update = dataSource.CreateCommand($"UPDATE orleansstorage SET payloadbinary = @payload WHERE {KeyMatch} AND version = @version");
            update.Parameters.AddWithValue("payload", payload);
            Bind(update, row);
            update.Parameters.AddWithValue("version", row.Version);
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
            await using var delete = dataSource.CreateCommand($"DELETE FROM orleansstorage WHERE {KeyMatch}");
            Bind(delete, row);
            deleted += await delete.ExecuteNonQueryAsync();
        }

        return deleted;
    }

    private static void Bind(NpgsqlCommand command, Row row)
    {
        command.Parameters.AddWithValue("hash", row.Hash);
        command.Parameters.AddWithValue("typehash", row.TypeHash);
        command.Parameters.AddWithValue("service", row.Service);
        command.Parameters.AddWithValue("state", row.StateName);
        command.Parameters.AddWithValue("n0", row.N0);
        command.Parameters.AddWithValue("n1", row.N1);
        command.Parameters.AddWithValue("ext", row.Extension);
    }

    private async Task<List<Row>> ReadRowsAsync()
    {
        var rows = new List<Row>();
        await using var command = dataSource.CreateCommand("""
            SELECT grainidhash, graintypehash, serviceid, graintypestring, grainidn0, grainidn1, grainidextensionstring, version, payloadbinary
            FROM orleansstorage WHERE payloadbinary IS NOT NULL AND grainidextensionstring LIKE 'ov:%'
            """);
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            var extension = reader.GetString(6);
            rows.Add(new Row(reader.GetInt32(0), reader.GetInt32(1), reader.GetString(2), reader.GetString(3), reader.GetInt64(4), reader.GetInt64(5),
                extension, extension[3..], reader.GetInt32(7), (byte[])reader[8]));
        }

        return rows;
    }

    private sealed record Row(int Hash, int TypeHash, string Service, string StateName, long N0, long N1, string Extension, string GrainId, int Version, byte[] Payload);
}

using System.Security.Cryptography;
using System.Text;
using Npgsql;

namespace OrleansVault.Hosting.Cluster;

/// <summary>One versioned schema script (<c>src/Silo/Sql/NNN_name.sql</c>, embedded in this assembly).</summary>
public sealed record SchemaScript(int Version, string Name, string Sql)
{
    public string Checksum => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Sql)));
}

/// <summary>
/// The cluster's PostgreSQL schema: Orleans membership and grain state (our own scripts for the AdoNet providers'
/// contract) and OrleansVault's own tables. <see cref="MigrateAsync"/> applies the scripts not yet applied, in order,
/// each in its own transaction, under an advisory lock so two migrators never interleave; applying again is a no-op.
/// </summary>
public static class VaultSchema
{
    private const long AdvisoryLock = 0x4F72_6C56_6175_6C74; // "OrlVault"

    public static IReadOnlyList<SchemaScript> Scripts { get; } = Load();

    /// <summary>Applies what is missing; returns the names of the scripts applied now (empty when up to date).</summary>
    public static async Task<IReadOnlyList<string>> MigrateAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken = default)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using (var create = new NpgsqlCommand("""
            CREATE TABLE IF NOT EXISTS vault_schema_migrations (
                version    integer PRIMARY KEY,
                name       text NOT NULL,
                checksum   text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now()
            )
            """, connection))
        {
            await create.ExecuteNonQueryAsync(cancellationToken);
        }

        var applied = new List<string>();
        foreach (var script in Scripts)
        {
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            await using (var lockCommand = new NpgsqlCommand($"SELECT pg_advisory_xact_lock({AdvisoryLock})", connection, transaction))
            {
                await lockCommand.ExecuteNonQueryAsync(cancellationToken);
            }

            await using (var check = new NpgsqlCommand("SELECT checksum FROM vault_schema_migrations WHERE version = @version", connection, transaction))
            {
                check.Parameters.AddWithValue("version", script.Version);
                if (await check.ExecuteScalarAsync(cancellationToken) is string checksum)
                {
                    if (checksum != script.Checksum)
                    {
                        throw new InvalidOperationException(
                            $"Schema script {script.Name} was changed after it was applied to this database; write a new script instead.");
                    }

                    await transaction.RollbackAsync(cancellationToken);
                    continue;
                }
            }

            await using (var run = new NpgsqlCommand(script.Sql, connection, transaction))
            {
                await run.ExecuteNonQueryAsync(cancellationToken);
            }

            await using (var record = new NpgsqlCommand("INSERT INTO vault_schema_migrations (version, name, checksum) VALUES (@version, @name, @checksum)", connection, transaction))
            {
                record.Parameters.AddWithValue("version", script.Version);
                record.Parameters.AddWithValue("name", script.Name);
                record.Parameters.AddWithValue("checksum", script.Checksum);
                await record.ExecuteNonQueryAsync(cancellationToken);
            }

            await transaction.CommitAsync(cancellationToken);
            applied.Add(script.Name);
        }

        return applied;
    }

    /// <summary>The names of the scripts this database lacks (for start-up checks).</summary>
    public static async Task<IReadOnlyList<string>> PendingAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken = default)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var done = new HashSet<int>();
        await using (var exists = new NpgsqlCommand("SELECT to_regclass('vault_schema_migrations') IS NOT NULL", connection))
        {
            if (await exists.ExecuteScalarAsync(cancellationToken) is not true)
            {
                return [.. Scripts.Select(s => s.Name)];
            }
        }

        await using var query = new NpgsqlCommand("SELECT version FROM vault_schema_migrations", connection);
        await using var reader = await query.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            done.Add(reader.GetInt32(0));
        }

        return [.. Scripts.Where(s => !done.Contains(s.Version)).Select(s => s.Name)];
    }

    private static List<SchemaScript> Load()
    {
        var assembly = typeof(VaultSchema).Assembly;
        var scripts = new List<SchemaScript>();
        foreach (var resource in assembly.GetManifestResourceNames().Where(n => n.EndsWith(".sql", StringComparison.Ordinal)))
        {
            var file = resource[(resource.LastIndexOf(".Sql.", StringComparison.Ordinal) + 5)..];
            var version = int.Parse(file[..file.IndexOf('_', StringComparison.Ordinal)], System.Globalization.CultureInfo.InvariantCulture);
            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var reader = new StreamReader(stream, Encoding.UTF8);
            scripts.Add(new SchemaScript(version, file, reader.ReadToEnd()));
        }

        return [.. scripts.OrderBy(s => s.Version)];
    }
}

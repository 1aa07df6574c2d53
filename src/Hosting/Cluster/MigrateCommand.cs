using Microsoft.Extensions.Configuration;
using Npgsql;

namespace OrleansVault.Hosting.Cluster;

/// <summary><c>migrate</c>: applies the cluster schema to the database of <c>Vault:Cluster:ConnectionString</c>; safe to repeat.</summary>
public static class MigrateCommand
{
    public static async Task<int> RunAsync(IConfiguration configuration, TextWriter output)
    {
        var connectionString = configuration[$"{VaultClusterOptions.Section}:ConnectionString"];
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            await output.WriteLineAsync("error: Vault:Cluster:ConnectionString is not set (the PostgreSQL database to migrate).");
            return 2;
        }

        try
        {
            await using var dataSource = NpgsqlDataSource.Create(connectionString);
            var applied = await VaultSchema.MigrateAsync(dataSource);
            await output.WriteLineAsync(applied.Count == 0
                ? $"schema up to date ({VaultSchema.Scripts.Count} scripts)"
                : $"applied {string.Join(", ", applied)}");
            return 0;
        }
        catch (Exception error) when (error is NpgsqlException or InvalidOperationException or ArgumentException)
        {
            await output.WriteLineAsync($"error: {error.Message}");
            return 1;
        }
    }
}

using Npgsql;

namespace OrleansVault.Hosting.Cluster;

/// <summary>
/// Stops a cluster-mode silo before anything touches the database when the schema is missing or behind, naming the
/// command that adds it (runs first in the silo's lifecycle, ahead of membership and storage).
/// </summary>
public sealed class SchemaStartupCheck(NpgsqlDataSource dataSource) : ILifecycleParticipant<ISiloLifecycle>
{
    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(SchemaStartupCheck), ServiceLifecycleStage.First, CheckAsync);

    private async Task CheckAsync(CancellationToken cancellationToken)
    {
        IReadOnlyList<string> pending;
        try
        {
            pending = await VaultSchema.PendingAsync(dataSource, cancellationToken);
        }
        catch (NpgsqlException error)
        {
            throw new InvalidOperationException($"Cannot reach the PostgreSQL database of Vault:Cluster:ConnectionString: {error.Message}", error);
        }

        if (pending.Count > 0)
        {
            throw new InvalidOperationException(
                $"The cluster database lacks schema {string.Join(", ", pending)}: run `dotnet run --project src/Silo -- migrate` (same configuration) first.");
        }
    }
}

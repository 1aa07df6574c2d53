using Npgsql;

namespace OrleansVault.IntegrationTests.Cluster;

[Collection(PostgresCollection.Name)]
public sealed class PostgresServerTests(PostgresServer postgres)
{
    [Fact]
    public async Task Each_test_database_is_a_fresh_real_postgresql_15_database()
    {
        var first = await postgres.CreateDatabaseAsync();
        var second = await postgres.CreateDatabaseAsync();
        Assert.NotEqual(new NpgsqlConnectionStringBuilder(first).Database, new NpgsqlConnectionStringBuilder(second).Database);
        await using var connection = new NpgsqlConnection(first);
        await connection.OpenAsync();
        Assert.StartsWith("15.", connection.PostgreSqlVersion.ToString(), StringComparison.Ordinal);
        await using var command = new NpgsqlCommand("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'", connection);
        Assert.Equal(0L, await command.ExecuteScalarAsync());
    }
}

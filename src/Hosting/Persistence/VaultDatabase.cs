using System.Data.Common;
using Npgsql;

namespace OrleansVault.Hosting.Persistence;

/// <summary>
/// Where the node's own tables live (data keys, audit log, webhook outbox): the embedded SQLite file, or PostgreSQL in
/// cluster mode. The SQL those tables use is written to run on both (named <c>@parameters</c>, <c>ON CONFLICT</c>).
/// </summary>
public interface IVaultDatabase
{
    /// <summary>An open connection; the caller disposes it.</summary>
    Task<DbConnection> OpenConnectionAsync();

    /// <summary>Whether several processes share these tables, so claims need <c>FOR UPDATE SKIP LOCKED</c> (PostgreSQL).</summary>
    bool Shared => false;
}

/// <summary>PostgreSQL through one <see cref="NpgsqlDataSource"/>; its tables come from the migrations (<c>src/Silo/Sql</c>).</summary>
public sealed class PostgresDatabase(NpgsqlDataSource dataSource) : IVaultDatabase
{
    public async Task<DbConnection> OpenConnectionAsync() => await dataSource.OpenConnectionAsync();

    public bool Shared => true;
}

/// <summary>Small helpers that keep the shared SQL free of provider types.</summary>
public static class DbCommands
{
    public static DbCommand Command(this DbConnection connection, string sql, DbTransaction? transaction = null)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Transaction = transaction;
        return command;
    }

    /// <summary>Adds <c>@name</c> with <paramref name="value"/> (null becomes SQL NULL); returns it so loops can reset its value.</summary>
    public static DbParameter With(this DbCommand command, string name, object? value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value ?? DBNull.Value;
        command.Parameters.Add(parameter);
        return parameter;
    }
}

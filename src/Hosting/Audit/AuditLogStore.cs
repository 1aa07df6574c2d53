using System.Data.Common;
using OrleansVault.Grains.Audit;
using OrleansVault.Hosting.Persistence;
using OrleansVault.Projects;

namespace OrleansVault.Hosting.Audit;

/// <summary>
/// The audit log: table <c>audit_log</c> in the embedded SQLite file or in PostgreSQL, insert-only in code and guarded
/// by triggers that refuse any UPDATE or DELETE, so a bug or a stray statement cannot rewrite history.
/// </summary>
public sealed class AuditLogStore(IVaultDatabase database) : IAuditStore
{
    /// <summary>The SQLite table (PostgreSQL's comes from the migrations).</summary>
    public const string SqliteSchema = """
        CREATE TABLE IF NOT EXISTS audit_log (
            id             INTEGER PRIMARY KEY AUTOINCREMENT,
            at             INTEGER NOT NULL,
            project_id     TEXT NOT NULL,
            key_id         TEXT,
            action         TEXT NOT NULL,
            outcome        TEXT NOT NULL,
            remote_address TEXT,
            detail         TEXT
        );
        CREATE INDEX IF NOT EXISTS audit_log_by_project ON audit_log (project_id, at);
        CREATE TRIGGER IF NOT EXISTS audit_log_no_update BEFORE UPDATE ON audit_log
            BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
        CREATE TRIGGER IF NOT EXISTS audit_log_no_delete BEFORE DELETE ON audit_log
            BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
        """;

    public AuditLogStore(string sqliteConnectionString)
        : this(new SqliteTables(sqliteConnectionString, SqliteSchema))
    {
    }

    public async Task AppendAsync(IReadOnlyList<AuditEvent> events)
    {
        if (events.Count == 0)
        {
            return;
        }

        await using var connection = await OpenAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await using var command = connection.Command("""
            INSERT INTO audit_log (at, project_id, key_id, action, outcome, remote_address, detail)
            VALUES (@at, @project, @key, @action, @outcome, @address, @detail)
            """, transaction);
        var at = command.With("@at", 0L);
        var project = command.With("@project", "");
        var key = command.With("@key", null);
        var action = command.With("@action", "");
        var outcome = command.With("@outcome", "");
        var address = command.With("@address", null);
        var detail = command.With("@detail", null);
        foreach (var e in events)
        {
            at.Value = e.At;
            project.Value = e.ProjectId;
            key.Value = (object?)e.KeyId ?? DBNull.Value;
            action.Value = e.Action;
            outcome.Value = e.Outcome;
            address.Value = (object?)e.RemoteAddress ?? DBNull.Value;
            detail.Value = (object?)e.Detail ?? DBNull.Value;
            await command.ExecuteNonQueryAsync();
        }

        await transaction.CommitAsync();
    }

    public async Task<IReadOnlyList<AuditEvent>> QueryAsync(string projectId, long since, int limit)
    {
        await using var connection = await OpenAsync();
        await using var command = connection.Command("""
            SELECT at, project_id, key_id, action, outcome, remote_address, detail FROM audit_log
            WHERE project_id = @project AND at >= @since ORDER BY at, id LIMIT @limit
            """);
        command.With("@project", projectId);
        command.With("@since", since);
        command.With("@limit", limit);
        await using var reader = await command.ExecuteReaderAsync();
        var list = new List<AuditEvent>();
        while (await reader.ReadAsync())
        {
            list.Add(new AuditEvent(
                reader.GetInt64(0),
                reader.GetString(1),
                reader.IsDBNull(2) ? null : reader.GetString(2),
                reader.GetString(3),
                reader.GetString(4),
                reader.IsDBNull(5) ? null : reader.GetString(5),
                reader.IsDBNull(6) ? null : reader.GetString(6)));
        }

        return list;
    }

    private Task<DbConnection> OpenAsync() => database.OpenConnectionAsync();
}

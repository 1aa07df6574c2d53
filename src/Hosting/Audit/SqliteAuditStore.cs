using Microsoft.Data.Sqlite;
using OrleansVault.Grains.Audit;
using OrleansVault.Hosting.Persistence;
using OrleansVault.Projects;

namespace OrleansVault.Hosting.Audit;

/// <summary>
/// The audit log in the embedded SQLite file: table <c>audit_log</c>, insert-only in code and guarded by triggers that
/// refuse any UPDATE or DELETE, so a bug or a stray statement cannot rewrite history.
/// </summary>
public sealed class SqliteAuditStore(string connectionString) : IAuditStore
{
    private readonly SqliteTables _tables = new(connectionString, """
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
        """);

    public async Task AppendAsync(IReadOnlyList<AuditEvent> events)
    {
        if (events.Count == 0)
        {
            return;
        }

        await using var connection = await OpenAsync();
        await using var transaction = connection.BeginTransaction();
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = """
            INSERT INTO audit_log (at, project_id, key_id, action, outcome, remote_address, detail)
            VALUES ($at, $project, $key, $action, $outcome, $address, $detail)
            """;
        var at = command.Parameters.Add("$at", SqliteType.Integer);
        var project = command.Parameters.Add("$project", SqliteType.Text);
        var key = command.Parameters.Add("$key", SqliteType.Text);
        var action = command.Parameters.Add("$action", SqliteType.Text);
        var outcome = command.Parameters.Add("$outcome", SqliteType.Text);
        var address = command.Parameters.Add("$address", SqliteType.Text);
        var detail = command.Parameters.Add("$detail", SqliteType.Text);
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
        await using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT at, project_id, key_id, action, outcome, remote_address, detail FROM audit_log
            WHERE project_id = $project AND at >= $since ORDER BY at, id LIMIT $limit
            """;
        command.Parameters.AddWithValue("$project", projectId);
        command.Parameters.AddWithValue("$since", since);
        command.Parameters.AddWithValue("$limit", limit);
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

    private Task<SqliteConnection> OpenAsync() => _tables.OpenAsync();
}

using System.Text.Json;
using System.Data.Common;
using OrleansVault.Channels;
using OrleansVault.Grains.Channels;
using OrleansVault.Hosting.Encryption;
using OrleansVault.Hosting.Persistence;

namespace OrleansVault.Hosting.Webhooks;

/// <summary>A stored delivery: one event for one target URL of one app, and how often it failed.</summary>
public sealed record WebhookDelivery(long Id, string AppId, string Url, WebhookEvent Event, int Attempts);

/// <summary>
/// The durable webhook outbox (table <c>webhook_outbox</c>, in the embedded SQLite file or in PostgreSQL): one row per event and target,
/// its event encrypted under the app's data key (client events carry user data). A row leaves the table only when
/// delivered or given up, so deliveries survive a restart (at least once).
/// </summary>
public sealed class WebhookOutbox : IChannelWebhooks
{
    private const string StateName = "pusherWebhook";
    private readonly IVaultDatabase _database;
    private readonly StateProtector _protector;
    private readonly TimeProvider _time;

    /// <summary>The SQLite table (PostgreSQL's comes from the migrations).</summary>
    public const string SqliteSchema = """
        CREATE TABLE IF NOT EXISTS webhook_outbox (
            id         INTEGER PRIMARY KEY AUTOINCREMENT,
            app_id     TEXT NOT NULL,
            url        TEXT NOT NULL,
            payload    BLOB NOT NULL,
            attempts   INTEGER NOT NULL DEFAULT 0,
            due_at     INTEGER NOT NULL,
            created_at INTEGER NOT NULL
        );
        CREATE INDEX IF NOT EXISTS webhook_outbox_due ON webhook_outbox (due_at, id);
        """;

    public WebhookOutbox(IVaultDatabase database, StateProtector protector, TimeProvider time)
    {
        _database = database;
        _protector = protector;
        _time = time;
    }

    /// <summary>Raised after events were stored, so the dispatcher need not wait for its next poll.</summary>
    public event Action? Enqueued;

    public async Task EnqueueAsync(PusherApp app, WebhookEvent e)
    {
        var targets = app.Webhooks.Where(w => w.Wants(e.Name)).Select(w => w.Url).Distinct().ToList();
        if (targets.Count == 0)
        {
            return;
        }

        var payload = await _protector.ProtectAsync(StateName, GrainIdOf(app.AppId), JsonSerializer.SerializeToUtf8Bytes(e));
        var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        await using var connection = await _database.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await using var command = connection.Command(
            "INSERT INTO webhook_outbox (app_id, url, payload, due_at, created_at) VALUES (@app, @url, @payload, @now, @now)", transaction);
        command.With("@app", app.AppId);
        var url = command.With("@url", "");
        command.With("@payload", payload);
        command.With("@now", now);
        foreach (var target in targets)
        {
            url.Value = target;
            await command.ExecuteNonQueryAsync();
        }

        await transaction.CommitAsync();
        Enqueued?.Invoke();
    }

    /// <summary>
    /// Claims the oldest due deliveries, at most <paramref name="limit"/>, until <paramref name="claimFor"/> from now: no
    /// other dispatcher (another silo on the same database) takes them meanwhile. A claim that is neither deleted nor
    /// postponed (the process died mid-send) lapses and the rows are delivered again: at least once.
    /// </summary>
    public async Task<IReadOnlyList<WebhookDelivery>> ClaimDueAsync(int limit, TimeSpan claimFor)
    {
        var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        var rows = new List<(long Id, string App, string Url, byte[] Payload, int Attempts)>();
        await using (var connection = await _database.OpenConnectionAsync())
        {
            await using var command = connection.Command($"""
                UPDATE webhook_outbox SET due_at = @claimed
                WHERE id IN (SELECT id FROM webhook_outbox WHERE due_at <= @now ORDER BY id LIMIT @limit{(_database.Shared ? " FOR UPDATE SKIP LOCKED" : "")})
                RETURNING id, app_id, url, payload, attempts
                """);
            command.With("@claimed", now + (long)claimFor.TotalMilliseconds);
            command.With("@now", now);
            command.With("@limit", limit);
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                rows.Add((reader.GetInt64(0), reader.GetString(1), reader.GetString(2), (byte[])reader.GetValue(3), reader.GetInt32(4)));
            }
        }

        var deliveries = new List<WebhookDelivery>(rows.Count);
        foreach (var row in rows.OrderBy(r => r.Id))
        {
            var plain = await _protector.UnprotectAsync(StateName, GrainIdOf(row.App), row.Payload);
            deliveries.Add(new WebhookDelivery(row.Id, row.App, row.Url, JsonSerializer.Deserialize<WebhookEvent>(plain)!, row.Attempts));
        }

        return deliveries;
    }

    /// <summary>Gives claimed deliveries back at once (the dispatcher is stopping), without counting an attempt.</summary>
    public Task ReleaseAsync(IEnumerable<long> ids) =>
        ForEachIdAsync("UPDATE webhook_outbox SET due_at = @due WHERE id = @id", ids, _time.GetUtcNow().ToUnixTimeMilliseconds());

    public Task DeleteAsync(IEnumerable<long> ids) => ForEachIdAsync("DELETE FROM webhook_outbox WHERE id = @id", ids, dueAt: null);

    /// <summary>Records a failed delivery: tried again at <paramref name="dueAt"/>.</summary>
    public Task PostponeAsync(IEnumerable<long> ids, long dueAt) =>
        ForEachIdAsync("UPDATE webhook_outbox SET attempts = attempts + 1, due_at = @due WHERE id = @id", ids, dueAt);

    private async Task ForEachIdAsync(string sql, IEnumerable<long> ids, long? dueAt)
    {
        await using var connection = await _database.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await using var command = connection.Command(sql, transaction);
        var id = command.With("@id", 0L);
        if (dueAt is { } due)
        {
            command.With("@due", due);
        }

        foreach (var value in ids)
        {
            id.Value = value;
            await command.ExecuteNonQueryAsync();
        }

        await transaction.CommitAsync();
    }

    /// <summary>How many deliveries wait (for metrics and tests).</summary>
    public async Task<long> CountAsync()
    {
        await using var connection = await _database.OpenConnectionAsync();
        await using var command = connection.Command("SELECT COUNT(*) FROM webhook_outbox");
        return Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }

    // Bound into the ciphertext like a grain id, so a row cannot be moved to another app.
    private static string GrainIdOf(string appId) => $"webhook/{appId}";
}

namespace OrleansVault.Hosting.Webhooks;

/// <summary>Webhook delivery settings (<c>Vault:Webhooks</c>).</summary>
public sealed class WebhookOptions
{
    public const string Section = "Vault:Webhooks";

    /// <summary>How often the outbox is checked for due deliveries when nothing new arrived (retries become due).</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How long new events wait so that several go out in one request.</summary>
    public TimeSpan BatchDelay { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>The most events in one webhook request.</summary>
    public int MaxEventsPerRequest { get; set; } = 100;

    /// <summary>The longest one request may take before it counts as failed.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Immediate retries (exponential backoff with jitter) before a delivery is put back in the outbox.</summary>
    public int ImmediateRetries { get; set; } = 2;

    /// <summary>First delay of the immediate retries.</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>First delay before a failed delivery is tried again from the outbox; doubles per failure up to <see cref="MaxBackoff"/>.</summary>
    public TimeSpan Backoff { get; set; } = TimeSpan.FromSeconds(5);

    public TimeSpan MaxBackoff { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>After this many failed deliveries an event is dropped (and counted, and logged).</summary>
    public int MaxAttempts { get; set; } = 30;
}

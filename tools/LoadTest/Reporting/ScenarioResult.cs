using HdrHistogram;
using OrleansVault.LoadTest.Metrics;

namespace OrleansVault.LoadTest.Reporting;

/// <summary>The figures of one scenario against one target.</summary>
public sealed record ScenarioResult
{
    public required string Scenario { get; init; }

    public required string Target { get; init; }

    public required string Parameters { get; init; }

    public double DurationSeconds { get; init; }

    public long Connections { get; init; }

    public double ConnectsPerSecond { get; init; }

    public double ConnectP50Ms { get; init; }

    public double ConnectP99Ms { get; init; }

    public long Writes { get; init; }

    public long WritesAcknowledged { get; init; }

    public double WritesPerSecond { get; init; }

    /// <summary>Median time from sending a write to its acknowledgment (persisted, for OrleansVault).</summary>
    public double WriteAckP50Ms { get; init; }

    public double WriteAckP99Ms { get; init; }

    public long Deliveries { get; init; }

    public long ExpectedDeliveries { get; init; }

    public double DeliveriesPerSecond { get; init; }

    public double LatencyP50Ms { get; init; }

    public double LatencyP90Ms { get; init; }

    public double LatencyP99Ms { get; init; }

    public double LatencyMaxMs { get; init; }

    public long Requests { get; init; }

    public double RequestsPerSecond { get; init; }

    public double RequestP50Ms { get; init; }

    public double RequestP99Ms { get; init; }

    public IReadOnlyDictionary<string, long> Errors { get; init; } = new Dictionary<string, long>();

    public long ErrorCount => Errors.Values.Sum();

    public double? ServerRssBeforeMb { get; init; }

    public double? ServerRssAfterMb { get; init; }

    public double? MemoryPerConnectionKb { get; init; }

    public double? ServerCoresUsed { get; init; }

    public static ScenarioResult From(
        string scenario, string target, string parameters, LoadMetrics metrics, TimeSpan setup, TimeSpan window,
        long expected, ProcessStats? idle, ProcessStats? connected, ProcessStats? end)
    {
        var windowSeconds = Math.Max(window.TotalSeconds, 0.001);
        var deliverySpan = metrics.Deliveries > 0 && metrics.FirstPublishTicks != long.MaxValue
            ? Math.Max((metrics.LastDeliveryTicks - metrics.FirstPublishTicks) / (double)TimeSpan.TicksPerSecond, 0.001)
            : windowSeconds;
        var errors = new Dictionary<string, long>(metrics.Errors);
        if (expected > metrics.Deliveries)
        {
            errors["deliveries missing after drain"] = expected - metrics.Deliveries;
        }

        return new ScenarioResult
        {
            Scenario = scenario,
            Target = target,
            Parameters = parameters,
            DurationSeconds = Math.Round(windowSeconds, 2),
            Connections = metrics.Connects,
            ConnectsPerSecond = Rate(metrics.Connects, scenario == "churn" ? windowSeconds : setup.TotalSeconds),
            ConnectP50Ms = Ms(metrics.ConnectLatency, 50),
            ConnectP99Ms = Ms(metrics.ConnectLatency, 99),
            Writes = metrics.Publishes,
            WritesAcknowledged = metrics.Acked,
            WritesPerSecond = Rate(metrics.Acked, windowSeconds),
            WriteAckP50Ms = Ms(metrics.WriteLatency, 50),
            WriteAckP99Ms = Ms(metrics.WriteLatency, 99),
            Deliveries = metrics.Deliveries,
            ExpectedDeliveries = expected,
            DeliveriesPerSecond = Rate(metrics.Deliveries, deliverySpan),
            LatencyP50Ms = Ms(metrics.Latency, 50),
            LatencyP90Ms = Ms(metrics.Latency, 90),
            LatencyP99Ms = Ms(metrics.Latency, 99),
            LatencyMaxMs = metrics.Latency.TotalCount == 0 ? 0 : Math.Round(metrics.Latency.GetMaxValue() / 1000.0, 2),
            Requests = metrics.Requests,
            RequestsPerSecond = Rate(metrics.Requests, windowSeconds),
            RequestP50Ms = Ms(metrics.RequestLatency, 50),
            RequestP99Ms = Ms(metrics.RequestLatency, 99),
            Errors = errors,
            ServerRssBeforeMb = idle is { } i ? Math.Round(i.RssBytes / 1048576.0, 1) : null,
            ServerRssAfterMb = connected is { } c ? Math.Round(c.RssBytes / 1048576.0, 1) : null,
            MemoryPerConnectionKb = idle is { } a && connected is { } b && metrics.Connects > 0 && scenario != "churn"
                ? Math.Round((b.RssBytes - a.RssBytes) / 1024.0 / metrics.Connects, 1)
                : null,
            ServerCoresUsed = ProcessStats.CoresUsed(connected, end) is { } cores ? Math.Round(cores, 2) : null,
        };
    }

    private static double Rate(long count, double seconds) => seconds <= 0 ? 0 : Math.Round(count / seconds, 1);

    private static double Ms(HistogramBase histogram, double percentile) =>
        histogram.TotalCount == 0 ? 0 : Math.Round(histogram.GetValueAtPercentile(percentile) / 1000.0, 2);
}

using System.Net;
using OrleansVault.LoadTest.Options;
using OrleansVault.LoadTest.Reporting;

namespace OrleansVault.LoadTest.Bench;

/// <summary>A benchmark: the scenario, the targets it runs against, and the measure compared with a baseline.</summary>
public sealed record BenchItem(
    string Name,
    Func<LoadOptions, LoadOptions> Configure,
    IReadOnlyList<string> Targets,
    string? Baseline,
    string Measure,
    Func<ScenarioResult, double> Value,
    bool HigherIsBetter,
    double? RatioTarget,
    Func<ScenarioResult, bool>? AbsoluteTarget,
    string TargetText);

/// <summary>The benchmark table, at full size or at smoke size (seconds, for CI).</summary>
public static class BenchPlan
{
    private static readonly string[] All = ["vaultrice", "signalr", "plainws"];

    public static IReadOnlyList<BenchItem> For(string size, IEnumerable<string> names)
    {
        var full = size != "smoke";
        int N(int big, int small) => full ? big : small;
        var seconds = TimeSpan.FromSeconds(N(10, 2));
        var drain = TimeSpan.FromSeconds(N(30, 5));
        var warmup = TimeSpan.FromSeconds(N(3, 0));

        // Many small objects warm up longer: every object's first write creates its stored row and the write path
        // reaches steady state (tiered JIT) only after some seconds; its writes are closed-loop (64 in flight), so a
        // long warm-up leaves no backlog behind, unlike the open-loop scenarios at saturation.
        var objectsWarmup = TimeSpan.FromSeconds(N(10, 0));
        var items = new Dictionary<string, BenchItem>(StringComparer.Ordinal)
        {
            ["broadcast"] = new("broadcast", o => o with { Scenario = "broadcast", Subscribers = N(1000, 20), Rate = N(150, 20), Duration = seconds, Drain = drain, Warmup = warmup },
                All, "signalr", "deliveries/s", r => r.DeliveriesPerSecond, true, 0.9, null, ">= 0.9x plain SignalR group"),
            ["broadcast-max"] = new("broadcast-max", o => o with { Scenario = "broadcast", Subscribers = N(1000, 20), Rate = N(400, 50), Duration = TimeSpan.FromSeconds(N(5, 2)), Drain = TimeSpan.FromSeconds(N(60, 5)), Warmup = warmup },
                All, "signalr", "deliveries/s", r => r.DeliveriesPerSecond, true, 0.9, null, ">= 0.9x plain SignalR group (offered 400k/s: more than any keeps up with)"),
            ["objects"] = new("objects", o => o with { Scenario = "objects", Objects = N(5000, 20), PerObject = 2, Rate = 0, InFlight = 64, Duration = seconds, Drain = drain, Warmup = objectsWarmup },
                All, "signalr", "deliveries/s", r => r.DeliveriesPerSecond, true, 0.6, null, ">= 0.6x plain SignalR groups"),
            ["latency"] = new("latency", o => o with { Scenario = "broadcast", Subscribers = N(100, 10), Rate = N(100, 10), Duration = seconds, Warmup = warmup },
                All, "signalr", "write->subscriber p99 ms", r => r.LatencyP99Ms, false, 1.5, r => r.LatencyP99Ms < 10, "< 10 ms and <= 1.5x plain SignalR"),
            ["hold"] = new("hold", o => o with { Scenario = "hold", Connections = N(5000, 50), Objects = 100, Duration = TimeSpan.FromSeconds(N(5, 1)) },
                All, "signalr", "KB per idle connection", r => r.MemoryPerConnectionKb ?? double.NaN, false, 1.3, null, "<= 1.3x plain SignalR"),
            ["pusher"] = new("pusher", o => o with { Scenario = "broadcast", Subscribers = N(1000, 20), Rate = N(150, 20), Duration = seconds, Drain = drain, Warmup = warmup },
                ["pusher", "plainws"], "plainws", "deliveries/s", r => r.DeliveriesPerSecond, true, 0.6, null, ">= 0.6x plain Kestrel WebSocket"),
            ["pusher-max"] = new("pusher-max", o => o with { Scenario = "broadcast", Subscribers = N(1000, 20), Rate = N(400, 50), Duration = TimeSpan.FromSeconds(N(5, 2)), Drain = TimeSpan.FromSeconds(N(60, 5)), Warmup = warmup },
                ["pusher", "plainws"], "plainws", "deliveries/s", r => r.DeliveriesPerSecond, true, 0.6, null, ">= 0.6x plain Kestrel WebSocket (offered 400k/s)"),
            ["native"] = new("native", o => o with { Scenario = "broadcast", Subscribers = N(1000, 20), Rate = N(150, 20), Duration = seconds, Drain = drain, Warmup = warmup },
                ["native", "signalr"], "signalr", "deliveries/s", r => r.DeliveriesPerSecond, true, 0.9, null, ">= 0.9x plain SignalR group (native door, OrleansVault.Client)"),
            ["native-objects"] = new("native-objects", o => o with { Scenario = "objects", Objects = N(5000, 20), PerObject = 2, Rate = 0, InFlight = 64, Duration = seconds, Drain = drain, Warmup = objectsWarmup },
                ["native", "signalr"], "signalr", "deliveries/s", r => r.DeliveriesPerSecond, true, 0.6, null, ">= 0.6x plain SignalR groups (native door)"),
            ["http"] = new("http", o => o with { Scenario = "http", Connections = N(32, 4), Objects = 100, Duration = seconds, Warmup = warmup },
                All, "plainws", "requests/s", r => r.RequestsPerSecond, true, null, null, "(reported only)"),
            ["capacity"] = new("capacity", o => o with
                {
                    Scenario = "hold", Connections = N(19_000, 200), Objects = 100, Duration = TimeSpan.FromSeconds(N(5, 1)), Workers = 2,
                    SourceAddresses = [IPAddress.Parse("127.0.0.2"), IPAddress.Parse("127.0.0.3"), IPAddress.Parse("127.0.0.4"), IPAddress.Parse("127.0.0.5")],
                },
                ["vaultrice"], null, "connections held by one gateway", r => r.Connections, true, null, r => r.Connections >= N(19_000, 200) && r.ErrorCount == 0, ">= 19,000"),
        };
        return [.. names.Select(n => items.TryGetValue(n, out var item) ? item : throw new UsageException($"unknown bench scenario '{n}'"))];
    }
}

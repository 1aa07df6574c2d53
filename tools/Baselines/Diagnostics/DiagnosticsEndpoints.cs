namespace OrleansVault.Baselines.Diagnostics;

/// <summary>Maps <c>GET /health</c> and <c>GET /stats</c>.</summary>
internal static class DiagnosticsEndpoints
{
    public static IEndpointRouteBuilder MapDiagnostics(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/health", () => "ok");
        endpoints.MapGet("/stats", (ConnectionCounters counters) => counters.Snapshot());
        return endpoints;
    }
}

using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Health;

namespace OrleansVault.Proxy;

/// <summary>
/// Routes every request and WebSocket to one of the gateways in <c>Vault:Proxy:Gateways</c> (comma-separated URLs):
/// round-robin over the healthy ones, an active health check on <c>/health/ready</c>, and passive health so a gateway
/// that fails requests is taken out for a while. A client that loses its socket reconnects through the proxy and lands
/// on a live gateway.
/// </summary>
public static class GatewayProxy
{
    public const string Section = "Vault:Proxy";

    public static WebApplicationBuilder AddGatewayProxy(this WebApplicationBuilder builder)
    {
        var gateways = (builder.Configuration[$"{Section}:Gateways"] ?? "")
            .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (gateways.Length == 0 || gateways.Any(g => !Uri.TryCreate(g, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https")))
        {
            throw new InvalidOperationException("Vault:Proxy:Gateways must list the gateways' absolute http(s) URLs, comma-separated.");
        }

        var interval = builder.Configuration.GetValue($"{Section}:HealthInterval", TimeSpan.FromSeconds(5));
        var cluster = new ClusterConfig
        {
            ClusterId = "gateways",
            LoadBalancingPolicy = "RoundRobin",
            HealthCheck = new HealthCheckConfig
            {
                Active = new ActiveHealthCheckConfig
                {
                    Enabled = true,
                    Interval = interval,
                    Timeout = TimeSpan.FromSeconds(2),
                    Policy = HealthCheckConstants.ActivePolicy.ConsecutiveFailures,
                    Path = "/health/ready",
                },
                Passive = new PassiveHealthCheckConfig
                {
                    Enabled = true,
                    Policy = HealthCheckConstants.PassivePolicy.TransportFailureRate,
                    ReactivationPeriod = interval,
                },
            },
            Metadata = new Dictionary<string, string> { ["ConsecutiveFailuresHealthPolicy.Threshold"] = "1" },
            Destinations = gateways.Select((url, i) => (url, i)).ToDictionary(d => $"gateway-{d.i}", d => new DestinationConfig { Address = d.url }),
        };
        var route = new RouteConfig { RouteId = "all", ClusterId = cluster.ClusterId, Match = new RouteMatch { Path = "{**catch-all}" } };
        builder.Services.AddReverseProxy().LoadFromMemory([route], [cluster]);
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.AddServerHeader = false);
        builder.Logging.AddFilter("Yarp", LogLevel.Warning);
        return builder;
    }

    public static WebApplication MapGatewayProxy(this WebApplication app)
    {
        app.UseWebSockets();
        app.MapGet("/proxy/health", () => Results.Text("ok"));
        app.MapReverseProxy();
        return app;
    }
}

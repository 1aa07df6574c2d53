using OrleansVault.Baselines.Diagnostics;
using OrleansVault.Baselines.PlainWebSockets;
using OrleansVault.Baselines.SignalR;

namespace OrleansVault.Baselines.Hosting;

/// <summary>Wires both baselines (plain WebSockets and plain SignalR) into one process.</summary>
internal static class BaselineHostingExtensions
{
    public static WebApplicationBuilder AddBaselines(this WebApplicationBuilder builder)
    {
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            // A load-test target must not cap connections before the thing being measured does.
            kestrel.Limits.MaxConcurrentConnections = null;
            kestrel.Limits.MaxConcurrentUpgradedConnections = null;
        });

        builder.Services.AddSingleton<ConnectionCounters>();
        builder.Services.AddPlainWebSockets();
        builder.Services.AddBroadcastHub();
        return builder;
    }

    public static WebApplication MapBaselines(this WebApplication app)
    {
        app.UseWebSockets();
        app.MapDiagnostics();
        app.MapPlainWebSockets();
        app.MapBroadcastHub();
        return app;
    }
}

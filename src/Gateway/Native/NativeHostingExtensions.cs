using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Options;
using OrleansVault.Gateway.Options;
using OrleansVault.Protocol;

namespace OrleansVault.Gateway.Native;

/// <summary>Wires the native SignalR door.</summary>
public static class NativeHostingExtensions
{
    public static IServiceCollection AddVaultNativeHub(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<NativeOptions>().Bind(configuration.GetSection(NativeOptions.Section))
            .Validate(o => o.MaxQueuedEvents > 0 && o.MaxObjectsPerConnection > 0, "Vault:Hub:MaxQueuedEvents and MaxObjectsPerConnection must be positive.")
            .Validate(o => o.CallsPerSecond >= 0 && o.CallBurst >= 1, "Vault:Hub:CallsPerSecond must be 0 (unlimited) or more, CallBurst at least 1.")
            .Validate(o => o.MaxParallelCallsPerConnection is >= 1 and <= 1024, "Vault:Hub:MaxParallelCallsPerConnection must be between 1 and 1024.")
            .Validate(o => o.KeepAliveInterval > TimeSpan.Zero && o.ClientTimeout > o.KeepAliveInterval && o.CloseTimeout > TimeSpan.Zero, "Vault:Hub:KeepAliveInterval must be positive and ClientTimeout longer than it; CloseTimeout positive.")
            .ValidateOnStart();
        services.AddSingleton<NativeLifetimeManager>();
        services.AddSingleton<HubLifetimeManager<VaultHub>>(sp => sp.GetRequiredService<NativeLifetimeManager>());
        services.AddSignalR(hub => hub.AddFilter<NativeErrorFilter>())
            .AddJsonProtocol()
            .AddMessagePackProtocol();
        services.AddSingleton<IConfigureOptions<HubOptions<VaultHub>>, ConfigureVaultHub>();
        return services;
    }

    public static IEndpointRouteBuilder MapVaultNativeHub(this WebApplication app)
    {
        app.UseWhen(
            context => context.Request.Path.StartsWithSegments(NativeProtocol.HubPath, StringComparison.Ordinal),
            branch => branch.UseMiddleware<NativeAuthMiddleware>());
        app.MapHub<VaultHub>(NativeProtocol.HubPath);

        // A stopping gateway tells its clients to reconnect (through the proxy, to another gateway) and resume by sequence.
        var lifetime = app.Services.GetRequiredService<NativeLifetimeManager>();
        app.Lifetime.ApplicationStopping.Register(() => lifetime.DisconnectAll(Errors.ErrorCodes.Unavailable, "The gateway is shutting down; reconnect."));
        return app;
    }

    /// <summary>Hub limits from <c>Vault:Hub</c> and <c>Vault:Limits</c>: a call may carry a body as large as the HTTP API's.</summary>
    private sealed class ConfigureVaultHub(IOptions<NativeOptions> native, IOptions<LimitOptions> limits) : IConfigureOptions<HubOptions<VaultHub>>
    {
        public void Configure(HubOptions<VaultHub> options)
        {
            options.MaximumReceiveMessageSize = limits.Value.MaxBodyBytes + 16 * 1024;
            options.KeepAliveInterval = native.Value.KeepAliveInterval;
            options.ClientTimeoutInterval = native.Value.ClientTimeout;
            options.EnableDetailedErrors = native.Value.DetailedErrors;
            options.MaximumParallelInvocationsPerClient = native.Value.MaxParallelCallsPerConnection;
        }
    }
}

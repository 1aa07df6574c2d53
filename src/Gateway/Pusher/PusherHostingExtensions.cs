using OrleansVault.Gateway.Pusher.Protocol;

namespace OrleansVault.Gateway.Pusher;

/// <summary>Wires the Pusher door: app options, the socket endpoint, the REST API.</summary>
public static class PusherHostingExtensions
{
    public static IServiceCollection AddVaultPusher(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<PusherAppOptions>().Bind(configuration.GetSection(PusherAppOptions.Section))
            .Validate(o => o.Problem() is null, "Vault:Bootstrap:Pusher: AppId (1-64 of A-Z a-z 0-9 _ -), Key (1-64 of A-Z a-z 0-9 _ - .) and Secret (16+ characters) go together; limits positive; webhook URLs absolute http(s).")
            .ValidateOnStart();
        services.AddOptions<PusherSocketOptions>().Bind(configuration.GetSection(PusherSocketOptions.Section))
            .Validate(o => o.ActivityTimeoutSeconds > 0 && o.PongTimeout > TimeSpan.Zero && o.AuthorizationTimeout > TimeSpan.Zero && o.ClientEventsPerSecond > 0,
                "Vault:Pusher: ActivityTimeoutSeconds, PongTimeout, AuthorizationTimeout and ClientEventsPerSecond must be positive.")
            .Validate(o => o.MaxEventBytes > 0 && o.MaxFrameBytes >= o.MaxEventBytes && o.MaxChannelsPerEvent > 0 && o.MaxEventsPerBatch > 0
                && o.MaxEventNameLength > 0 && o.MaxUserInfoBytes > 0 && o.MaxChannelsPerConnection > 0 && o.RestTimestampWindow > TimeSpan.Zero,
                "Vault:Pusher limits must be positive, and MaxFrameBytes at least MaxEventBytes.")
            .ValidateOnStart();
        services.AddSingleton<PusherAppDirectory>();
        services.AddSingleton<ChannelReferences>();
        services.AddSingleton<ChannelFeeds>();
        services.AddSingleton<PusherFrameHandler>();
        services.AddSingleton<PusherSocketEndpoint>();
        services.AddSingleton<PusherRestHandler>();
        return services;
    }

    public static WebApplication MapPusherProtocol(this WebApplication app)
    {
        PusherSocketEndpoint.Map(app);
        app.MapPusherRestApi();
        return app;
    }
}

using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;
using OrleansVault.Errors;
using OrleansVault.Gateway.Admin;
using OrleansVault.Gateway.Audit;
using OrleansVault.Gateway.Auth;
using OrleansVault.Gateway.Bootstrap;
using OrleansVault.Gateway.Demo;
using OrleansVault.Gateway.Limits;
using OrleansVault.Gateway.Native;
using OrleansVault.Gateway.Options;
using OrleansVault.Gateway.Pusher;
using OrleansVault.Gateway.Transport;
using OrleansVault.Gateway.Vaultrice;
using OrleansVault.Gateway.WebSockets;
using OrleansVault.Hosting;
using OrleansVault.Hosting.Cluster;
using OrleansVault.Objects;
using OrleansVault.Projects;

namespace OrleansVault.Gateway.Hosting;

/// <summary>Wires the gateway: options, the co-hosted silo, auth, the Vaultrice doors.</summary>
public static class GatewayHostingExtensions
{
    public static WebApplicationBuilder AddVaultGateway(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        var configuration = builder.Configuration;

        services.AddOptions<BootstrapOptions>().Bind(configuration.GetSection(BootstrapOptions.Section))
            .Validate(o => !o.IsDeclared || (Names.IsValidProjectId(o.ProjectId) && !string.IsNullOrWhiteSpace(o.ApiKey) && !o.ApiKey.Contains(':', StringComparison.Ordinal)),
                "Vault:Bootstrap needs ProjectId (1-64 of A-Z a-z 0-9 _ -) and ApiKey (no ':') together.")
            .Validate(o => !o.IsDeclared || o.ApiSecret is { Length: >= 16 }, "Vault:Bootstrap:ApiSecret must be at least 16 characters.")
            .Validate(o => o.Classes.Count == 0 || o.IsDeclared, "Vault:Bootstrap:Classes needs a declared Vault:Bootstrap project.")
            .Validate(o => o.Classes.All(c => Names.IsValidClass(c.Key)), "Vault:Bootstrap:Classes: names are 1-64 of A-Z a-z 0-9 _ -.")
            .Validate(o => o.Classes.Values.All(c => ClassPolicies.Problem(c) is null), ClassPolicies.Rules)
            .ValidateOnStart();
        services.AddOptions<AuthOptions>().Bind(configuration.GetSection(AuthOptions.Section))
            .Validate(o => o.TokenLifetime >= AuthOptions.MinimumTokenLifetime, "Vault:Auth:TokenLifetime must be at least 150 seconds (the Vaultrice SDK refuses tokens with under two minutes left).")
            .Validate(o => !string.IsNullOrWhiteSpace(o.Issuer), "Vault:Auth:Issuer must not be empty.")
            .ValidateOnStart();
        services.AddOptions<LimitOptions>().Bind(configuration.GetSection(LimitOptions.Section))
            .Validate(o => o.MaxBodyBytes > 0 && o.MaxFrameBytes > 0 && o.MaxQueuedFrames > 0 && o.MaxItemsPerRequest > 0, "Vault:Limits values must be positive.")
            .Validate(o => o.MessagesPerSecond > 0 && o.MessageBurst >= 1 && o.MaxConnectionsPerKey > 0 && o.MaxConnectionsPerAddress > 0,
                "Vault:Limits: MessagesPerSecond and the connection limits must be positive, MessageBurst at least 1.")
            .Validate(o => o.RequestsPerSecondPerAddress >= 0 && o.RequestBurstPerAddress >= 1, "Vault:Limits: RequestsPerSecondPerAddress must be 0 (off) or more, RequestBurstPerAddress at least 1.")
            .ValidateOnStart();
        services.AddOptions<SocketOptions>().Bind(configuration.GetSection(SocketOptions.Section))
            .Validate(o => o.KeepAliveInterval > TimeSpan.Zero && o.KeepAliveTimeout > TimeSpan.Zero && o.CloseTimeout > TimeSpan.Zero && o.FeedRenewInterval > TimeSpan.Zero && o.FeedRenewTimeout > TimeSpan.Zero,
                "Vault:WebSockets intervals and timeouts must be positive.")
            .ValidateOnStart();

        services.AddSingleton(TimeProvider.System);
        services.AddSingleton<KeyRingCache>();
        services.AddSingleton<ProjectDirectory>();
        services.AddSingleton<ObjectReferences>();
        services.AddSingleton<TokenService>();
        services.AddSingleton<RequestAuthenticator>();
        var transport = configuration.GetSection(TransportOptions.Section).Get<TransportOptions>() ?? new TransportOptions();
        if (!transport.AllowPlaintext && TransportPolicy.PlaintextBeyondLoopback(configuration) is { Count: > 0 } plaintext)
        {
            throw new InvalidOperationException(
                $"Refusing to listen without TLS beyond loopback ({string.Join(", ", plaintext)}): use https:// with a certificate (Kestrel:Certificates:Default), "
                + "listen on 127.0.0.1, or set Vault:Transport:AllowPlaintext=true behind a TLS-terminating proxy.");
        }

        services.AddOptions<AdminOptions>().Bind(configuration.GetSection(AdminOptions.Section))
            .Validate(o => string.IsNullOrEmpty(o.Token) || o.Token.Length >= 32, "Vault:Admin:Token must be at least 32 characters (or unset, which turns the admin API off).")
            .ValidateOnStart();
        services.AddSingleton<AdminServices>();

        // Admin bodies name enums by their names ("IdentityToken"), as configuration does.
        services.ConfigureHttpJsonOptions(json => json.SerializerOptions.Converters.Add(new System.Text.Json.Serialization.JsonStringEnumConverter()));
        services.AddSingleton<AuditTrail>();
        services.AddSingleton<ConnectionLimiter>();
        services.AddRateLimiter(limiter =>
        {
            limiter.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(RequestPartition);
            limiter.OnRejected = (rejected, _) => new ValueTask(ErrorResponses.WriteAsync(
                rejected.HttpContext, StatusCodes.Status429TooManyRequests, ErrorCodes.RequestRate, "Too many requests from this address; retry in a moment."));
        });
        services.AddSingleton<ObjectFeeds>();
        services.AddSingleton<VaultriceSocketEndpoint>();
        services.AddSingleton<GatewayReadiness>();
        services.AddVaultPusher(configuration);
        services.AddVaultNativeHub(configuration);
        builder.AddVaultDemo();

        // Embedded mode: the gateway co-hosts a silo. Cluster mode (Vault:Cluster:Enabled): it is an Orleans client of
        // standalone silos, or (Vault:Cluster:HostSilo) hosts a silo of the cluster itself. The bootstrapper is added
        // after either, so it starts once the cluster answers.
        var cluster = VaultClusterOptions.From(configuration);
        if (cluster.Enabled && !cluster.HostSilo)
        {
            builder.UseOrleansClient(client => client.AddVaultClusterClient(configuration));
            if (cluster.DirectRouting)
            {
                // Each object's calls go straight to the silo that owns it (ObjectReferences asks the router).
                services.AddSingleton<SiloRouter>();
                services.AddHostedService(sp => sp.GetRequiredService<SiloRouter>());
            }
        }
        else
        {
            builder.UseOrleans(silo => silo.AddVaultSilo(configuration));
        }

        services.AddHostedService<ProjectBootstrapper>();
        services.AddHostedService<PusherAppBootstrapper>();

        // Registered after the silo, so they stop before it (hosted services stop in reverse order) and the audit trail's
        // last flush still reaches the grains.
        services.AddHostedService(sp => sp.GetRequiredService<AuditTrail>());
        services.AddHostedService<FeedRenewalService>();
        services.AddHostedService<DisabledKeyWatcher>();

        // Request logging would write URLs, and socket credentials ride in query strings (WIRE.md 1.8).
        builder.Logging.AddFilter("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.Warning);
        builder.Logging.AddFilter("Microsoft.AspNetCore.Routing", LogLevel.Warning);
        builder.Logging.AddFilter("Microsoft.AspNetCore.Http.Connections", LogLevel.Warning);

        // The hub dispatcher logs every error a caller provokes (a bad key, a stale updatedAt) as a failure with a stack
        // trace; NativeErrorFilter logs the real ones itself.
        builder.Logging.AddFilter("Microsoft.AspNetCore.SignalR.Internal.DefaultHubDispatcher", LogLevel.Critical);

        builder.WebHost.ConfigureKestrel((context, kestrel) =>
        {
            var limits = context.Configuration.GetSection(LimitOptions.Section).Get<LimitOptions>() ?? new LimitOptions();
            kestrel.Limits.MaxRequestBodySize = limits.MaxBodyBytes;
            kestrel.AddServerHeader = false;
        });
        return builder;
    }

    /// <summary>One token bucket per client address; health probes are never limited.</summary>
    private static RateLimitPartition<string> RequestPartition(HttpContext context)
    {
        var limits = context.RequestServices.GetRequiredService<IOptions<LimitOptions>>().Value;
        if (limits.RequestsPerSecondPerAddress <= 0 || context.Request.Path.StartsWithSegments("/health", StringComparison.Ordinal))
        {
            return RateLimitPartition.GetNoLimiter("unlimited");
        }

        var address = context.Connection.RemoteIpAddress?.ToString() ?? "unknown";
        return RateLimitPartition.GetTokenBucketLimiter(address, _ => new TokenBucketRateLimiterOptions
        {
            TokenLimit = limits.RequestBurstPerAddress,
            TokensPerPeriod = Math.Max(1, (int)Math.Ceiling(limits.RequestsPerSecondPerAddress / 10)),
            ReplenishmentPeriod = TimeSpan.FromMilliseconds(100),
            QueueLimit = 0,
            AutoReplenishment = true,
        });
    }

    public static WebApplication UseVaultGateway(this WebApplication app)
    {
        app.UseMiddleware<ErrorHandlingMiddleware>();
        app.UseMiddleware<ProjectCorsMiddleware>();
        app.UseRateLimiter();
        app.UseWebSockets();
        app.MapGet("/health/live", () => Results.Text("ok"));
        app.MapGet("/health/ready", (GatewayReadiness readiness) =>
            readiness.IsReady ? Results.Text("ready") : Results.Text("starting", statusCode: StatusCodes.Status503ServiceUnavailable));
        app.MapVaultriceApi();
        app.MapAdminApi();
        VaultriceSocketEndpoint.Map(app);
        app.MapPusherProtocol();
        app.MapVaultNativeHub();
        app.MapVaultDemo();
        return app;
    }
}

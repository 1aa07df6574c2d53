using System.Diagnostics;
using System.Text.Json;
using Microsoft.Extensions.Options;
using OrleansVault.Gateway.Audit;
using OrleansVault.Gateway.Auth;
using OrleansVault.Gateway.Diagnostics;
using OrleansVault.Gateway.Hosting;
using OrleansVault.Gateway.Options;
using OrleansVault.Hosting;
using OrleansVault.Objects;
using OrleansVault.Projects;

namespace OrleansVault.Gateway.Bootstrap;

/// <summary>
/// At start-up: makes sure the configured project (or, without one, a generated development project) exists
/// in its grain, then warms up the request path so the first clients do not pay for JIT and activation.
/// </summary>
public sealed class ProjectBootstrapper(
    IGrainFactory grains,
    KeyRingCache keyRing,
    ProjectDirectory projects,
    TokenService tokens,
    IOptions<BootstrapOptions> bootstrap,
    IConfiguration configuration,
    GatewayReadiness readiness,
    AuditTrail audit,
    TimeProvider time,
    ILogger<ProjectBootstrapper> logger,
    SiloRouter? router = null) : IHostedService
{
    public const string DevelopmentCredentialsFile = "dev-credentials.json";

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var watch = Stopwatch.StartNew();
        var material = await keyRing.GetAsync();
        var (projectId, keyId) = bootstrap.Value.IsDeclared
            ? await DeclareConfiguredAsync(material.Pepper)
            : await DeclareDevelopmentAsync(material.Pepper, cancellationToken);

        if (router is not null)
        {
            // Cluster mode: ready once the direct routes to the silos are up, so the first feeds subscribe through them.
            await router.FirstRound.WaitAsync(cancellationToken);
        }

        await WarmUpAsync(projectId, keyId);
        readiness.MarkReady(new BootstrapKey(projectId, keyId));
        GatewayLog.Ready(logger, watch.ElapsedMilliseconds);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private async Task<(string, string)> DeclareConfiguredAsync(byte[] pepper)
    {
        var options = bootstrap.Value;
        await UpsertKeyAsync(options.ProjectId!, options.ApiKey!, options.ApiSecret!, pepper, OriginPolicy.Parse(options.AllowedOrigins), options.AllowNonBrowser);
        var project = grains.GetGrain<IProjectGrain>(options.ProjectId!);
        foreach (var (name, policy) in options.Classes)
        {
            var wanted = ClassPolicies.From(name, policy);
            if (await project.GetClassPolicy(name) != wanted)
            {
                projects.Update(await project.UpsertClass(wanted));
                audit.Record(options.ProjectId!, null, "class.upsert", "ok", remoteAddress: null, name);
            }
        }

        GatewayLog.BootstrapProjectReady(logger, options.ProjectId!, options.ApiKey!);
        return (options.ProjectId!, options.ApiKey!);
    }

    private async Task<(string, string)> DeclareDevelopmentAsync(byte[] pepper, CancellationToken cancellationToken)
    {
        var dataDirectory = Path.GetFullPath(configuration["Vault:DataDirectory"] ?? "./data");
        Directory.CreateDirectory(dataDirectory);
        var file = Path.Combine(dataDirectory, DevelopmentCredentialsFile);
        DevelopmentCredentials credentials;
        var created = !File.Exists(file);
        if (created)
        {
            credentials = new DevelopmentCredentials($"dev-{SecretHasher.NewId(6)}", $"key-{SecretHasher.NewId(8)}", SecretHasher.NewSecret());
            OwnerOnlyFile.CreateNew(file, JsonSerializer.Serialize(credentials, DevelopmentCredentials.JsonOptions));
        }
        else
        {
            credentials = JsonSerializer.Deserialize<DevelopmentCredentials>(await File.ReadAllTextAsync(file, cancellationToken), DevelopmentCredentials.JsonOptions)
                ?? throw new InvalidOperationException($"{file} is not a credentials file; delete it to generate a new development project.");
        }

        await UpsertKeyAsync(credentials.ProjectId, credentials.ApiKey, credentials.ApiSecret, pepper, [], allowNonBrowser: false);
        if (created)
        {
            GatewayLog.DevelopmentProjectCreated(logger, credentials.ProjectId, credentials.ApiKey, file);
        }
        else
        {
            GatewayLog.DevelopmentProjectLoaded(logger, credentials.ProjectId, credentials.ApiKey, file);
        }

        return (credentials.ProjectId, credentials.ApiKey);
    }

    private async Task UpsertKeyAsync(string projectId, string keyId, string secret, byte[] pepper, IReadOnlyList<string> origins, bool allowNonBrowser)
    {
        var project = grains.GetGrain<IProjectGrain>(projectId);
        var existing = (await project.GetSnapshot())?.FindKey(keyId);

        // A key disabled or given more secrets through the admin API stays so across restarts. The configured secret
        // becomes the primary one only when it is not active already, and never when the admin API retired it.
        var hash = SecretHasher.Hash(pepper, secret);
        if (existing is not null && (existing.RetiredSecretHashes ?? []).Any(h => h.AsSpan().SequenceEqual(hash)))
        {
            GatewayLog.BootstrapSecretRetired(logger, projectId, keyId);
            audit.Record(projectId, keyId, "key.upsert", "refused", remoteAddress: null, "the configured secret was retired through the admin API");
            return;
        }

        var active = existing is not null && existing.SecretHashes.Any(h => h.AsSpan().SequenceEqual(hash));
        var record = new ApiKeyRecord(
            keyId,
            active ? existing!.SecretHash : hash,
            origins,
            Enabled: existing?.Enabled ?? true,
            allowNonBrowser,
            existing?.CreatedAt ?? time.GetUtcNow().ToUnixTimeMilliseconds(),
            existing?.ExtraSecrets,
            existing?.RetiredSecretHashes,
            existing?.MaxConnections,
            existing?.MessagesPerSecond);
        if (existing is null || !active || !existing.AllowedOrigins.SequenceEqual(origins) || existing.AllowNonBrowser != allowNonBrowser)
        {
            projects.Update(await project.UpsertKey(record));
            audit.Record(projectId, keyId, "key.upsert", "ok", remoteAddress: null, "bootstrap configuration");
        }
    }

    /// <summary>Runs the hot path once (token, validation, an object round trip) so the first real request is fast.</summary>
    private async Task WarmUpAsync(string projectId, string keyId)
    {
        var token = await tokens.MintAsync(projectId, keyId, origin: null);
        await tokens.ValidateAsync(token, projectId);
        await projects.GetAsync(projectId);
        var grain = grains.GetGrain<ISharedObjectGrain>(new ObjectAddress(projectId, "_warmup_", "gateway").GrainKey);
        await grain.GetAll(prefix: null);
        await grain.GetPresence();
    }

    private sealed record DevelopmentCredentials(string ProjectId, string ApiKey, string ApiSecret)
    {
        public static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web) { WriteIndented = true };
    }
}

/// <summary>The project and API key the bootstrapper declared (configured or generated); never the secret.</summary>
public sealed record BootstrapKey(string ProjectId, string KeyId);

/// <summary>Whether start-up (bootstrap and warm-up) is done; <c>/health/ready</c> reports it.</summary>
public sealed class GatewayReadiness
{
    private volatile BootstrapKey? _bootstrapKey;

    public bool IsReady => _bootstrapKey is not null;

    /// <summary>The bootstrap project's key once start-up is done (the demo mints its tokens for it), else null.</summary>
    public BootstrapKey? Bootstrap => _bootstrapKey;

    public void MarkReady(BootstrapKey bootstrapKey) => _bootstrapKey = bootstrapKey;
}

using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Orleans.Serialization;
using OrleansVault.Hosting.Cluster;
using OrleansVault.Hosting.Encryption;
using OrleansVault.Hosting.Persistence;

namespace OrleansVault.Hosting.Admin;

/// <summary>
/// <c>admin …</c>: key management on a node's storage, with the node's own configuration. Safe while nodes run: a
/// rotation reaches running nodes within <c>Vault:Encryption:KeyCacheRefresh</c>, and re-encryption never changes a
/// row's content or ETag.
/// </summary>
public static class VaultAdminCommand
{
    public const string Usage = """
        admin generate-master-key --out FILE     write a new master key (owner-only file) for Vault:MasterKeyFile
        admin status                             master key id, data key versions per project, rows per key version
        admin rotate-data-key --project ID       new writes of the project use a new data key; old rows stay readable
        admin reencrypt [--project ID]           rewrite rows still under an older data key (run after a rotation)
        admin rewrap                             re-wrap every data key under the current master key
        admin delete-project --project ID --yes  crypto-shredding: destroy the project's data keys, then delete its rows
        """;

    public static async Task<int> RunAsync(IReadOnlyList<string> args, IConfiguration configuration, TextWriter output)
    {
        if (args.Count == 0 || args[0] is "help" or "--help")
        {
            await output.WriteLineAsync(Usage);
            return args.Count == 0 ? 2 : 0;
        }

        try
        {
            return await RunVerbAsync(args[0], new Arguments(args.Skip(1).ToList()), configuration, output);
        }
        catch (Exception error) when (error is InvalidOperationException or ArgumentException or DataKeyDestroyedException or System.Security.Cryptography.CryptographicException)
        {
            await output.WriteLineAsync("error: " + error.Message);
            return 1;
        }
    }

    private static async Task<int> RunVerbAsync(string verb, Arguments args, IConfiguration configuration, TextWriter output)
    {
        if (verb == "generate-master-key")
        {
            var file = Path.GetFullPath(args.Required("--out"));
            OwnerOnlyFile.CreateNew(file, MasterKey.GenerateText() + "\n");
            await output.WriteLineAsync($"wrote a new master key to {file} (owner-only); point Vault:MasterKeyFile at it");
            return 0;
        }

        await using var services = BuildServices(configuration);
        var keys = services.GetRequiredService<DataKeyStore>();
        var storage = services.GetRequiredService<IStoredStates>();
        var masters = services.GetRequiredService<MasterKeyRing>();
        switch (verb)
        {
            case "status":
                await output.WriteLineAsync($"master key {masters.Current.Id} (retired accepted: {(masters.Retired.Count == 0 ? "none" : string.Join(", ", masters.Retired.Select(k => k.Id)))})");
                foreach (var (keyScope, version, masterId) in await keys.ListAsync())
                {
                    await output.WriteLineAsync($"data key {keyScope} v{version} wrapped by {masterId}");
                }

                foreach (var ((rowScope, version), rows) in (await storage.CountRowsByKeyAsync()).OrderBy(p => p.Key.Scope, StringComparer.Ordinal).ThenBy(p => p.Key.Version))
                {
                    await output.WriteLineAsync($"rows {rowScope} v{version?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "?"}: {rows}");
                }

                return 0;
            case "rotate-data-key":
                var rotated = await keys.RotateAsync(Project(args));
                await output.WriteLineAsync($"data key {rotated.Scope} is now v{rotated.Version}; run `admin reencrypt --project {rotated.Scope}` once running nodes have picked it up");
                return 0;
            case "reencrypt":
                var scope = args.Optional("--project");
                var count = await storage.ReencryptAsync(scope);
                await output.WriteLineAsync($"re-encrypted {count} rows");
                return 0;
            case "rewrap":
                await output.WriteLineAsync($"re-wrapped {await keys.RewrapAllAsync()} data keys under master key {masters.Current.Id}");
                return 0;
            case "delete-project":
                var project = Project(args);
                if (!args.Has("--yes"))
                {
                    throw new ArgumentException($"delete-project destroys every stored value of '{project}' for good; add --yes to confirm.");
                }

                await keys.DestroyAsync(project);
                var deleted = await storage.DeleteScopeAsync(project);
                await output.WriteLineAsync($"destroyed the data keys of {project} and deleted its {deleted} rows; running nodes forget its keys within Vault:Encryption:KeyCacheRefresh");
                return 0;
            default:
                await output.WriteLineAsync($"unknown admin command '{verb}'\n{Usage}");
                return 2;
        }
    }

    private static string Project(Arguments args)
    {
        var project = args.Required("--project");
        return project.StartsWith('~') || project.Contains('/', StringComparison.Ordinal)
            ? throw new ArgumentException($"'{project}' is not a project id.")
            : project;
    }

    /// <summary>The node's storage as its configuration says: the embedded SQLite file, or PostgreSQL in cluster mode.</summary>
    private static ServiceProvider BuildServices(IConfiguration configuration)
    {
        var cluster = VaultClusterOptions.From(configuration);
        var services = new ServiceCollection();
        services.AddSingleton(configuration);
        services.AddSingleton<ILoggerFactory>(NullLoggerFactory.Instance);
        services.AddSingleton(typeof(ILogger<>), typeof(Logger<>));
        services.AddSerializer();
        services.AddVaultStorage(configuration, cluster);
        services.AddVaultEncryption(configuration, cluster.Enabled);
        return services.BuildServiceProvider();
    }

    private sealed class Arguments(List<string> args)
    {
        public bool Has(string name) => args.Contains(name, StringComparer.Ordinal);

        public string? Optional(string name)
        {
            var at = args.IndexOf(name);
            return at >= 0 && at + 1 < args.Count ? args[at + 1] : null;
        }

        public string Required(string name) => Optional(name) ?? throw new ArgumentException($"{name} is required.");
    }
}

using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Orleans.Runtime;
using Orleans.Serialization;
using Orleans.Storage;
using OrleansVault.Grains.Objects;
using OrleansVault.Hosting.Cluster;
using OrleansVault.Hosting.Encryption;
using OrleansVault.Hosting.Persistence;
using OrleansVault.Objects;

namespace OrleansVault.Benchmarks;

/// <summary>
/// Durable grain-state writes per second of cluster-mode storage alone (<see cref="PostgresGrainStorage"/>: serialize,
/// encrypt, group commit) on a PostgreSQL database, with many writers at once, as a silo under load issues them. The
/// figure to compare with <c>pgbench</c> on the same server; the end-to-end figure (HTTP, grain calls, fan-out) is the
/// cluster benchmark's.
/// </summary>
internal static class StorageBenchmark
{
    public const string Usage = "storage --connection <Npgsql connection string of an empty database> [--seconds 10] [--writers 64] [--value-bytes 200] [--storage-writers 2]";

    public static async Task<int> RunAsync(string[] args)
    {
        string? Option(string name) => Array.IndexOf(args, "--" + name) is var at and >= 0 && at + 1 < args.Length ? args[at + 1] : null;
        int Number(string name, int fallback) => Option(name) is { } text ? int.Parse(text, CultureInfo.InvariantCulture) : fallback;
        if (Option("connection") is not { } connection)
        {
            Console.Error.WriteLine("usage: " + Usage);
            return 2;
        }

        var seconds = Number("seconds", 10);
        var writers = Number("writers", 64);
        var valueBytes = Number("value-bytes", 200);
        // The connection string as a node would use it (pool cap, prepared statements).
        await using var dataSource = NpgsqlDataSource.Create(VaultClusterOptions.WithDefaults(connection, new VaultClusterOptions().MaxPoolSize));

        // It writes rows and data keys of its own (under a throw-away master key): never into a database in use.
        await using (var inUse = dataSource.CreateCommand("SELECT to_regclass('vault_schema_migrations') IS NOT NULL"))
        {
            if (await inUse.ExecuteScalarAsync() is true)
            {
                Console.Error.WriteLine("storage: give it an empty database; this one already holds OrleansVault's schema.");
                return 2;
            }
        }

        await VaultSchema.MigrateAsync(dataSource);
        await using var services = new ServiceCollection().AddSerializer(s => s.AddAssembly(typeof(SharedObjectState).Assembly)).BuildServiceProvider();
        var masters = new MasterKeyRing(new MasterKey(RandomNumberGenerator.GetBytes(32)), []);
        var storage = new PostgresGrainStorage(
            dataSource,
            "bench-" + Guid.NewGuid().ToString("N")[..8],
            new PostgresStorageSettings { Writers = Number("storage-writers", 2) },
            services.GetRequiredService<Serializer>(),
            new StateProtector(new DataKeyStore(new PostgresDatabase(dataSource), masters, TimeSpan.FromMinutes(5), TimeProvider.System)),
            NullLogger<PostgresGrainStorage>.Instance);

        // Each writer owns one object (one grain writes one state at a time, as in a silo) and rewrites it with a
        // value of the given size, the way an item write does.
        var value = "\"" + new string('v', Math.Max(1, valueBytes - 2)) + "\"";
        var warmUp = TimeSpan.FromSeconds(2);
        var measured = TimeSpan.FromSeconds(seconds);
        var counts = new long[writers];
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, writers).Select(w => Task.Run(async () =>
        {
            var grain = GrainId.Create("object", $"bench/notes/{w}");
            var state = new GrainState<SharedObjectState>(new SharedObjectState());
            var current = state.State!;
            while (clock.Elapsed < warmUp + measured)
            {
                current.Sequence++;
                current.Items["k"] = new ItemView(value, 1, current.Sequence, 0, null);
                await storage.WriteStateAsync("object", grain, state);
                if (clock.Elapsed >= warmUp)
                {
                    counts[w]++;
                }
            }
        })));
        await storage.DisposeAsync();
        var perSecond = counts.Sum() / measured.TotalSeconds;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{{\"writesPerSecond\":{perSecond:F1},\"writers\":{writers},\"seconds\":{seconds},\"valueBytes\":{valueBytes}}}"));
        return 0;
    }
}

using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Npgsql;

namespace OrleansVault.IntegrationTests.Cluster;

/// <summary>
/// A real PostgreSQL 15 server for the tests: the one named by <c>VAULT_TEST_POSTGRES</c> (the test command starts one
/// for every suite), or else one of its own from the machine's binaries (initdb + pg_ctl as a non-root user, random
/// port, data in a temporary directory), stopped on dispose. Each test takes a fresh database of its own.
/// </summary>
public sealed class PostgresServer : IAsyncLifetime
{
    private const string ServiceUser = "ovtest";
    private string? _directory;
    private string? _binaries;
    private bool _asServiceUser;

    /// <summary>Connection string of the server's maintenance database (<c>postgres</c>).</summary>
    public string AdminConnectionString { get; private set; } = "";

    public async Task InitializeAsync()
    {
        if (Environment.GetEnvironmentVariable("VAULT_TEST_POSTGRES") is { Length: > 0 } shared)
        {
            AdminConnectionString = shared;
            return;
        }

        _binaries = FindBinaries();
        _directory = Directory.CreateTempSubdirectory("ov-pg-").FullName;
        var password = Convert.ToHexString(RandomNumberGenerator.GetBytes(16));
        var passwordFile = Path.Combine(_directory, "pw");
        await File.WriteAllTextAsync(passwordFile, password);
        _asServiceUser = Environment.UserName == "root";
        if (_asServiceUser)
        {
            // PostgreSQL refuses to run as root: the server runs as a system user that owns only this directory.
            await RunAsync("/bin/sh", $"-c \"id -u {ServiceUser} >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin {ServiceUser}\"");
            await RunAsync("chown", $"-R {ServiceUser} {_directory}");
        }

        var data = Path.Combine(_directory, "data");
        await PostgresAsync("initdb", $"-D {data} -U vault --auth=scram-sha-256 --pwfile={passwordFile} -E UTF8 --no-instructions");
        var port = FreePort();
        await PostgresAsync("pg_ctl", $"-D {data} -l {Path.Combine(_directory, "server.log")} -w -t 60 -o \"-p {port} -k {_directory} -c listen_addresses=127.0.0.1\" start");
        AdminConnectionString = new NpgsqlConnectionStringBuilder
        {
            Host = "127.0.0.1", Port = port, Username = "vault", Password = password, Database = "postgres", Pooling = false,
        }.ToString();
    }

    public async Task DisposeAsync()
    {
        if (_directory is null)
        {
            return;
        }

        try
        {
            await PostgresAsync("pg_ctl", $"-D {Path.Combine(_directory, "data")} -m fast -w stop");
        }
        finally
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    /// <summary>Creates an empty database for one test and returns its connection string.</summary>
    public async Task<string> CreateDatabaseAsync()
    {
        var name = "ov_" + Guid.NewGuid().ToString("N")[..12];
        await using (var connection = new NpgsqlConnection(AdminConnectionString))
        {
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
            await command.ExecuteNonQueryAsync();
        }

        return new NpgsqlConnectionStringBuilder(AdminConnectionString) { Database = name, Pooling = true }.ToString();
    }

    private Task PostgresAsync(string tool, string arguments) =>
        _asServiceUser
            ? RunAsync("runuser", $"-u {ServiceUser} -- {Path.Combine(_binaries!, tool)} {arguments}")
            : RunAsync(Path.Combine(_binaries!, tool), arguments);

    private static async Task RunAsync(string file, string arguments)
    {
        using var process = Process.Start(new ProcessStartInfo(file, arguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Path.GetTempPath(),
        })!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {arguments} failed ({process.ExitCode}): {await output} {await error}");
        }
    }

    private static string FindBinaries()
    {
        foreach (var candidate in new[] { Environment.GetEnvironmentVariable("VAULT_POSTGRES_BIN"), "/usr/lib/postgresql/15/bin" }
                     .Concat(Directory.Exists("/usr/lib/postgresql") ? Directory.GetDirectories("/usr/lib/postgresql").OrderDescending().Select(d => Path.Combine(d, "bin")) : []))
        {
            if (candidate is not null && File.Exists(Path.Combine(candidate, "pg_ctl")))
            {
                return candidate;
            }
        }

        throw new InvalidOperationException("PostgreSQL binaries (initdb, pg_ctl) not found: install PostgreSQL 15 or set VAULT_POSTGRES_BIN.");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

[CollectionDefinition(Name)]
public sealed class PostgresCollection : ICollectionFixture<PostgresServer>
{
    public const string Name = "postgres";
}

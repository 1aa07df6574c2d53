using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;

namespace OrleansVault.Hosting.Encryption;

/// <summary>The key that wraps every data key. <see cref="Id"/> names it in wrapped keys without revealing it.</summary>
public sealed class MasterKey
{
    public const int Size = 32;

    public MasterKey(byte[] key)
    {
        if (key.Length != Size)
        {
            throw new ArgumentException($"A master key is {Size} bytes.", nameof(key));
        }

        Key = key;
        Id = Convert.ToHexString(SHA256.HashData([.. "ov-master-key-id:"u8, .. key])[..8]).ToLowerInvariant();
    }

    public string Id { get; }

    internal byte[] Key { get; }

    /// <summary>A new random key, as the base64 text a key file holds.</summary>
    public static string GenerateText() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(Size));

    public static MasterKey Parse(string text, string source)
    {
        byte[] bytes;
        try
        {
            bytes = Convert.FromBase64String(text.Trim());
        }
        catch (FormatException)
        {
            throw new InvalidOperationException($"{source} is not base64.");
        }

        return bytes.Length == Size ? new MasterKey(bytes) : throw new InvalidOperationException($"{source} must hold {Size} bytes (base64), not {bytes.Length}.");
    }
}

/// <summary>Where the master key comes from, bound from <c>Vault</c> (<c>MasterKey</c>, <c>MasterKeyFile</c>, <c>RetiredMasterKeyFiles</c>) and <c>Vault:Encryption</c>.</summary>
public sealed class MasterKeyOptions
{
    /// <summary>The master key itself as base64 (<c>Vault:MasterKey</c>), e.g. from a secret store's environment variable.</summary>
    public string? MasterKey { get; set; }

    /// <summary>A file holding the master key as base64 (<c>Vault:MasterKeyFile</c>); it must lie outside the data directory.</summary>
    public string? MasterKeyFile { get; set; }

    /// <summary>Earlier master keys (<c>Vault:RetiredMasterKeyFiles</c>): data keys still wrapped by them stay readable until <c>admin rewrap</c>.</summary>
    public List<string> RetiredMasterKeyFiles { get; set; } = [];

    /// <summary>
    /// Embedded mode: with no key configured, create one next to the data directory on first start (with a warning).
    /// Cluster mode sets it false (<c>Vault:Encryption:GenerateMasterKey</c>), so a missing key is an error.
    /// </summary>
    public bool GenerateMasterKey { get; set; } = true;

    /// <summary>How long a gateway trusts its cached idea of a project's current data key before asking storage again.</summary>
    public TimeSpan KeyCacheRefresh { get; set; } = TimeSpan.FromSeconds(30);
}

/// <summary>The master key in use and the retired ones still accepted for unwrapping.</summary>
public sealed partial class MasterKeyRing
{
    public MasterKeyRing(MasterKey current, IReadOnlyList<MasterKey> retired)
    {
        Current = current;
        Retired = retired;
    }

    public MasterKey Current { get; }

    public IReadOnlyList<MasterKey> Retired { get; }

    public MasterKey? Find(string id) =>
        Current.Id == id ? Current : Retired.FirstOrDefault(k => k.Id == id);

    /// <summary>
    /// Loads the configured master key, or in embedded mode generates <c>&lt;data directory&gt;.master.key</c> beside (never
    /// inside) the data directory. A key file inside the data directory is refused: a copy of the directory would carry
    /// the key that unlocks it.
    /// </summary>
    public static MasterKeyRing Load(MasterKeyOptions options, string dataDirectory, ILogger logger)
    {
        var data = Path.GetFullPath(dataDirectory);
        MasterKey current;
        if (!string.IsNullOrWhiteSpace(options.MasterKey))
        {
            current = MasterKey.Parse(options.MasterKey, "Vault:MasterKey");
        }
        else
        {
            var file = options.MasterKeyFile is { Length: > 0 } configured
                ? Path.GetFullPath(configured)
                : DefaultFile(data);
            EnsureOutside(file, data, "Vault:MasterKeyFile");
            if (!File.Exists(file))
            {
                if (!options.GenerateMasterKey || options.MasterKeyFile is { Length: > 0 })
                {
                    throw new InvalidOperationException($"Vault:MasterKeyFile: no master key at {file}. Create one with `admin generate-master-key --out {file}`.");
                }

                OwnerOnlyFile.CreateNew(file, MasterKey.GenerateText() + "\n");
                LogGenerated(logger, file);
            }

            current = MasterKey.Parse(File.ReadAllText(file), $"Vault:MasterKeyFile ({file})");
        }

        var retired = options.RetiredMasterKeyFiles
            .Select(f => Path.GetFullPath(f))
            .Select(f =>
            {
                EnsureOutside(f, data, "Vault:RetiredMasterKeyFiles");
                return MasterKey.Parse(File.ReadAllText(f), $"Vault:RetiredMasterKeyFiles ({f})");
            })
            .ToList();
        return new MasterKeyRing(current, retired);
    }

    public static string DefaultFile(string dataDirectory)
    {
        var data = Path.TrimEndingDirectorySeparator(Path.GetFullPath(dataDirectory));
        return data + ".master.key";
    }

    private static void EnsureOutside(string file, string dataDirectory, string setting)
    {
        var directory = Path.TrimEndingDirectorySeparator(dataDirectory) + Path.DirectorySeparatorChar;
        if (file.StartsWith(directory, StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"{setting} must lie outside the data directory ({dataDirectory}): a copy of the data would carry its key.");
        }
    }

    [LoggerMessage(EventId = 1201, Level = LogLevel.Warning, Message = "No master key was configured: generated one at {MasterKeyFile} (owner-only). Back it up apart from the data directory; without it the data cannot be read. Configure Vault:MasterKeyFile explicitly in production.")]
    private static partial void LogGenerated(ILogger logger, string masterKeyFile);
}

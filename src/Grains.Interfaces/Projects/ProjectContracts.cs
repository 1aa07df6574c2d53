namespace OrleansVault.Projects;

/// <summary>An API key of a project. The secret itself is never stored: only its HMAC under the cluster pepper.</summary>
[GenerateSerializer]
[Alias("ov.ApiKeyRecord")]
public sealed record ApiKeyRecord(
    [property: Id(0)] string KeyId,
    [property: Id(1)] byte[] SecretHash,
    [property: Id(2)] IReadOnlyList<string> AllowedOrigins,
    [property: Id(3)] bool Enabled,
    [property: Id(4)] bool AllowNonBrowser,
    [property: Id(5)] long CreatedAt);

/// <summary>
/// A public key that verifies object-ID signatures of a class (ECDSA P-256, SHA-256). <see cref="PublicKey"/> is the
/// SubjectPublicKeyInfo (DER). A revoked version verifies nothing.
/// </summary>
[GenerateSerializer]
[Alias("ov.IdSignatureKey")]
public sealed record IdSignatureKey(
    [property: Id(0)] int Version,
    [property: Id(1)] byte[] PublicKey,
    [property: Id(2)] bool Revoked)
{
    public bool Equals(IdSignatureKey? other) =>
        other is not null && Version == other.Version && Revoked == other.Revoked && PublicKey.AsSpan().SequenceEqual(other.PublicKey);

    public override int GetHashCode() => HashCode.Combine(Version, Revoked, PublicKey.Length);
}

/// <summary>The policy of a class of shared objects; <see cref="Default"/> applies to undeclared classes.</summary>
[GenerateSerializer]
[Alias("ov.ClassPolicy")]
public sealed record ClassPolicy(
    [property: Id(0)] string Name,
    [property: Id(1)] long DefaultTtlMs,
    [property: Id(2)] int MaxValueBytes,
    [property: Id(3)] bool RequireIdSignature = false,
    [property: Id(4)] IReadOnlyList<IdSignatureKey>? IdSignatureKeys = null)
{
    /// <summary>The version used when a request names none: the newest that is not revoked.</summary>
    public IdSignatureKey? CurrentIdSignatureKey =>
        IdSignatureKeys?.Where(k => !k.Revoked).OrderByDescending(k => k.Version).FirstOrDefault();

    public bool Equals(ClassPolicy? other) =>
        other is not null && Name == other.Name && DefaultTtlMs == other.DefaultTtlMs && MaxValueBytes == other.MaxValueBytes
        && RequireIdSignature == other.RequireIdSignature
        && (IdSignatureKeys ?? []).SequenceEqual(other.IdSignatureKeys ?? []);

    public override int GetHashCode() => HashCode.Combine(Name, DefaultTtlMs, MaxValueBytes, RequireIdSignature);

    public const long DefaultTtl = 3_600_000;
    public const int DefaultMaxValueBytes = 256 * 1024;

    public static ClassPolicy Default(string name) => new(name, DefaultTtl, DefaultMaxValueBytes);
}

/// <summary>A point-in-time copy of a project's configuration, cached briefly by gateways.</summary>
[GenerateSerializer]
[Alias("ov.ProjectSnapshot")]
public sealed record ProjectSnapshot(
    [property: Id(0)] string ProjectId,
    [property: Id(1)] IReadOnlyList<ApiKeyRecord> Keys,
    [property: Id(2)] IReadOnlyList<ClassPolicy> Classes,
    [property: Id(3)] long Version)
{
    public ApiKeyRecord? FindKey(string keyId) => Keys.FirstOrDefault(k => string.Equals(k.KeyId, keyId, StringComparison.Ordinal));
}

/// <summary>A project (tenant): its API keys and class policies. Key: the project id.</summary>
[Alias("ov.IProjectGrain")]
public interface IProjectGrain : IGrainWithStringKey
{
    /// <summary>The configuration, or null when the project does not exist.</summary>
    [Alias("GetSnapshot")]
    Task<ProjectSnapshot?> GetSnapshot();

    /// <summary>Creates the project if needed and adds or replaces one API key.</summary>
    [Alias("UpsertKey")]
    Task<ProjectSnapshot> UpsertKey(ApiKeyRecord key);

    [Alias("UpsertClass")]
    Task<ProjectSnapshot> UpsertClass(ClassPolicy policy);

    [Alias("GetClassPolicy")]
    Task<ClassPolicy> GetClassPolicy(string className);
}

/// <summary>One ES256 signing key of the cluster's token key ring.</summary>
[GenerateSerializer]
[Alias("ov.SigningKeyRecord")]
public sealed record SigningKeyRecord(
    [property: Id(0)] string KeyId,
    [property: Id(1)] byte[] Pkcs8PrivateKey,
    [property: Id(2)] long CreatedAt,
    [property: Id(3)] long? RetiredAt);

/// <summary>The cluster-wide secrets gateways share: token signing keys (newest last) and the API secret pepper.</summary>
[GenerateSerializer]
[Alias("ov.KeyRingSnapshot")]
public sealed record KeyRingSnapshot(
    [property: Id(0)] byte[] Pepper,
    [property: Id(1)] IReadOnlyList<SigningKeyRecord> SigningKeys,
    [property: Id(2)] long Version);

/// <summary>The cluster's key ring, created on first use. Key: <see cref="KeyRingKey"/>.</summary>
[Alias("ov.IKeyRingGrain")]
public interface IKeyRingGrain : IGrainWithStringKey
{
    const string KeyRingKey = "cluster";

    [Alias("GetKeyRing")]
    Task<KeyRingSnapshot> GetKeyRing();

    /// <summary>Adds a new signing key (new tokens use it) and retires the previous one; retired keys still verify until <paramref name="retiredKeyLifetime"/> passes.</summary>
    [Alias("RotateSigningKey")]
    Task<KeyRingSnapshot> RotateSigningKey(TimeSpan retiredKeyLifetime);
}

namespace OrleansVault.Projects;

/// <summary>An additional secret of an API key (for rotation without downtime): its id, HMAC and creation time.</summary>
[GenerateSerializer]
[Alias("ov.ApiSecretRecord")]
public sealed record ApiSecretRecord(
    [property: Id(0)] string SecretId,
    [property: Id(1)] byte[] Hash,
    [property: Id(2)] long CreatedAt);

/// <summary>
/// An API key of a project. Secrets are never stored: only their HMAC under the cluster pepper. <see cref="SecretHash"/>
/// is the primary secret (id <see cref="PrimarySecretId"/>); <see cref="ExtraSecrets"/> are further active ones.
/// <see cref="MaxConnections"/> and <see cref="MessagesPerSecond"/> override the node's per-key limits for this key.
/// </summary>
[GenerateSerializer]
[Alias("ov.ApiKeyRecord")]
public sealed record ApiKeyRecord(
    [property: Id(0)] string KeyId,
    [property: Id(1)] byte[] SecretHash,
    [property: Id(2)] IReadOnlyList<string> AllowedOrigins,
    [property: Id(3)] bool Enabled,
    [property: Id(4)] bool AllowNonBrowser,
    [property: Id(5)] long CreatedAt,
    [property: Id(6)] IReadOnlyList<ApiSecretRecord>? ExtraSecrets = null,
    [property: Id(7)] IReadOnlyList<byte[]>? RetiredSecretHashes = null,
    [property: Id(8)] int? MaxConnections = null,
    [property: Id(9)] double? MessagesPerSecond = null)
{
    public const string PrimarySecretId = "primary";

    /// <summary>The most secrets one key may have active at once.</summary>
    public const int MaxSecrets = 5;

    /// <summary>How many removed secrets a key remembers, so configuration cannot quietly bring one back.</summary>
    public const int MaxRetiredSecrets = 20;

    /// <summary>Every active secret's hash, the primary first.</summary>
    public IEnumerable<byte[]> SecretHashes => [SecretHash, .. (ExtraSecrets ?? []).Select(s => s.Hash)];
}

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

/// <summary>How a class verifies who a user is on <c>join</c> and <c>send</c> (WIRE 1.7).</summary>
public enum IdentityMode
{
    /// <summary>No verification (the default).</summary>
    None = 0,

    /// <summary>The payload's <c>userId</c> must come with its hex HMAC-SHA256 under the class secret.</summary>
    UserIdSignature = 1,

    /// <summary>An identity JWT signed with the class's key; payload fields that are also claims must equal them.</summary>
    IdentityToken = 2,
}

/// <summary>
/// A class's identity verification: the HMAC secret (user-id signatures) or the public key, pinned algorithm (ES256 or
/// RS256) and optional issuer/audience of identity tokens.
/// </summary>
[GenerateSerializer]
[Alias("ov.IdentityPolicy")]
public sealed record IdentityPolicy(
    [property: Id(0)] IdentityMode Mode,
    [property: Id(1)] byte[]? Secret,
    [property: Id(2)] byte[]? PublicKey,
    [property: Id(3)] string? Algorithm,
    [property: Id(4)] string? Issuer,
    [property: Id(5)] string? Audience)
{
    public bool Equals(IdentityPolicy? other) =>
        other is not null && Mode == other.Mode && Algorithm == other.Algorithm && Issuer == other.Issuer && Audience == other.Audience
        && (Secret ?? []).AsSpan().SequenceEqual(other.Secret ?? []) && (PublicKey ?? []).AsSpan().SequenceEqual(other.PublicKey ?? []);

    public override int GetHashCode() => HashCode.Combine(Mode, Algorithm, Issuer, Audience);
}

/// <summary>The policy of a class of shared objects; <see cref="Default"/> applies to undeclared classes.</summary>
[GenerateSerializer]
[Alias("ov.ClassPolicy")]
public sealed record ClassPolicy(
    [property: Id(0)] string Name,
    [property: Id(1)] long DefaultTtlMs,
    [property: Id(2)] int MaxValueBytes,
    [property: Id(3)] bool RequireIdSignature = false,
    [property: Id(4)] IReadOnlyList<IdSignatureKey>? IdSignatureKeys = null,
    [property: Id(5)] bool RequireEndToEndEncryption = false,
    [property: Id(6)] IdentityPolicy? Identity = null)
{
    /// <summary>The version used when a request names none: the newest that is not revoked.</summary>
    public IdSignatureKey? CurrentIdSignatureKey =>
        IdSignatureKeys?.Where(k => !k.Revoked).OrderByDescending(k => k.Version).FirstOrDefault();

    public bool Equals(ClassPolicy? other) =>
        other is not null && Name == other.Name && DefaultTtlMs == other.DefaultTtlMs && MaxValueBytes == other.MaxValueBytes
        && RequireIdSignature == other.RequireIdSignature
        && RequireEndToEndEncryption == other.RequireEndToEndEncryption
        && Equals(Identity, other.Identity)
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

    /// <summary>Removes an API key; its tokens, Basic credentials and open sockets stop working.</summary>
    [Alias("RemoveKey")]
    Task<ProjectSnapshot> RemoveKey(string keyId);

    /// <summary>Enables or disables a key; a disabled key's tokens and sockets stop working on every gateway within seconds.</summary>
    [Alias("SetKeyEnabled")]
    Task<ProjectSnapshot> SetKeyEnabled(string keyId, bool enabled);

    /// <summary>Adds a secret to a key (at most <see cref="ApiKeyRecord.MaxSecrets"/>).</summary>
    [Alias("AddSecret")]
    Task<ProjectSnapshot> AddSecret(string keyId, ApiSecretRecord secret);

    /// <summary>
    /// Counts a shared object that is about to store state for the first time; false when the project already holds
    /// <c>Vault:Objects:MaxObjectsPerProject</c> objects (then it must not store anything).
    /// </summary>
    [Alias("RegisterObject")]
    Task<bool> RegisterObject();

    /// <summary>Removes one secret of a key; the last one cannot be removed (disable the key instead).</summary>
    [Alias("RemoveSecret")]
    Task<ProjectSnapshot> RemoveSecret(string keyId, string secretId);
}

/// <summary>One audit record: who did what to which project, from where, and how it ended. Never a secret, token or value.</summary>
[GenerateSerializer]
[Alias("ov.AuditEvent")]
public sealed record AuditEvent(
    [property: Id(0)] long At,
    [property: Id(1)] string ProjectId,
    [property: Id(2)] string? KeyId,
    [property: Id(3)] string Action,
    [property: Id(4)] string Outcome,
    [property: Id(5)] string? RemoteAddress,
    [property: Id(6)] string? Detail);

/// <summary>A project's append-only audit log. Key: the project id.</summary>
[Alias("ov.IAuditGrain")]
public interface IAuditGrain : IGrainWithStringKey
{
    [Alias("Append")]
    Task Append(IReadOnlyList<AuditEvent> events);

    /// <summary>Events at or after <paramref name="since"/> (ms), oldest first, at most <paramref name="limit"/>.</summary>
    [Alias("Query")]
    Task<IReadOnlyList<AuditEvent>> Query(long since, int limit);
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

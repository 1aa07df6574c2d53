namespace OrleansVault.Gateway.Options;

/// <summary>The project (with one API key) declared in configuration, bound from <c>Vault:Bootstrap</c>.</summary>
public sealed class BootstrapOptions
{
    public const string Section = "Vault:Bootstrap";

    public string? ProjectId { get; set; }

    public string? ApiKey { get; set; }

    public string? ApiSecret { get; set; }

    /// <summary>Comma separated origins (<c>https://app.example.com</c>, <c>https://*.example.com</c>); empty allows any.</summary>
    public string? AllowedOrigins { get; set; }

    /// <summary>With an allow-list, also accept requests without <c>Origin</c> (servers, the Node SDK).</summary>
    public bool AllowNonBrowser { get; set; }

    /// <summary>Class policies by class name (<c>Vault:Bootstrap:Classes:{name}:DefaultTtlMs</c>, <c>:MaxValueBytes</c>); other classes use the defaults.</summary>
    public Dictionary<string, ClassOptions> Classes { get; set; } = new(StringComparer.Ordinal);

    public bool IsDeclared => !string.IsNullOrWhiteSpace(ProjectId) || !string.IsNullOrWhiteSpace(ApiKey) || !string.IsNullOrWhiteSpace(ApiSecret);
}

/// <summary>The policy of one declared class.</summary>
public sealed class ClassOptions
{
    /// <summary>The TTL of items written without one, in milliseconds.</summary>
    public long DefaultTtlMs { get; set; } = Projects.ClassPolicy.DefaultTtl;

    /// <summary>The largest value (or message, or presence data) in bytes of JSON.</summary>
    public int MaxValueBytes { get; set; } = Projects.ClassPolicy.DefaultMaxValueBytes;

    /// <summary>Whether every request for an object of this class must carry a signature of its id (Vaultrice SF2).</summary>
    public bool RequireIdSignature { get; set; }

    /// <summary>Whether values, messages and presence data must arrive end-to-end encrypted (with a keyVersion); atomic operations are then refused.</summary>
    public bool RequireEndToEndEncryption { get; set; }

    /// <summary>How <c>join</c> and <c>send</c> prove who the user is: None, UserIdSignature or IdentityToken (WIRE 1.7).</summary>
    public Projects.IdentityMode IdentityMode { get; set; }

    /// <summary>UserIdSignature: the secret the app's backend signs user ids with (HMAC-SHA256 over the UTF-8 text; at least 16 characters).</summary>
    public string? UserIdSecret { get; set; }

    /// <summary>IdentityToken: the public key (PEM) that verifies identity tokens.</summary>
    public string? IdentityPublicKey { get; set; }

    /// <summary>IdentityToken: the one accepted algorithm, ES256 (P-256 key) or RS256 (RSA key of 2048 bits or more).</summary>
    public string? IdentityAlgorithm { get; set; }

    /// <summary>IdentityToken: the required issuer, if any.</summary>
    public string? IdentityIssuer { get; set; }

    /// <summary>IdentityToken: the required audience, if any.</summary>
    public string? IdentityAudience { get; set; }

    /// <summary>The public keys that verify object id signatures, by version (<c>…:IdSignatureKeys:0:Version</c>, <c>:PublicKey</c>, <c>:Revoked</c>).</summary>
    public List<IdSignatureKeyOptions> IdSignatureKeys { get; set; } = [];
}

/// <summary>One object-ID signature key of a class: PEM or base64 DER SubjectPublicKeyInfo of an ECDSA P-256 key.</summary>
public sealed class IdSignatureKeyOptions
{
    public int Version { get; set; }

    public string PublicKey { get; set; } = string.Empty;

    public bool Revoked { get; set; }
}

/// <summary>Token and credential settings, bound from <c>Vault:Auth</c>.</summary>
public sealed class AuthOptions
{
    public const string Section = "Vault:Auth";

    /// <summary>The SDK refuses tokens with under two minutes left, so anything below 150 s is rejected at start-up.</summary>
    public static readonly TimeSpan MinimumTokenLifetime = TimeSpan.FromSeconds(150);

    public TimeSpan TokenLifetime { get; set; } = TimeSpan.FromHours(1);

    public string Issuer { get; set; } = "orleansvault";

    public TimeSpan ClockSkew { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a gateway reuses a project's configuration before asking its grain again.</summary>
    public TimeSpan ProjectCacheTtl { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How often a gateway reloads the cluster key ring (to pick up rotated signing keys).</summary>
    public TimeSpan KeyRingRefresh { get; set; } = TimeSpan.FromMinutes(1);
}

/// <summary>Size, rate and connection limits, bound from <c>Vault:Limits</c>.</summary>
public sealed class LimitOptions
{
    public const string Section = "Vault:Limits";

    public int MaxBodyBytes { get; set; } = 1024 * 1024;

    public int MaxFrameBytes { get; set; } = 256 * 1024;

    /// <summary>How many frames a slow socket may have queued before it is closed.</summary>
    public int MaxQueuedFrames { get; set; } = 10_000;

    public int MaxItemsPerRequest { get; set; } = 1000;

    /// <summary>Frames (messages, presence, resume) a socket may send per second, sustained; pings are not counted.</summary>
    public double MessagesPerSecond { get; set; } = 100;

    /// <summary>How many frames a socket may send at once above its sustained rate.</summary>
    public double MessageBurst { get; set; } = 200;

    /// <summary>Sockets one API key may hold on one gateway.</summary>
    public int MaxConnectionsPerKey { get; set; } = 50_000;

    /// <summary>Sockets one client address may hold on one gateway (room for 19,000 from one load-test address).</summary>
    public int MaxConnectionsPerAddress { get; set; } = 25_000;

    /// <summary>HTTP requests per second from one client address, sustained; 0 turns the limit off.</summary>
    public double RequestsPerSecondPerAddress { get; set; } = 5_000;

    /// <summary>HTTP requests one client address may send at once above its sustained rate.</summary>
    public int RequestBurstPerAddress { get; set; } = 10_000;
}

/// <summary>Socket settings, bound from <c>Vault:WebSockets</c>.</summary>
public sealed class SocketOptions
{
    public const string Section = "Vault:WebSockets";

    /// <summary>How often the server pings each socket at the protocol level.</summary>
    public TimeSpan KeepAliveInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a ping may go unanswered before the socket counts as dead and is dropped (its presence leaves).</summary>
    public TimeSpan KeepAliveTimeout { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>How long a close handshake may take before the socket is dropped.</summary>
    public TimeSpan CloseTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How often this gateway renews its feeds' subscriptions; keep it well under the objects' <c>Vault:Objects:FeedLease</c>.</summary>
    public TimeSpan FeedRenewInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The longest one feed renewal call may take before it is given up until the next round.</summary>
    public TimeSpan FeedRenewTimeout { get; set; } = TimeSpan.FromSeconds(10);
}

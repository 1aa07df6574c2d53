namespace OrleansVault.Gateway.Diagnostics;

/// <summary>The gateway's log messages with stable event ids. None of them carries a secret, token or stored value.</summary>
public static partial class GatewayLog
{
    [LoggerMessage(EventId = 3001, Level = LogLevel.Error, Message = "Unhandled error while serving a request")]
    public static partial void UnhandledError(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 3002, Level = LogLevel.Warning, Message = "The cluster did not answer a request ({ErrorType})")]
    public static partial void ClusterUnavailable(ILogger logger, string errorType);

    [LoggerMessage(EventId = 3010, Level = LogLevel.Warning, Message = "DEVELOPMENT ONLY: generated project {ProjectId} with API key {KeyId}; its secret is in {CredentialsFile} (readable by this user only). Declare Vault:Bootstrap:* for anything else.")]
    public static partial void DevelopmentProjectCreated(ILogger logger, string projectId, string keyId, string credentialsFile);

    [LoggerMessage(EventId = 3011, Level = LogLevel.Warning, Message = "DEVELOPMENT ONLY: using project {ProjectId} with API key {KeyId} from {CredentialsFile}.")]
    public static partial void DevelopmentProjectLoaded(ILogger logger, string projectId, string keyId, string credentialsFile);

    [LoggerMessage(EventId = 3012, Level = LogLevel.Information, Message = "Bootstrap project {ProjectId} has API key {KeyId}")]
    public static partial void BootstrapProjectReady(ILogger logger, string projectId, string keyId);

    [LoggerMessage(EventId = 3013, Level = LogLevel.Information, Message = "Gateway ready after warm-up in {ElapsedMs} ms")]
    public static partial void Ready(ILogger logger, long elapsedMs);

    [LoggerMessage(EventId = 3020, Level = LogLevel.Debug, Message = "Socket {ConnectionId} opened on {ObjectKey}")]
    public static partial void SocketOpened(ILogger logger, string connectionId, string objectKey);

    [LoggerMessage(EventId = 3021, Level = LogLevel.Debug, Message = "Socket {ConnectionId} closed")]
    public static partial void SocketClosed(ILogger logger, string connectionId);

    [LoggerMessage(EventId = 3022, Level = LogLevel.Warning, Message = "Socket {ConnectionId} failed: {ErrorType}")]
    public static partial void SocketFailed(ILogger logger, string connectionId, string errorType);

    [LoggerMessage(EventId = 3023, Level = LogLevel.Warning, Message = "Socket {ConnectionId} was closed because its send queue is full")]
    public static partial void SocketTooSlow(ILogger logger, string connectionId);

    [LoggerMessage(EventId = 3024, Level = LogLevel.Warning, Message = "A socket of key {KeyId} in project {ProjectId} was closed: over a connection limit")]
    public static partial void ConnectionLimit(ILogger logger, string projectId, string keyId);

    [LoggerMessage(EventId = 3025, Level = LogLevel.Warning, Message = "Socket {ConnectionId} was closed: over its frame rate")]
    public static partial void MessageRateLimit(ILogger logger, string connectionId);

    [LoggerMessage(EventId = 3026, Level = LogLevel.Information, Message = "Socket {ConnectionId} was closed: its API key was disabled")]
    public static partial void SocketKeyDisabled(ILogger logger, string connectionId);

    [LoggerMessage(EventId = 3603, Level = LogLevel.Error, Message = "Bootstrap: the configured secret of key {KeyId} in project {ProjectId} was retired through the admin API; it stays retired. Put an active secret into Vault:Bootstrap:ApiSecret.")]
    public static partial void BootstrapSecretRetired(ILogger logger, string projectId, string keyId);

    [LoggerMessage(EventId = 3601, Level = LogLevel.Warning, Message = "Audit: {Count} events were dropped because too many were waiting to be written")]
    public static partial void AuditDropped(ILogger logger, long count);

    [LoggerMessage(EventId = 3602, Level = LogLevel.Error, Message = "Audit: writing {Count} events of project {ProjectId} failed: {ErrorType}")]
    public static partial void AuditWriteFailed(ILogger logger, string projectId, int count, string errorType);

    [LoggerMessage(EventId = 3030, Level = LogLevel.Warning, Message = "Feed for {ObjectKey} failed: {ErrorType}")]
    public static partial void FeedFailed(ILogger logger, string objectKey, string errorType);

    [LoggerMessage(EventId = 3031, Level = LogLevel.Information, Message = "Feed for {ObjectKey} saw a sequence gap ({Expected} expected, {Received} received); recovering from history")]
    public static partial void FeedGap(ILogger logger, string objectKey, long expected, long received);

    // The native door (3750-3759).
    [LoggerMessage(EventId = 3751, Level = LogLevel.Debug, Message = "Hub connection {ConnectionId} opened for key {KeyId} in project {ProjectId}")]
    public static partial void HubConnected(ILogger logger, string connectionId, string projectId, string keyId);

    [LoggerMessage(EventId = 3752, Level = LogLevel.Information, Message = "Hub connection {ConnectionId} dropped: {Code}")]
    public static partial void HubDisconnected(ILogger logger, string connectionId, string code);

    // The demo (3700-3709).
    [LoggerMessage(EventId = 3700, Level = LogLevel.Information, Message = "Demo (Vault:Demo:Enabled, development only): open {Url}")]
    public static partial void DemoUrl(ILogger logger, string url);

    [LoggerMessage(EventId = 3701, Level = LogLevel.Warning, Message = "Demo: the Vaultrice SDK bundle is missing at {Path}; the page will say so. Build with npm installed (the build runs npm ci in src/Gateway/Demo) or run npm ci there.")]
    public static partial void SdkMissing(ILogger logger, string path);

    [LoggerMessage(EventId = 3702, Level = LogLevel.Warning, Message = "Demo: its page files are missing at {Path}")]
    public static partial void SiteMissing(ILogger logger, string path);

    [LoggerMessage(EventId = 3800, Level = LogLevel.Warning, Message = "Direct routing: could not read the active silos ({ErrorType}); the routes stay as they were")]
    public static partial void RoutingFailed(ILogger logger, string errorType);

    [LoggerMessage(EventId = 3801, Level = LogLevel.Information, Message = "Direct routing: connected to silo {Silo}")]
    public static partial void RouteOpened(ILogger logger, string silo);

    [LoggerMessage(EventId = 3802, Level = LogLevel.Information, Message = "Direct routing: silo {Silo} did not answer ({ErrorType}); its objects go through the main client for now")]
    public static partial void RouteUnavailable(ILogger logger, string silo, string errorType);

    [LoggerMessage(EventId = 3803, Level = LogLevel.Warning, Message = "Direct routing: lost the connection to silo {Silo}; its objects go through the main client")]
    public static partial void RouteLost(ILogger logger, string silo);
}

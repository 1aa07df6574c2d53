namespace OrleansVault.Gateway.Demo;

/// <summary>The demo's log messages (event ids 3700-3709, beside <c>GatewayLog</c>'s). None carries a token.</summary>
internal static partial class DemoLog
{
    [LoggerMessage(EventId = 3700, Level = LogLevel.Information, Message = "Demo (Vault:Demo:Enabled, development only): open {Url}")]
    public static partial void DemoUrl(ILogger logger, string url);

    [LoggerMessage(EventId = 3701, Level = LogLevel.Warning, Message = "Demo: the Vaultrice SDK bundle is missing at {Path}; the page will say so. Build with npm installed (the build runs npm ci in src/Gateway/Demo) or run npm ci there.")]
    public static partial void SdkMissing(ILogger logger, string path);

    [LoggerMessage(EventId = 3702, Level = LogLevel.Warning, Message = "Demo: its page files are missing at {Path}")]
    public static partial void SiteMissing(ILogger logger, string path);
}

namespace OrleansVault.Gateway.Demo;

/// <summary>The browser demo at <c>/demo/</c> (<c>Vault:Demo</c>): off unless configured, on in Development.</summary>
public sealed class DemoOptions
{
    public const string Section = "Vault:Demo";

    /// <summary>
    /// Serves the demo page and its token endpoint. The endpoint hands a token of the bootstrap project's key to any
    /// page served from this gateway, so it is meant for a developer's machine only.
    /// </summary>
    public bool Enabled { get; set; }
}

using System.Net;

namespace OrleansVault.Gateway.Transport;

/// <summary>Whether the gateway may listen without TLS, bound from <c>Vault:Transport</c>.</summary>
public sealed class TransportOptions
{
    public const string Section = "Vault:Transport";

    /// <summary>
    /// Allows plain HTTP/WS on addresses other than loopback: for a gateway behind a TLS-terminating proxy on a private
    /// network. Off by default, so credentials never cross a network in the clear by accident.
    /// </summary>
    public bool AllowPlaintext { get; set; }
}

/// <summary>DESIGN §4.1: HTTPS/WSS when given a certificate; plaintext only on loopback unless explicitly allowed.</summary>
public static class TransportPolicy
{
    /// <summary>The configured listen URLs (<c>urls</c>/<c>ASPNETCORE_URLS</c> and <c>Kestrel:Endpoints:*:Url</c>) that are plain HTTP on a non-loopback address.</summary>
    public static IReadOnlyList<string> PlaintextBeyondLoopback(IConfiguration configuration)
    {
        var urls = (configuration["urls"] ?? configuration["ASPNETCORE_URLS"] ?? string.Empty)
            .Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Concat(configuration.GetSection("Kestrel:Endpoints").GetChildren().Select(e => e["Url"]).OfType<string>());
        return [.. urls.Where(IsPlaintextBeyondLoopback)];
    }

    public static bool IsPlaintextBeyondLoopback(string url)
    {
        if (!url.StartsWith("http://", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        var rest = url["http://".Length..];
        var host = rest.StartsWith('[') ? rest[1..rest.IndexOf(']', StringComparison.Ordinal)] : rest.Split(':', '/')[0];
        if (string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        // "*", "+", "0.0.0.0" and names listen on (or may resolve to) every interface.
        return !IPAddress.TryParse(host, out var address) || !IPAddress.IsLoopback(address);
    }
}

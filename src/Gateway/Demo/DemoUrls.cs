namespace OrleansVault.Gateway.Demo;

/// <summary>Turns a listening address into the demo URL a developer can open.</summary>
public static class DemoUrls
{
    public const string PagePath = "/demo/";

    /// <summary>
    /// <c>http://0.0.0.0:5000</c>, <c>http://[::]:5000</c>, <c>http://+:5000</c> and <c>http://*:5000</c> listen on
    /// every interface but cannot be opened as written; a browser on this machine reaches them as localhost.
    /// </summary>
    public static string ForAddress(string address)
    {
        var trimmed = address.TrimEnd('/');
        var schemeEnd = trimmed.IndexOf("://", StringComparison.Ordinal);
        if (schemeEnd < 0)
        {
            return trimmed + PagePath;
        }

        var hostStart = schemeEnd + 3;
        var portStart = trimmed.LastIndexOf(':');
        var host = portStart > hostStart ? trimmed[hostStart..portStart] : trimmed[hostStart..];
        if (host is "0.0.0.0" or "[::]" or "+" or "*")
        {
            trimmed = string.Concat(trimmed.AsSpan(0, hostStart), "localhost", portStart > hostStart ? trimmed.AsSpan(portStart) : []);
        }

        return trimmed + PagePath;
    }
}

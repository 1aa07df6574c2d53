using OrleansVault.Gateway.Diagnostics;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Options;
using OrleansVault.Errors;

namespace OrleansVault.Gateway.Demo;

/// <summary>Registers the collaborative to-do demo at <c>/demo/</c> when <c>Vault:Demo:Enabled</c> is true.</summary>
public static class DemoHostingExtensions
{
    public const string SdkPath = "/demo/vendor/vaultrice-sdk.js";

    // The page renders user text with textContent only; this policy is the second line: no inline or foreign script,
    // no plugin, no framing, and connections (fetch, WebSocket) only to this gateway.
    private const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
        + "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    public static WebApplicationBuilder AddVaultDemo(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<DemoOptions>().Bind(builder.Configuration.GetSection(DemoOptions.Section));
        return builder;
    }

    /// <summary>Maps the demo (a no-op when it is disabled: then <c>/</c>, <c>/demo/…</c> and the token endpoint are 404s).</summary>
    public static WebApplication MapVaultDemo(this WebApplication app)
    {
        if (!app.Services.GetRequiredService<IOptions<DemoOptions>>().Value.Enabled)
        {
            return app;
        }

        var files = DemoFiles.In(app.Environment.ContentRootPath);
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(DemoHostingExtensions));
        if (!Directory.Exists(files.SiteDirectory))
        {
            GatewayLog.SiteMissing(logger, files.SiteDirectory);
            return app;
        }

        if (!File.Exists(files.SdkBundle))
        {
            GatewayLog.SdkMissing(logger, files.SdkBundle);
        }

        app.MapGet("/", (HttpRequest request) => Results.Redirect(DemoUrls.PagePath + request.QueryString));
        app.MapPost(DemoTokenEndpoint.Path, DemoTokenEndpoint.HandleAsync);
        app.MapGet(SdkPath, (HttpContext context) => ServeSdk(context, files));
        app.UseFileServer(new FileServerOptions
        {
            FileProvider = new PhysicalFileProvider(files.SiteDirectory),
            RequestPath = "/demo",
            EnableDefaultFiles = true,
            StaticFileOptions = { OnPrepareResponse = file => AddPageHeaders(file.Context) },
        });

        app.Lifetime.ApplicationStarted.Register(() =>
        {
            // The bound addresses (a port of 0 resolved); an in-memory test server has none.
            var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
            foreach (var address in addresses)
            {
                GatewayLog.DemoUrl(logger, DemoUrls.ForAddress(address));
            }
        });
        return app;
    }

    /// <summary>The browser build of the pinned <c>@vaultrice/sdk</c>, from the npm package installed beside the page.</summary>
    private static IResult ServeSdk(HttpContext context, DemoFiles files)
    {
        if (!File.Exists(files.SdkBundle))
        {
            throw new VaultException(VaultErrorKind.NotFound, ErrorCodes.DemoSdkMissing,
                "The SDK bundle of the demo is missing: build the gateway with npm installed, or run npm ci in src/Gateway/Demo.");
        }

        AddPageHeaders(context);
        return TypedResults.PhysicalFile(files.SdkBundle, "text/javascript; charset=utf-8");
    }

    private static void AddPageHeaders(HttpContext context)
    {
        var headers = context.Response.Headers;

        // The page is edited in place during development: always revalidate.
        headers.CacheControl = "no-cache";
        headers.ContentSecurityPolicy = ContentSecurityPolicy;
        headers.XContentTypeOptions = "nosniff";
        headers["Referrer-Policy"] = "no-referrer";
    }
}

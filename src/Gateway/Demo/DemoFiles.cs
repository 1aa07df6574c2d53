namespace OrleansVault.Gateway.Demo;

/// <summary>Where the demo's files live: its page under <c>Demo/site</c>, the SDK bundle in <c>Demo/node_modules</c>.</summary>
/// <remarks>
/// Both are read from the content root, so <c>dotnet run --project src/Gateway</c> serves the files of the source tree
/// (an edited page shows on reload) and a published gateway serves the copies the publish step placed beside it.
/// </remarks>
public sealed record DemoFiles(string SiteDirectory, string SdkBundle)
{
    /// <summary>The pinned npm package's browser build (its UMD file defines <c>window.Vaultrice</c>).</summary>
    public const string SdkBundleInPackage = "node_modules/@vaultrice/sdk/dist/umd/index.js";

    public static DemoFiles In(string contentRoot)
    {
        var demo = Path.Combine(contentRoot, "Demo");
        return new DemoFiles(Path.Combine(demo, "site"), Path.Combine(demo, SdkBundleInPackage));
    }
}

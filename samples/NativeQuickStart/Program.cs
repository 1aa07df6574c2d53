// The native door in a few lines: run the gateway (`dotnet run --project src/Gateway`), then
// `dotnet run --project samples/NativeQuickStart -- src/Gateway/data/dev-credentials.json [http://localhost:5000]`.
using System.Text.Json;
using OrleansVault.Client;

if (args.Length < 1)
{
    Console.Error.WriteLine("usage: NativeQuickStart <dev-credentials.json> [base url]");
    return 2;
}

using var credentials = JsonDocument.Parse(File.ReadAllText(args[0]));
var options = new VaultClientOptions
{
    BaseUrl = new Uri(args.Length > 1 ? args[1] : "http://localhost:5000"),
    ProjectId = credentials.RootElement.GetProperty("projectId").GetString()!,

    // A trusted backend may hold the key; browsers and apps get tokens from your backend (AccessTokenProvider).
    ApiKey = credentials.RootElement.GetProperty("apiKey").GetString(),
    ApiSecret = credentials.RootElement.GetProperty("apiSecret").GetString(),
};

await using var alice = await VaultClient.ConnectAsync(options);
await using var bob = await VaultClient.ConnectAsync(options);
var aliceBoard = await alice.OpenAsync("boards", "quick-start");
var bobBoard = await bob.OpenAsync("boards", "quick-start");

var seen = new TaskCompletionSource<string>();
bobBoard.ItemChanged += (_, e) => seen.TrySetResult($"{e.Key} = {e.ValueJson} (event #{e.Sequence})");
bobBoard.PresenceChanged += (_, e) => Console.WriteLine($"bob sees {e.Kind} of {e.ConnectionId}");

await aliceBoard.JoinAsync(new { name = "Alice" });
await aliceBoard.SetAsync("title", "Sprint 12", new SetOptions { Ttl = TimeSpan.FromMinutes(10) });
Console.WriteLine("bob saw " + await seen.Task.WaitAsync(TimeSpan.FromSeconds(10)));

var visits = await aliceBoard.IncrementAsync("visits");
Console.WriteLine($"visits: {visits.Value}");
foreach (var member in await bobBoard.GetMembersAsync())
{
    Console.WriteLine($"present: {member.ConnectionId} {member.DataJson}");
}

return 0;

using System.Security.Cryptography;
using BenchmarkDotNet.Attributes;
using OrleansVault.Gateway.Auth;
using OrleansVault.Gateway.Vaultrice;
using OrleansVault.Grains.Objects;
using OrleansVault.Hosting.Encryption;
using OrleansVault.Objects;

namespace OrleansVault.Benchmarks;

/// <summary>
/// What every event or request pays on its way through the gateway and the grain: rendering a socket frame
/// (once per event per gateway), an atomic operation, hashing an API secret (every Basic request), sealing a stored
/// state (every storage write) with a fresh AES-GCM context or one from the key's pool.
/// </summary>
[MemoryDiagnoser]
public class HotPathBenchmarks
{
    private readonly ObjectEvent _setItem = new(42, ObjectEventKind.SetItem, "score",
        new ItemView("{\"player\":\"ada\",\"points\":1234,\"tags\":[\"a\",\"b\"]}", 1, 2, 3, null), null, null, null, 0, null);

    private readonly ObjectEvent _message = new(43, ObjectEventKind.Message, null, null, "{\"text\":\"hello there\"}", null, null, 0, "c1");

    private readonly byte[] _pepper = RandomNumberGenerator.GetBytes(32);
    private readonly string _list = "[" + string.Join(',', Enumerable.Range(0, 100)) + "]";
    private readonly byte[] _dataKey = RandomNumberGenerator.GetBytes(32);
    private readonly byte[] _state = RandomNumberGenerator.GetBytes(300);
    private readonly byte[] _sealed = new byte[300 + 16];
    private readonly byte[] _associated = System.Text.Encoding.UTF8.GetBytes("xxxxxov/state/object/sharedobject/project/class/object-id");
    private CipherPool? _ciphers;

    [Benchmark]
    public byte[] SealWithFreshContext()
    {
        using var aes = new AesGcm(_dataKey, 16);
        return Seal(aes);
    }

    [Benchmark]
    public byte[] SealWithPooledContext()
    {
        _ciphers ??= new CipherPool(_dataKey, 16);
        var aes = _ciphers.Rent();
        var result = Seal(aes);
        _ciphers.Return(aes);
        return result;
    }

    private byte[] Seal(AesGcm aes)
    {
        Span<byte> nonce = stackalloc byte[12];
        RandomNumberGenerator.Fill(nonce);
        aes.Encrypt(nonce, _state, _sealed.AsSpan(0, 300), _sealed.AsSpan(300), _associated);
        return _sealed;
    }

    [Benchmark]
    public byte[] SetItemFrame() => VaultriceJson.EventFrame(_setItem);

    [Benchmark]
    public byte[] MessageFrame() => VaultriceJson.EventFrame(_message);

    [Benchmark]
    public string Increment() => AtomicOperations.Apply(AtomicOperation.Increment, "41", "{\"value\":1}");

    [Benchmark]
    public string SpliceHundred() => AtomicOperations.Apply(AtomicOperation.Splice, _list, "{\"startIndex\":-10,\"deleteCount\":5,\"items\":[1,2,3]}");

    [Benchmark]
    public byte[] HashApiSecret() => SecretHasher.Hash(_pepper, "a-high-entropy-api-secret-of-43-characters");
}

using System.Text.Json;
using OrleansVault.Errors;
using OrleansVault.Gateway.Auth;
using OrleansVault.Gateway.WebSockets;
using OrleansVault.Grains.Objects;
using OrleansVault.Objects;
using OrleansVault.Protocol;

namespace OrleansVault.Gateway.Native;

/// <summary>The native door's messages, presence and end-to-end encryption settings on an open object.</summary>
public sealed partial class VaultHub
{
    /// <summary>Sends a message to everyone on the object but this connection.</summary>
    public async Task SendMessage(string handle, string payloadJson, int? keyVersion, UserProof? proof)
    {
        var session = Session(handle);
        ParseJson(payloadJson, "PayloadJson").Dispose();
        EnsureKeyVersion(keyVersion);
        await VerifyIdentityAsync(session, payloadJson, proof);
        await session.Grain.SendMessage(new MessageCommand(payloadJson, keyVersion, session.ConnectionId));
    }

    public async Task Join(string handle, string dataJson, int? keyVersion, UserProof? proof)
    {
        var session = Session(handle);
        ParseJson(dataJson, "DataJson").Dispose();
        EnsureKeyVersion(keyVersion);
        var userId = await VerifyIdentityAsync(session, dataJson, proof);
        await session.Grain.Join(session.ConnectionId, dataJson, keyVersion, userId);
        session.Joined(new JoinedPresence(dataJson, keyVersion, userId));
        if (session.IsClosed)
        {
            // Closed (or its connection ended) while the join was in flight: its close may have left presence before
            // this join arrived, so leave again rather than keep an entry nobody will remove.
            session.Joined(null);
            await session.Grain.Leave(session.ConnectionId);
            throw VaultException.Validation(ErrorCodes.ObjectNotOpen, "The object was closed while joining its presence.");
        }
    }

    public async Task Leave(string handle)
    {
        var session = Session(handle);

        // Forgotten first: a feed restore in between must not join it again.
        session.Joined(null);
        await session.Grain.Leave(session.ConnectionId);
    }

    public async Task<MemberData[]> GetMembers(string handle) =>
        [.. (await Session(handle).Grain.GetPresence()).Select(NativeMapping.ToMember)];

    /// <summary>The object's end-to-end encryption settings (created with a random salt on first use).</summary>
    public async Task<EncryptionData> GetEncryption(string handle, int? saltLength) =>
        NativeMapping.ToEncryption(await Session(handle).Grain.GetEncryptionSettings(saltLength ?? 16));

    public async Task<EncryptionData> RotateEncryption(string handle, int? saltLength) =>
        NativeMapping.ToEncryption(await Session(handle).Grain.RotateEncryption(saltLength ?? 16));

    private async Task<string?> VerifyIdentityAsync(NativeObjectSession session, string payloadJson, UserProof? proof) =>
        await IdentityVerifier.VerifyAsync(
            await auth.ClassPolicyAsync(session.Address),
            payloadJson,
            proof is null ? null : new IdentityProof(proof.IdentityToken, proof.UserIdSignature));

    private static void EnsureKeyVersion(int? keyVersion)
    {
        if (keyVersion is < 0)
        {
            throw VaultException.Validation(ErrorCodes.KeyVersionInvalid, "KeyVersion must be a non-negative integer.");
        }
    }
}

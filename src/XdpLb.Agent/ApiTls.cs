using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Server.Kestrel.Https;

namespace XdpLb.Agent;

/// <summary>
/// The TCP API's mutual TLS: the server certificate and key (--api-cert, --api-key) and the CAs
/// a client certificate must chain to (--api-client-ca). Everything is read and checked when
/// the flags are parsed, so a bad file is a usage error before the dataplane is touched.
/// </summary>
internal sealed class ApiTls
{
    /// <summary>id-kp-clientAuth: a client certificate that lists its uses must allow this one.</summary>
    private static readonly Oid ClientAuthentication = new("1.3.6.1.5.5.7.3.2");

    private readonly X509Certificate2 certificate;
    private readonly X509Certificate2Collection chain;
    private readonly X509Certificate2Collection clientCas;

    private ApiTls(X509Certificate2 certificate, X509Certificate2Collection chain, X509Certificate2Collection clientCas)
    {
        this.certificate = certificate;
        this.chain = chain;
        this.clientCas = clientCas;
    }

    public static ApiTls Load(string certFile, string keyFile, string clientCaFile)
    {
        var certificates = ReadCertificates("--api-cert", certFile);
        string keyPem = Read("--api-key", keyFile);
        string? label = PrivateKeyLabel(keyPem);
        if (label is null)
            throw new UsageException($"--api-key {keyFile} holds no PEM private key (-----BEGIN PRIVATE KEY-----, RSA PRIVATE KEY or EC PRIVATE KEY)");
        if (label == "ENCRYPTED PRIVATE KEY")
            throw new UsageException($"--api-key {keyFile} is encrypted: the agent needs the key unencrypted (readable by root only)");
        X509Certificate2 withKey;
        try
        {
            withKey = X509Certificate2.CreateFromPem(certificates[0].ExportCertificatePem(), keyPem);
        }
        catch (ArgumentException)
        {
            throw new UsageException($"--api-key {keyFile} does not match the certificate in --api-cert {certFile} ({certificates[0].Subject})");
        }
        catch (CryptographicException e)
        {
            throw new UsageException($"--api-key {keyFile}: no key for the certificate in --api-cert {certFile} ({certificates[0].Subject}) " +
                $"can be read from it (a key of another algorithm, or malformed): {e.Message}");
        }
        var clientCas = ReadCertificates("--api-client-ca", clientCaFile);
        return new ApiTls(withKey, new X509Certificate2Collection(certificates.Skip(1).ToArray()), clientCas);
    }

    /// <summary>Kestrel's TLS for the listener: a client without a certificate that chains to --api-client-ca fails the handshake.</summary>
    public HttpsConnectionAdapterOptions ConnectionOptions() => new()
    {
        ServerCertificate = certificate,
        ServerCertificateChain = chain.Count > 0 ? chain : null,
        ClientCertificateMode = ClientCertificateMode.RequireCertificate,
        // The trust decision is TrustsClient's alone; revocation would mean fetching CRLs from the node.
        CheckCertificateRevocation = false,
        ClientCertificateValidation = (client, presented, _) => TrustsClient(client, presented),
    };

    /// <summary>
    /// Whether the client's certificate chains to one of the --api-client-ca certificates,
    /// which are the trust anchors (the system's roots are not consulted), and is valid now
    /// for client authentication. Intermediates the client presented help build the chain.
    /// </summary>
    private bool TrustsClient(X509Certificate2 client, X509Chain? presented)
    {
        using var verified = new X509Chain();
        verified.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        verified.ChainPolicy.CustomTrustStore.AddRange(clientCas);
        verified.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        verified.ChainPolicy.ApplicationPolicy.Add(ClientAuthentication);
        if (presented is not null)
        {
            foreach (var element in presented.ChainElements.Skip(1))
                verified.ChainPolicy.ExtraStore.Add(element.Certificate);
        }
        return verified.Build(client);
    }

    private static string Read(string flag, string file)
    {
        try
        {
            return File.ReadAllText(file);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UsageException($"{flag} {file}: cannot read it: {e.Message}");
        }
    }

    private static X509Certificate2Collection ReadCertificates(string flag, string file)
    {
        string pem = Read(flag, file);
        var certificates = new X509Certificate2Collection();
        try
        {
            certificates.ImportFromPem(pem);
        }
        catch (CryptographicException e)
        {
            throw new UsageException($"{flag} {file}: a certificate in it cannot be parsed: {e.Message}");
        }
        if (certificates.Count == 0)
            throw new UsageException($"{flag} {file} holds no PEM certificate (-----BEGIN CERTIFICATE-----)");
        return certificates;
    }

    /// <summary>The label of the first PEM private key in the text, or null.</summary>
    private static string? PrivateKeyLabel(string pem)
    {
        var rest = pem.AsSpan();
        while (PemEncoding.TryFind(rest, out var fields))
        {
            var label = rest[fields.Label].ToString();
            if (label.EndsWith("PRIVATE KEY", StringComparison.Ordinal))
                return label;
            rest = rest[fields.Location.End..];
        }
        return null;
    }
}

using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace XdpLb.Integration.Tests;

/// <summary>Certificates made for one test: CAs, and server and client certificates they sign, written out as PEM.</summary>
internal static class TestCertificates
{
    private static readonly Oid ServerAuthentication = new("1.3.6.1.5.5.7.3.1");
    private static readonly Oid ClientAuthentication = new("1.3.6.1.5.5.7.3.2");

    public static X509Certificate2 CreateCa(string name)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
    }

    /// <summary>A server certificate for an IP address, signed by the CA.</summary>
    public static X509Certificate2 IssueServer(X509Certificate2 ca, IPAddress address)
    {
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(address);
        return Issue(ca, $"CN={address}", ServerAuthentication, san.Build());
    }

    public static X509Certificate2 IssueClient(X509Certificate2 ca, string controller) =>
        Issue(ca, $"CN={controller}", ClientAuthentication, extra: null);

    private static X509Certificate2 Issue(X509Certificate2 ca, string subject, Oid usage, X509Extension? extra)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([usage], false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(ca, true, false));
        if (extra is not null)
            request.CertificateExtensions.Add(extra);
        using var signed = request.Create(ca, DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddHours(12), RandomNumberGenerator.GetBytes(16));
        return signed.CopyWithPrivateKey(key);
    }

    /// <summary>Writes NAME.crt and, for a certificate with its key, NAME.key; returns the certificate file.</summary>
    public static string WritePem(string directory, string name, X509Certificate2 certificate)
    {
        string certFile = Path.Combine(directory, name + ".crt");
        File.WriteAllText(certFile, certificate.ExportCertificatePem());
        using var key = certificate.GetECDsaPrivateKey();
        if (key is not null)
            File.WriteAllText(Path.Combine(directory, name + ".key"), key.ExportPkcs8PrivateKeyPem());
        return certFile;
    }
}

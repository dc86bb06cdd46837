//! `warden serve --tls-cert/--tls-key`: TLS 1.3 only, optionally with client
//! certificates; a TLS 1.2 client is refused.

mod common;

use common::scratch;
use common::server::Server;
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, ExtendedKeyUsagePurpose, IsCa, KeyPair,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::{ClientConfig, RootCertStore, SupportedProtocolVersion};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::sync::Arc;

/// A CA, a server certificate for `localhost` and a client certificate, as PEM files in `dir`.
struct Pki {
    ca: CertificateDer<'static>,
    client: (CertificateDer<'static>, PrivateKeyDer<'static>),
}

fn pki(dir: &Path) -> Pki {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap();
    let server_key = KeyPair::generate().unwrap();
    let server = CertificateParams::new(vec!["localhost".to_string()])
        .unwrap()
        .signed_by(&server_key, &ca)
        .unwrap();
    let client_key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(vec!["gateway.acme.example".to_string()]).unwrap();
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    let client = params.signed_by(&client_key, &ca).unwrap();
    std::fs::write(dir.join("ca.pem"), ca.pem()).unwrap();
    std::fs::write(dir.join("server.pem"), server.pem()).unwrap();
    std::fs::write(dir.join("server.key"), server_key.serialize_pem()).unwrap();
    Pki {
        ca: ca.der().clone(),
        client: (
            client.der().clone(),
            PrivateKeyDer::try_from(client_key.serialize_der()).unwrap(),
        ),
    }
}

/// `GET /health` over TLS with the given protocol versions; the response or why it failed.
fn get_health(
    url: &str,
    pki: &Pki,
    versions: &[&'static SupportedProtocolVersion],
    with_client_cert: bool,
) -> Result<String, String> {
    let mut roots = RootCertStore::empty();
    roots.add(pki.ca.clone()).unwrap();
    let builder =
        ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_protocol_versions(versions)
            .unwrap()
            .with_root_certificates(roots);
    let config = if with_client_cert {
        let (cert, key) = (pki.client.0.clone(), pki.client.1.clone_key());
        builder.with_client_auth_cert(vec![cert], key).unwrap()
    } else {
        builder.with_no_client_auth()
    };
    let mut conn =
        rustls::ClientConnection::new(Arc::new(config), ServerName::try_from("localhost").unwrap())
            .unwrap();
    let addr = url.trim_start_matches("https://");
    let mut socket = TcpStream::connect(addr).map_err(|e| e.to_string())?;
    let mut tls = rustls::Stream::new(&mut conn, &mut socket);
    tls.write_all(b"GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .map_err(|e| e.to_string())?;
    let mut answer = String::new();
    match tls.read_to_string(&mut answer) {
        Ok(_) => Ok(answer),
        // A close without notify after a full answer is still an answer.
        Err(_) if answer.contains("200 OK") => Ok(answer),
        Err(e) => Err(e.to_string()),
    }
}

fn serve(dir: &Path, client_ca: bool) -> Server {
    let (cert, key, ca) = (
        dir.join("server.pem"),
        dir.join("server.key"),
        dir.join("ca.pem"),
    );
    let mut args = vec![
        "--grpc-addr".to_string(),
        "127.0.0.1:0".into(),
        "--policy".into(),
        "stdlib-policies".into(),
        "--tls-cert".into(),
        cert.display().to_string(),
        "--tls-key".into(),
        key.display().to_string(),
    ];
    if client_ca {
        args.extend(["--tls-client-ca".to_string(), ca.display().to_string()]);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    Server::start(&args)
}

#[test]
fn tls_1_3_is_served_and_tls_1_2_refused() {
    let dir = scratch("tls");
    let pki = pki(&dir);
    let server = serve(&dir, false);
    assert!(server.url.starts_with("https://"), "{}", server.url);
    let answer = get_health(&server.url, &pki, &[&rustls::version::TLS13], false)
        .expect("a TLS 1.3 client is served");
    assert!(answer.starts_with("HTTP/1.1 200 OK"), "{answer}");
    for url in [
        server.url.clone(),
        format!("https://{}", server.grpc.clone().unwrap()),
    ] {
        let refused = get_health(&url, &pki, &[&rustls::version::TLS12], false);
        let why = refused.expect_err("a TLS 1.2 client is refused, on HTTP and gRPC alike");
        assert!(
            why.contains("ProtocolVersion")
                || why.contains("protocol version")
                || why.contains("HandshakeFailure"),
            "{why}"
        );
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn client_certificates_are_required_when_a_client_ca_is_given() {
    let dir = scratch("mtls");
    let pki = pki(&dir);
    let server = serve(&dir, true);
    let answer = get_health(&server.url, &pki, &[&rustls::version::TLS13], true)
        .expect("a client with a certificate is served");
    assert!(answer.starts_with("HTTP/1.1 200 OK"), "{answer}");
    let anonymous = get_health(&server.url, &pki, &[&rustls::version::TLS13], false);
    assert!(
        !anonymous.as_deref().is_ok_and(|a| a.contains("200 OK")),
        "a client without a certificate is not served: {anonymous:?}"
    );
    std::fs::remove_dir_all(&dir).ok();
}
